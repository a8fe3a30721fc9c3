package golden

import (
	"context"
	"fmt"

	"backlot.dev/backlot/domain/event"
)

// Applier is a read model that folds events: the Apply of the catalog,
// history and badge store ports.
type Applier interface {
	// Apply folds the events in one transaction with their positions.
	Apply(ctx context.Context, events []event.Envelope) error
}

// DefaultBatch is how many events Replay hands to Apply at once: small
// enough that a log of a few hundred events crosses many batch boundaries,
// as a projector tailing the log does.
const DefaultBatch = 16

// Replay folds the events into each target in order, batch events at a time
// (DefaultBatch when batch is zero or less). An error names the target and
// the positions of the batch.
func Replay(ctx context.Context, events []event.Envelope, batch int, targets map[string]Applier) error {
	if batch <= 0 {
		batch = DefaultBatch
	}
	for _, name := range sortedKeys(targets) {
		for i := 0; i < len(events); i += batch {
			b := events[i:min(i+batch, len(events))]
			// Each target gets its own copy: a store may keep or change what
			// it is given.
			cp := append([]event.Envelope(nil), b...)
			if err := targets[name].Apply(ctx, cp); err != nil {
				return fmt.Errorf("replay into the %s read model, events at positions %d to %d: %w", name, b[0].Position, b[len(b)-1].Position, err)
			}
		}
	}
	return nil
}
