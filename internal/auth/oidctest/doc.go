// Package oidctest runs a real OpenID Provider in-process for tests: the
// op package of github.com/zitadel/oidc with its example storage and login
// form, over users and clients a test names. Login drives its sign-in as a
// browser would (following redirects, submitting the login form), and
// Tokens runs the authorization code flow with PKCE for a client and
// returns the issuer's tokens. It is imported only by tests.
package oidctest
