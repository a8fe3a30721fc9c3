package client

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// SignInConfig is the server's GET /auth/config: the issuer and the public
// client the CLI signs in as.
type SignInConfig struct {
	Issuer              string   `json:"issuer"`
	ClientID            string   `json:"clientId"`
	Scopes              []string `json:"scopes"`
	DeviceAuthorization bool     `json:"deviceAuthorization"`
}

// LoginOptions configures Login.
type LoginOptions struct {
	// Server is the Backlot server's URL.
	Server string
	// HTTPClient calls the server and the issuer; default a client with a
	// one-minute timeout.
	HTTPClient *http.Client
	// Device uses the device flow instead of a loopback redirect.
	Device bool
	// Open opens a URL in the user's browser; nil only prints it.
	Open func(url string) error
	// Out receives what the user must do (the URL to open, the device code).
	Out io.Writer
	// Timeout bounds the wait for the user; default 5 minutes.
	Timeout time.Duration
	// CredentialsPath is the credentials file; default CredentialsPath().
	CredentialsPath string
}

// Login signs the user in at the issuer the server names (GET
// /auth/config): the authorization code flow with PKCE, state and nonce and
// a redirect to a loopback listener on 127.0.0.1 at a random port, or the
// device flow. It verifies the ID token (signature, issuer, audience,
// nonce) and keeps the tokens for the server in the credentials file (mode
// 0600), which later commands read (StoredToken).
func Login(ctx context.Context, o LoginOptions) (Credential, error) {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: time.Minute}
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.CredentialsPath == "" {
		p, err := CredentialsPath()
		if err != nil {
			return Credential{}, err
		}
		o.CredentialsPath = p
	}
	sc, err := FetchSignInConfig(ctx, o.HTTPClient, o.Server)
	if err != nil {
		return Credential{}, err
	}
	ctx = oidc.ClientContext(context.WithValue(ctx, oauth2.HTTPClient, o.HTTPClient), o.HTTPClient)
	provider, err := oidc.NewProvider(ctx, sc.Issuer)
	if err != nil {
		return Credential{}, fmt.Errorf("issuer %s: %w", sc.Issuer, err)
	}
	var extra struct {
		Device string `json:"device_authorization_endpoint"`
	}
	_ = provider.Claims(&extra)
	endpoint := provider.Endpoint()
	endpoint.DeviceAuthURL = extra.Device
	cfg := oauth2.Config{ClientID: sc.ClientID, Endpoint: endpoint, Scopes: sc.Scopes}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess}
	}
	wait, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	var tok *oauth2.Token
	nonce := ""
	if o.Device {
		if extra.Device == "" {
			return Credential{}, fmt.Errorf("issuer %s offers no device flow; run backlot login without --device", sc.Issuer)
		}
		tok, err = deviceFlow(wait, cfg, o)
	} else {
		nonce = randomText()
		tok, err = loopbackFlow(wait, cfg, nonce, o)
	}
	if err != nil {
		return Credential{}, err
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return Credential{}, fmt.Errorf("issuer %s answered no ID token", sc.Issuer)
	}
	id, err := provider.Verifier(&oidc.Config{ClientID: sc.ClientID}).Verify(ctx, rawID)
	if err != nil {
		return Credential{}, fmt.Errorf("the issuer's ID token: %w", err)
	}
	if nonce != "" && subtle.ConstantTimeCompare([]byte(id.Nonce), []byte(nonce)) != 1 {
		return Credential{}, errors.New("the ID token's nonce is not this sign-in's")
	}
	c := Credential{Issuer: sc.Issuer, ClientID: sc.ClientID, TokenURL: endpoint.TokenURL, IDToken: rawID, Expiry: id.Expiry, RefreshToken: tok.RefreshToken}
	if err := SaveCredential(o.CredentialsPath, o.Server, c); err != nil {
		return Credential{}, err
	}
	return c, nil
}

// FetchSignInConfig returns the server's GET /auth/config.
func FetchSignInConfig(ctx context.Context, hc *http.Client, server string) (SignInConfig, error) {
	u := ServerKey(server) + "/auth/config"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return SignInConfig{}, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return SignInConfig{}, fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return SignInConfig{}, decodeAPIError(resp)
	}
	var sc SignInConfig
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&sc); err != nil {
		return SignInConfig{}, fmt.Errorf("GET %s: %w", u, err)
	}
	if sc.Issuer == "" || sc.ClientID == "" {
		return SignInConfig{}, fmt.Errorf("GET %s names no issuer or client", u)
	}
	return sc, nil
}

// loopbackFlow runs the authorization code flow with PKCE against a
// listener on 127.0.0.1 that takes the issuer's one redirect.
func loopbackFlow(ctx context.Context, cfg oauth2.Config, nonce string, o LoginOptions) (*oauth2.Token, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("loopback listener: %w", err)
	}
	defer ln.Close()
	cfg.RedirectURL = "http://" + ln.Addr().String() + "/callback"
	state, verifier := randomText(), oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	type result struct {
		code string
		err  error
	}
	done := make(chan result, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		var res result
		switch {
		case q.Get("error") != "":
			res.err = fmt.Errorf("the issuer refused the sign-in: %s %s", q.Get("error"), q.Get("error_description"))
		case subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1:
			http.Error(w, "this is not the sign-in backlot login started", http.StatusBadRequest)
			return
		default:
			res.code = q.Get("code")
		}
		msg := "Signed in to Backlot; you may close this window."
		if res.err != nil {
			msg = "Sign-in failed: " + res.err.Error()
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>backlot login</title><p>%s</p>", html.EscapeString(msg))
		select {
		case done <- res:
		default:
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()
	fmt.Fprintf(o.Out, "Open this URL to sign in:\n\n  %s\n\n", authURL)
	if o.Open != nil {
		_ = o.Open(authURL)
	}
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("no sign-in within the time allowed: %w", ctx.Err())
	case res := <-done:
		if res.err != nil {
			return nil, res.err
		}
		tok, err := cfg.Exchange(ctx, res.code, oauth2.VerifierOption(verifier))
		if err != nil {
			return nil, fmt.Errorf("the issuer did not exchange the code: %w", err)
		}
		return tok, nil
	}
}

// deviceFlow runs the device authorization flow: the user enters a code on
// another device while this one polls.
func deviceFlow(ctx context.Context, cfg oauth2.Config, o LoginOptions) (*oauth2.Token, error) {
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		return nil, fmt.Errorf("device authorization: %w", err)
	}
	to := da.VerificationURIComplete
	if to == "" {
		to = da.VerificationURI
	}
	fmt.Fprintf(o.Out, "Open %s and enter the code %s\n", da.VerificationURI, da.UserCode)
	if o.Open != nil {
		_ = o.Open(to)
	}
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		return nil, fmt.Errorf("device sign-in: %w", err)
	}
	return tok, nil
}

// refreshSkew refreshes a token this long before it expires.
const refreshSkew = 30 * time.Second

// StoredToken returns the bearer token kept for server by Login, "" when
// there is none. An expired one is refreshed with its refresh token (and
// the new one kept); without a refresh token, or when the issuer refuses,
// the error says to run backlot login again.
func StoredToken(ctx context.Context, hc *http.Client, path, server string) (string, error) {
	if path == "" {
		p, err := CredentialsPath()
		if err != nil {
			return "", err
		}
		path = p
	}
	c, ok, err := LoadCredential(path, server)
	if err != nil || !ok {
		return "", err
	}
	if time.Now().Add(refreshSkew).Before(c.Expiry) {
		return c.IDToken, nil
	}
	again := fmt.Sprintf("run backlot login --server %s", ServerKey(server))
	if c.RefreshToken == "" {
		return "", fmt.Errorf("the sign-in to %s expired at %s; %s", ServerKey(server), c.Expiry.Format(time.RFC3339), again)
	}
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	cfg := oauth2.Config{ClientID: c.ClientID, Endpoint: oauth2.Endpoint{TokenURL: c.TokenURL}}
	tok, err := cfg.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, hc), &oauth2.Token{RefreshToken: c.RefreshToken}).Token()
	if err != nil {
		return "", fmt.Errorf("refreshing the sign-in to %s: %w; %s", ServerKey(server), err, again)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return "", fmt.Errorf("refreshing the sign-in to %s: the issuer answered no ID token; %s", ServerKey(server), again)
	}
	exp, err := jwtExpiry(rawID)
	if err != nil {
		return "", err
	}
	c.IDToken, c.Expiry = rawID, exp
	if tok.RefreshToken != "" {
		c.RefreshToken = tok.RefreshToken
	}
	if err := SaveCredential(path, server, c); err != nil {
		return "", err
	}
	return c.IDToken, nil
}

func randomText() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
