package oidctest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/oauth2"
	"golang.org/x/text/language"
)

// User is a person who may sign in at the Provider.
type User struct {
	// Username and Password are what the login form takes.
	Username, Password string
	// Email is the email claim (verified).
	Email string
}

// Client is a client registered at the Provider.
type Client struct {
	// ID and Secret identify it; a client without a secret is a public
	// (native) one, which may redirect to any port of 127.0.0.1.
	ID, Secret string
	// RedirectURIs are its redirect URIs.
	RedirectURIs []string
}

// Provider is a running OpenID Provider.
type Provider struct {
	// Issuer is its issuer URL; Base is where it listens (the same, but for
	// a provider started with another's issuer).
	Issuer, Base string
	users        map[string]User
}

// Start runs a Provider on a free loopback port until the test ends. With
// issuer non-empty the Provider claims that issuer while listening
// elsewhere (its own signing key): tokens it signs look like the other
// issuer's but are not.
func Start(t testing.TB, issuer string, users []User, clients []Client) *Provider {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	if issuer == "" {
		issuer = base
	}
	p := &Provider{Issuer: issuer, Base: base, users: map[string]User{}}
	us := userStore{}
	for _, u := range users {
		// The example's device flow names the user by username: IDs are
		// usernames, so both flows find the user.
		id := u.Username
		us[id] = &storage.User{ID: id, Username: u.Username, Password: u.Password, FirstName: u.Username, LastName: "Test",
			Email: u.Email, EmailVerified: true, PreferredLanguage: language.English}
		p.users[u.Username] = u
	}
	cs := map[string]*storage.Client{}
	for _, c := range clients {
		if c.Secret == "" {
			cs[c.ID] = storage.NativeClient(c.ID, c.RedirectURIs...)
		} else {
			cs[c.ID] = storage.WebClient(c.ID, c.Secret, c.RedirectURIs...)
		}
	}
	st := &claimingStorage{Storage: storage.NewStorageWithClients(us, cs)}
	srv := &http.Server{Handler: exampleop.SetupServer(issuer, st, nil, false)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return p
}

// userStore is the example storage's user store over the test's users.
type userStore map[string]*storage.User

func (u userStore) GetUserByID(id string) *storage.User { return u[id] }
func (u userStore) GetUserByUsername(name string) *storage.User {
	for _, v := range u {
		if v.Username == name {
			return v
		}
	}
	return nil
}
func (u userStore) ExampleClientID() string { return "service" }

// claimingStorage puts the profile and e-mail claims in ID tokens, as most
// issuers do when the scopes ask for them, so an ID token alone names the
// person (a bearer JWT has no userinfo to ask).
type claimingStorage struct{ *storage.Storage }

func (s *claimingStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return claimingClient{c}, nil
}

type claimingClient struct{ op.Client }

func (claimingClient) IDTokenUserinfoClaimsAssertion() bool { return true }

// GrantTypes lets a public (native) client use the device flow too.
func (c claimingClient) GrantTypes() []oidc.GrantType {
	g := c.Client.GrantTypes()
	if c.AuthMethod() == oidc.AuthMethodNone && !slices.Contains(g, oidc.GrantTypeDeviceCode) {
		g = append(slices.Clone(g), oidc.GrantTypeDeviceCode)
	}
	return g
}

// ApproveDevice signs user in on the Provider's device page for the user
// code of verificationURI (the verification_uri_complete the device flow
// answered) and allows the device.
func (p *Provider) ApproveDevice(t testing.TB, verificationURI, user string) error {
	u, err := url.Parse(verificationURI)
	if err != nil {
		return err
	}
	code := u.Query().Get("user_code")
	browser := NewBrowser()
	resp, err := browser.PostForm(p.Base+"/device/login", url.Values{"user_code": {code}, "username": {user}, "password": {p.users[user].Password}})
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("device login of %s: %d", user, resp.StatusCode)
	}
	resp, err = browser.PostForm(p.Base+"/device/confirm", url.Values{"action": {"allowed"}})
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "Device authorization allowed") {
		return fmt.Errorf("device confirm of %s: %d %s", user, resp.StatusCode, b)
	}
	return nil
}

// NewBrowser returns an HTTP client with a cookie jar that follows no
// redirect (Login follows them itself).
func NewBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Login follows redirects from start as a browser would, submits the
// Provider's login form as user when it shows, and stops at the first
// redirect to a URL for which stop is true (which it does not request), or
// at the first answer that is neither a redirect nor the login form, which
// it returns. A redirect to the issuer's host goes to the Provider's Base.
func (p *Provider) Login(t testing.TB, browser *http.Client, start, user string, stop func(*url.URL) bool) (*url.URL, *http.Response) {
	t.Helper()
	u := p.users[user]
	if u.Username == "" {
		u = User{Username: user, Password: "wrong"}
	}
	next, err := url.Parse(start)
	if err != nil {
		t.Fatal(err)
	}
	issuer, _ := url.Parse(p.Issuer)
	base, _ := url.Parse(p.Base)
	for range 20 {
		if next.Host == issuer.Host {
			next.Host = base.Host
		}
		resp, err := browser.Get(next.String())
		if err != nil {
			t.Fatalf("GET %s: %v", next, err)
		}
		if resp.StatusCode == http.StatusOK && next.Host == base.Host && next.Path == "/login/username" {
			resp.Body.Close()
			form := url.Values{"id": {next.Query().Get("authRequestID")}, "username": {u.Username}, "password": {u.Password}}
			resp, err = browser.PostForm(p.Base+"/login/username", form)
			if err != nil {
				t.Fatalf("login form: %v", err)
			}
		}
		if resp.StatusCode < 300 || resp.StatusCode > 399 {
			return next, resp
		}
		resp.Body.Close()
		loc, err := next.Parse(resp.Header.Get("Location"))
		if err != nil {
			t.Fatalf("redirect from %s: %v", next, err)
		}
		if stop != nil && stop(loc) {
			return loc, nil
		}
		next = loc
	}
	t.Fatalf("more than 20 redirects from %s", start)
	return nil, nil
}

// Tokens signs user in as the client (its first redirect URI is where the
// code goes; nothing needs to listen there) with the authorization code
// flow and PKCE, and returns the tokens; the ID token is
// tok.Extra("id_token").
func (p *Provider) Tokens(t testing.TB, c Client, user string) *oauth2.Token {
	t.Helper()
	cfg := oauth2.Config{ClientID: c.ID, ClientSecret: c.Secret, RedirectURL: c.RedirectURIs[0],
		Endpoint: oauth2.Endpoint{AuthURL: p.Base + "/auth", TokenURL: p.Base + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{"openid", "profile", "email", "offline_access"}}
	verifier := oauth2.GenerateVerifier()
	redirect, _ := url.Parse(c.RedirectURIs[0])
	loc, resp := p.Login(t, NewBrowser(), cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), user, func(u *url.URL) bool {
		return u.Host == redirect.Host && u.Path == redirect.Path
	})
	if resp != nil {
		resp.Body.Close()
		t.Fatalf("sign-in of %s stopped at %s: %d", user, loc, resp.StatusCode)
	}
	if loc.Query().Get("state") != "st" || loc.Query().Get("code") == "" {
		t.Fatalf("sign-in of %s: redirect %s", user, loc)
	}
	tok, err := cfg.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	if id, _ := tok.Extra("id_token").(string); !strings.Contains(id, ".") {
		t.Fatalf("no ID token: %v", tok)
	}
	return tok
}
