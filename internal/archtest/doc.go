// Package archtest holds no code, only tests of the import graph: the
// application services import neither net/http nor the HTTP server, and the
// Go client (package client) links no server code. Its tests ask the go
// command (go list) for each package's imports, so they see what the compiler
// sees, build tags included.
package archtest
