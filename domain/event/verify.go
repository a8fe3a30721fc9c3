package event

// Problem is one thing a verification of the log's hash chain found wrong.
type Problem struct {
	// Position is where the problem is.
	Position int64 `json:"position"`
	// EventID is the event at Position, or "" when it is missing.
	EventID string `json:"eventId,omitempty"`
	// Kind is missing (positions skipped: events deleted), altered (the event
	// does not hash to its stored link: changed or inserted), moved (it chains
	// from an event that no longer stands before it), or checkpoint (the chain
	// differs from a link recorded outside the log).
	Kind string `json:"kind"`
	// Detail says what was expected and found.
	Detail string `json:"detail"`
}

// VerifyReport is what a verification of the log's hash chain found.
type VerifyReport struct {
	// Events is how many events were read.
	Events int64 `json:"events"`
	// Head is the position of the last event and HeadLink the chain's link there,
	// recomputed from the events: record them elsewhere and pass them back as a
	// checkpoint to detect a log rewritten wholesale.
	Head     int64  `json:"head"`
	HeadLink string `json:"headLink"`
	// Problems lists what does not match, in log order; the first is where the
	// log stops being what was written.
	Problems []Problem `json:"problems"`
}

// OK reports whether nothing was found wrong.
func (r VerifyReport) OK() bool { return len(r.Problems) == 0 }
