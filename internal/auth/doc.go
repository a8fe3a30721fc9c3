// Package auth authenticates API callers, so every request
// has a principal and every write's event names who made it (the actor of
// the CloudEvents envelope).
//
// A token file has one token per line. The recommended line is the token's
// hashed form, its principal and, optionally, its groups:
//
//	sha256:HEX PRINCIPAL [GROUP,GROUP]
//
// where HEX is the SHA-256 digest of the token in hexadecimal (`backlot auth
// hash-token PRINCIPAL` prints the line of a token read on stdin; `backlot
// auth token create PRINCIPAL` makes a random token). The older line
// TOKEN PRINCIPAL, with the token in clear, still loads, and the server warns
// about it. A principal is an entity ref such as user:default/ada or
// group:default/platform, or a service name such as service:ci-pipeline; a
// group is group:[namespace/]name or [namespace/]name. Blank lines and lines
// starting with # are ignored. Only SHA-256 digests of the tokens are kept in
// memory, and a presented token is compared with every one of them in
// constant time.
//
// People sign in with OIDC (package oidcauth). An Authenticator tries a
// request's credentials in order: a static token, a bearer JWT of the
// issuer, a browser session cookie; a person resolves to a User entity of
// the catalog by a sign-in Resolver named as Backstage's are, and every
// principal's groups are expanded through parent groups by a Directory
// (package catalogdir implements it over the catalog read model).
//
// The authenticated Principal, with its groups, its credential's claims and
// how it authenticated, travels in the request's context (WithPrincipal,
// FromContext). CheckStart refuses to start a server
// that would run without an authenticator where anyone could reach it.
package auth
