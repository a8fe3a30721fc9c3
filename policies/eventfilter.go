package policies

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"

	"backlot.dev/backlot/domain/event"
)

// EventFilterCostLimit bounds the work one evaluation of an event filter may do.
const EventFilterCostLimit = 100_000

// MaxFilterLength bounds the text of a filter.
const MaxFilterLength = 4096

var (
	eventEnvOnce sync.Once
	eventEnv     *cel.Env
	eventEnvErr  error
)

// eventFilterEnv is the environment of event filters, built once: one variable,
// event, the CloudEvent as a map (id, source, type, subject, time, actor,
// commit, correlationid, and data as the decoded JSON).
func eventFilterEnv() (*cel.Env, error) {
	eventEnvOnce.Do(func() {
		eventEnv, eventEnvErr = cel.NewEnv(cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)))
	})
	return eventEnv, eventEnvErr
}

// EventFilter is a compiled CEL expression over an event that answers whether
// it passes, for example
//
//	event.type == "backlot.entity.upserted.v1" && event.data.entity.spec.owner == "team-a"
type EventFilter struct {
	expr string
	prg  cel.Program
}

// CompileEventFilter compiles and type-checks a filter; it must yield a bool
// (a bare field such as event.data.flag is of unknown type: compare it,
// event.data.flag == true).
// An empty expression passes every event.
func CompileEventFilter(expr string) (*EventFilter, error) {
	if expr == "" {
		return &EventFilter{}, nil
	}
	if len(expr) > MaxFilterLength {
		return nil, fmt.Errorf("filter: longer than %d characters", MaxFilterLength)
	}
	env, err := eventFilterEnv()
	if err != nil {
		return nil, err
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, iss.Err())
	}
	if !ast.OutputType().IsExactType(types.BoolType) {
		return nil, fmt.Errorf("filter %q: yields %s, want bool", expr, ast.OutputType())
	}
	prg, err := env.Program(ast, cel.CostLimit(EventFilterCostLimit))
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	return &EventFilter{expr: expr, prg: prg}, nil
}

// String returns the expression.
func (f *EventFilter) String() string { return f.expr }

// Match evaluates the filter on an event. A filter that fails on an event (a
// missing field, the cost limit) does not match it, and says why.
func (f *EventFilter) Match(ev *event.Envelope) (bool, error) {
	if f.prg == nil {
		return true, nil
	}
	var data any
	if err := json.Unmarshal(ev.Data, &data); err != nil {
		return false, fmt.Errorf("event %s: data: %w", ev.ID, err)
	}
	out, _, err := f.prg.Eval(map[string]any{"event": map[string]any{
		"id": ev.ID, "source": ev.Source, "type": ev.Type, "subject": ev.Subject,
		"time": ev.Time.UTC().Format(time.RFC3339Nano), "actor": ev.Actor, "commit": ev.Commit,
		"correlationid": ev.CorrelationID, "data": data,
	}})
	if err != nil {
		return false, fmt.Errorf("filter on event %s: %w", ev.ID, err)
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, errors.New("filter: the expression did not yield a bool")
	}
	return b, nil
}
