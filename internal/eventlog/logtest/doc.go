// Package logtest is the contract test suite of the event.Log port. Every event-log
// adapter (the embedded SQLite log, the Kafka log, …) runs it from its own tests, so
// all adapters behave alike:
//
//	func TestContract(t *testing.T) {
//		logtest.Run(t, func(t *testing.T) event.Log { return openForTest(t) })
//	}
//
// The suite also offers helpers to build valid envelopes and compare them.
package logtest
