package auth

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/fault"
)

// dir is a Directory of one User and a two-level group tree, recording
// what it was asked.
type dir struct{ fail bool }

func (d dir) FindUser(_ context.Context, by UserLookup) (string, error) {
	if by.Email == "ada@example.com" || by.Name == "ada" {
		return "user:default/ada", nil
	}
	return "", ErrNoUser
}

func (d dir) Groups(_ context.Context, principal string, seeds []string) ([]string, error) {
	if d.fail {
		return nil, errors.New("catalog down")
	}
	out := slices.Clone(seeds)
	if slices.Contains(seeds, "group:default/team") {
		out = append(out, "group:default/org")
	}
	return out, nil
}

const jwtShaped = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl"

func TestAuthenticatorOrder(t *testing.T) {
	var tokens Tokens
	if err := tokens.Add("static-token-0123456789", "service:ci", "team"); err != nil {
		t.Fatal(err)
	}
	jwtCalls := 0
	a := &Authenticator{
		Tokens: &tokens,
		JWT: func(_ context.Context, raw string) (Principal, error) {
			jwtCalls++
			if raw == jwtShaped {
				return Principal{Ref: "user:default/ada", Method: MethodJWT}, nil
			}
			return Principal{}, ErrUnauthenticated
		},
		Session: func(r *http.Request) (Principal, bool, error) {
			if _, err := r.Cookie("s"); err != nil {
				return Principal{}, false, nil
			}
			return Principal{Ref: "user:default/bo", Method: MethodSession}, true, nil
		},
		Directory: dir{},
	}
	req := func(authz string, cookie bool) *http.Request {
		r, _ := http.NewRequest("GET", "/", nil)
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		if cookie {
			r.AddCookie(&http.Cookie{Name: "s", Value: "x"})
		}
		return r
	}
	for _, c := range []struct {
		name     string
		r        *http.Request
		ref, how string
		groups   []string
	}{
		{"static token, groups expanded", req("Bearer static-token-0123456789", true), "service:ci", MethodToken, []string{"group:default/team", "group:default/org"}},
		{"JWT", req("Bearer "+jwtShaped, true), "user:default/ada", MethodJWT, []string{}},
		{"session", req("", true), "user:default/bo", MethodSession, []string{}},
	} {
		p, err := a.Identify(c.r)
		if err != nil || p.Ref != c.ref || p.Method != c.how || !slices.Equal(p.Groups, c.groups) && len(c.groups)+len(p.Groups) > 0 {
			t.Errorf("%s: %+v %v", c.name, p, err)
		}
	}
	// An unknown token that is no JWT never reaches the JWT check; a bearer
	// token that fails is not saved by a session cookie.
	jwtCalls = 0
	for _, r := range []*http.Request{req("Bearer unknown-token-0123456789", true), req("Basic abc", true), req("", false)} {
		if _, err := a.Identify(r); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%v: %v, want unauthenticated", r.Header, err)
		}
	}
	if jwtCalls != 0 {
		t.Errorf("the JWT check ran %d times for tokens that are not JWTs", jwtCalls)
	}
	a.Directory = dir{fail: true}
	if _, err := a.Identify(req("Bearer static-token-0123456789", false)); fault.Of(err) != fault.Unavailable {
		t.Errorf("catalog down: %v, want unavailable", err)
	}
	if (&Authenticator{}).Configured() || !a.Configured() {
		t.Error("Configured")
	}
}

func TestResolvers(t *testing.T) {
	claims := map[string]any{"email": "ada@example.com", "email_verified": true, "preferred_username": "ada"}
	for _, r := range Resolvers {
		ref, err := r.Resolve(t.Context(), dir{}, claims)
		if err != nil || ref != "user:default/ada" {
			t.Errorf("%s: %q %v", r, ref, err)
		}
	}
	if got, err := ResolverEmailLocalPart.Lookup(claims); err != nil || got != (UserLookup{Name: "ada"}) {
		t.Errorf("local part: %+v %v", got, err)
	}
	for _, c := range []struct {
		r      Resolver
		claims map[string]any
		want   string
	}{
		{ResolverEmail, map[string]any{"sub": "x"}, "no email claim"},
		{ResolverEmail, map[string]any{"email": "ada@example.com", "email_verified": false}, "not verified"},
		{ResolverUsername, map[string]any{"email": "ada@example.com"}, "no preferred_username claim"},
		{ResolverEmailLocalPart, map[string]any{"email": "@example.com"}, "no local part"},
		{ResolverEmail, map[string]any{"email": "zed@example.com"}, `no User entity of the catalog has spec.profile.email "zed@example.com" (sign-in resolver emailMatchingUserEntityProfileEmail)`},
		{ResolverUsername, map[string]any{"preferred_username": "zed"}, "no User entity of the catalog has user:default/zed"},
	} {
		_, err := c.r.Resolve(t.Context(), dir{}, c.claims)
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s %v: %v, want %q", c.r, c.claims, err, c.want)
		}
	}
	if _, err := ParseResolver("byShoeSize"); err == nil || !strings.Contains(err.Error(), string(ResolverEmail)) {
		t.Errorf("unknown resolver: %v", err)
	}
	if r, err := ParseResolver(""); err != nil || r != ResolverEmail {
		t.Errorf("default resolver: %v %v", r, err)
	}
}

func TestLooksLikeJWT(t *testing.T) {
	for tok, want := range map[string]bool{jwtShaped: true, "a.b": false, "a..c": false, "static-token-0123456789": false, "a.b.c!": false} {
		if LooksLikeJWT(tok) != want {
			t.Errorf("LooksLikeJWT(%q) != %v", tok, want)
		}
	}
}
