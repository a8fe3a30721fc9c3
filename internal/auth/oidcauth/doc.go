// Package oidcauth signs people in with OpenID Connect (github.com/coreos/go-oidc
// and golang.org/x/oauth2) and authenticates API clients by the issuer's JWTs.
//
// Browsers use the authorization code flow with PKCE, state and nonce: Begin
// starts it (GET /auth/login), Finish ends it (GET /auth/callback) and sets
// the session cookie, an HttpOnly, SameSite=Lax cookie, Secure when the
// public URL is https, sealed with AES-256-GCM under a key derived from the
// deployment's secrets key, so every api process of the deployment opens the
// sessions of the others. A session expires (Config.SessionTTL). A write made
// with the session cookie carries the session's CSRF token in the
// X-Backlot-CSRF header (auth.CSRFHeader), or is refused.
//
// API clients send a JWT of the issuer as a bearer token: its signature is
// checked against the issuer's keys (JWKS), its issuer, audience (one of
// Config.Audiences) and expiry too.
//
// Either way the person resolves to a User entity of the catalog by the
// configured sign-in resolver (auth.Resolver) through an auth.Directory; a
// person with no User entity is refused. The discovery document, the keys
// and the token endpoint are fetched with Config.HTTPClient, which the server
// builds on the guarded dialer of workflows/netguard: an issuer on a
// loopback or private address must be allowed (--allow-network).
package oidcauth
