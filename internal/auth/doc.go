// Package auth authenticates API callers with bearer tokens, so every write's
// event names who made it (the actor of the CloudEvents envelope).
//
// A token file has one token per line, followed by the principal it stands
// for, an entity ref such as user:default/ada or group:default/platform, or a
// service name such as service:ci-pipeline. Blank lines and lines starting with
// # are ignored. Only SHA-256 digests of the tokens are kept in memory, and a
// presented token is compared with them in constant time.
package auth
