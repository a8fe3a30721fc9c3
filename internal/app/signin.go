package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"backlot.dev/backlot/internal/auth"
	"backlot.dev/backlot/internal/auth/catalogdir"
	"backlot.dev/backlot/internal/auth/oidcauth"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/workflows/netguard"
)

// signInDeps are what the api role authenticates with.
type signInDeps struct {
	// AuthTokens is the static token file; "" for none.
	AuthTokens string
	// OIDC are the issuer's settings; an empty issuer turns OIDC off.
	OIDC oidcauth.Settings
	// SessionKey seals the browser sessions (the secrets key).
	SessionKey []byte
	// Guard dials the issuer.
	Guard *netguard.Guard
	// Catalog resolves people and groups.
	Catalog catalogstore.Reader
	// Directory finds people and their groups; default a catalogdir over Catalog.
	Directory auth.Directory
	// Now is the clock of tokens and sessions; nil is time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// oidcDiscoveryTimeout bounds the issuer's discovery at start.
const oidcDiscoveryTimeout = 30 * time.Second

// newAuthenticator builds the api's authenticator: the static tokens, then
// the issuer's JWTs, then the browser session, with groups expanded through
// the catalog. It returns nil identify (no authentication) when neither
// tokens nor an issuer are configured, and the sign-in to serve when an
// issuer is.
func newAuthenticator(d signInDeps) (func(*http.Request) (auth.Principal, error), *oidcauth.Provider, error) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Directory == nil {
		d.Directory = catalogdir.New(d.Catalog, 0)
	}
	a := &auth.Authenticator{Directory: d.Directory}
	if d.AuthTokens != "" {
		t, err := auth.LoadTokens(d.AuthTokens)
		if err != nil {
			return nil, nil, err
		}
		if n := t.ClearTokens(); n > 0 {
			d.Logger.Warn(auth.ClearWarning, "file", d.AuthTokens, "clearTokens", n)
		}
		a.Tokens = t
	}
	var provider *oidcauth.Provider
	if d.OIDC.Enabled() {
		secret := ""
		if d.OIDC.ClientSecretFile != "" {
			raw, err := os.ReadFile(d.OIDC.ClientSecretFile)
			if err != nil {
				return nil, nil, fmt.Errorf("--oidc-client-secret-file: %w", err)
			}
			secret = strings.TrimSpace(string(raw))
		}
		ctx, cancel := context.WithTimeout(context.Background(), oidcDiscoveryTimeout)
		defer cancel()
		var err error
		provider, err = oidcauth.New(ctx, oidcauth.Config{
			Settings: d.OIDC, ClientSecret: secret, SessionKey: d.SessionKey, Directory: a.Directory,
			HTTPClient: netguard.NewClient(d.Guard, 30*time.Second), Now: d.Now, Logger: d.Logger,
		})
		if err != nil {
			return nil, nil, err
		}
		a.JWT, a.Session = provider.VerifyJWT, provider.Session
		d.Logger.Info("oidc sign-in", "issuer", d.OIDC.Issuer, "clientId", d.OIDC.ClientID, "resolver", d.OIDC.Resolver)
	}
	if !a.Configured() {
		return nil, nil, nil
	}
	return a.Identify, provider, nil
}

// devPublicURL is the URL browsers reach backlot dev at when --public-url
// is not given: http:// and the listen address, with localhost for an
// unspecified host.
func devPublicURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
