// Package logtest is the contract test suite of the event.Log port. Every event-log
// adapter (the embedded SQLite log, the Kafka log, …) runs it from its own tests, so
// all adapters behave alike:
//
//	func TestContract(t *testing.T) {
//		logtest.Run(t, func(t *testing.T) event.Log { return openForTest(t) })
//	}
//
// Among the port's rules it checks the duplicate-ID rule of event.ErrDuplicateID on
// every adapter: a batch holding one ID twice is refused and writes nothing, and a
// retried append is either refused with event.ErrDuplicateID or stored again, never
// failed otherwise; Features.UniqueIDs requires the refusal.
//
// The suite also offers helpers to build valid envelopes and compare them.
package logtest
