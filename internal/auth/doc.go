// Package auth authenticates API callers with bearer tokens, so every request
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
// The authenticated Principal, with its groups, travels in the request's
// context (WithPrincipal, FromContext). CheckStart refuses to start a server
// that would run without an authenticator where anyone could reach it.
package auth
