package oidcauth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"backlot.dev/backlot/internal/auth"
)

// DefaultSessionTTL is how long a browser session lasts when
// Config.SessionTTL is zero.
const DefaultSessionTTL = 8 * time.Hour

// loginTTL bounds the time between GET /auth/login and the issuer's
// redirect back to /auth/callback.
const loginTTL = 10 * time.Minute

// Settings are the OIDC flags of backlot dev and of the api role of backlot
// serve (--oidc-issuer, --oidc-client-id, --oidc-client-secret-file,
// --oidc-cli-client-id, --oidc-audience, --oidc-resolver, --public-url).
type Settings struct {
	// Issuer is the OpenID Provider's issuer URL; empty turns OIDC off.
	Issuer string
	// ClientID and ClientSecretFile are the server's client at the issuer
	// (a confidential web client whose redirect URI is PublicURL +
	// /auth/callback). The file holds the secret alone.
	ClientID         string
	ClientSecretFile string
	// CLIClientID is the public (native) client `backlot login` uses, with
	// a loopback redirect (http://127.0.0.1/callback, any port) or the
	// device flow; default ClientID.
	CLIClientID string
	// Audiences are the audiences a bearer JWT may carry (one is enough);
	// default ClientID and CLIClientID.
	Audiences []string
	// Resolver names the sign-in resolver (auth.Resolvers); default
	// emailMatchingUserEntityProfileEmail.
	Resolver string
	// PublicURL is the server's URL as browsers reach it, e.g.
	// https://backlot.example.com; the callback is PublicURL/auth/callback.
	// Cookies are Secure when it is https.
	PublicURL string
}

// Enabled reports whether an issuer is configured.
func (s Settings) Enabled() bool { return s.Issuer != "" }

// Validate reports the first setting that is missing or malformed, naming
// its flag.
func (s Settings) Validate() error {
	if !s.Enabled() {
		return nil
	}
	u, err := url.Parse(s.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("--oidc-issuer %q: want an http or https URL", s.Issuer)
	}
	if s.ClientID == "" {
		return errors.New("--oidc-issuer needs --oidc-client-id")
	}
	if _, err := auth.ParseResolver(s.Resolver); err != nil {
		return fmt.Errorf("--oidc-resolver: %w", err)
	}
	if s.PublicURL == "" {
		return errors.New("--oidc-issuer needs --public-url, the URL browsers reach the server at (the callback is PUBLIC_URL/auth/callback)")
	}
	p, err := url.Parse(s.PublicURL)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || (p.Path != "" && p.Path != "/") {
		return fmt.Errorf("--public-url %q: want an http or https URL without a path", s.PublicURL)
	}
	return nil
}

func (s *Settings) setDefaults() {
	s.PublicURL = strings.TrimRight(s.PublicURL, "/")
	if s.CLIClientID == "" {
		s.CLIClientID = s.ClientID
	}
	if len(s.Audiences) == 0 {
		s.Audiences = []string{s.ClientID}
		if s.CLIClientID != s.ClientID {
			s.Audiences = append(s.Audiences, s.CLIClientID)
		}
	}
}

// Config configures New.
type Config struct {
	Settings
	// ClientSecret is the server's client secret (read from
	// ClientSecretFile by the caller); empty for a public client.
	ClientSecret string
	// SessionKey seals the session cookies: every api process of a
	// deployment needs the same (the secrets key, BACKLOT_SECRETS_KEY). It
	// is never logged.
	SessionKey []byte
	// SessionTTL is a browser session's lifetime; default DefaultSessionTTL.
	SessionTTL time.Duration
	// Directory resolves people to User entities.
	Directory auth.Directory
	// HTTPClient fetches discovery, keys and tokens from the issuer; the
	// server passes a netguard client. Default http.DefaultClient.
	HTTPClient *http.Client
	// Now is the clock tokens and sessions are checked against; default
	// time.Now.
	Now func() time.Time
	// Logger receives sign-ins and refusals; default slog.Default().
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	c.Settings.setDefaults()
	if c.SessionTTL <= 0 {
		c.SessionTTL = DefaultSessionTTL
	}
	if c.HTTPClient == nil {
		c.HTTPClient = http.DefaultClient
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}
