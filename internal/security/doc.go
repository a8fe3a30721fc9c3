// Package security holds Backlot's security suite, and nothing else: its tests
// build the backlot binary, start `backlot dev` and `backlot serve` (an api
// process, a worker process and `backlot temporal serve`, on Kafka and
// PostgreSQL) as an operator would, and perform every attack listed at the
// top of issue 14 ("Safe by default") against both, asserting that each is
// refused with the documented error: its status, its error name and a
// message naming the reason.
//
// Both targets read one token file of five principals (harness_test.go): the
// operator (service:secsuite, in the platform and auditors groups), two
// developers of two teams, the approver a gated template names, and an
// auditor. The permission attacks (permissions_test.go) sign in as each and
// read every refusal back from the audit trail as the auditor.
//
// The attacks are one table (attacks_test.go), one entry per sentence of the
// issue, quoted; `go test -v ./internal/security` prints each attack and its
// outcome in each mode. The package links nothing into the product.
package security
