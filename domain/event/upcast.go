package event

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Upcaster turns the data of one version of an event type into the data of
// the next version (vN to vN+1). It must be pure: the same input gives the
// same output, and it reads nothing but its argument.
type Upcaster func(data json.RawMessage) (json.RawMessage, error)

// Upcasters is a registry of upcasters, each from a versioned type to the
// next version of the same type. Reading an old event applies the chain
// v1 → v2 → … up to the newest registered version, so a fold written for the
// newest version reads every version ever written. The log is never
// rewritten: upcasting happens on each read, on a copy.
//
// An Upcasters is filled once (by its constructor's caller) and then only
// read; reads are safe for concurrent use, Register is not.
type Upcasters struct {
	next map[Type]step
}

// step is one registered upcaster: the version it produces and how.
type step struct {
	to Type
	fn Upcaster
}

// NewUpcasters returns an empty registry.
func NewUpcasters() *Upcasters { return &Upcasters{next: map[Type]step{}} }

// builtin holds the upcasters of Backlot's own event types, applied by
// Envelope.Decode, Upcast and Type.Latest. It is empty while every type has
// one version; a new version registers its upcaster in builtinUpcasters.
var builtin = builtinUpcasters()

// builtinUpcasters lists the upcasters of Backlot's event types, oldest first.
// Add one line per new version, for example
//
//	must(u.Register(TypeEntityUpsertedV1, TypeEntityUpserted, upcastEntityUpsertedV1))
//
// (see internal/eventschema/EVOLUTION.md).
func builtinUpcasters() *Upcasters {
	return NewUpcasters()
}

// RegisterUpcaster adds an upcaster to Backlot's own registry, the one
// Envelope.Decode, Upcast and Type.Latest apply, so every fold reads the
// version from as to. Backlot's own versions are listed in builtinUpcasters;
// this is for a test that feeds a made-up old version to the real folds. Call
// it before any event is read (from TestMain): a registration concurrent with
// reads is a data race. It refuses what Upcasters.Register refuses.
func RegisterUpcaster(from, to Type, fn Upcaster) error { return builtin.Register(from, to, fn) }

// Register adds the upcaster from one version of a type to the next. It
// refuses a pair that is not vN and vN+1 of the same type name, a version
// that already has an upcaster, and a nil function.
func (u *Upcasters) Register(from, to Type, fn Upcaster) error {
	if fn == nil {
		return fmt.Errorf("event: upcaster %s → %s: the function is nil", from, to)
	}
	fb, fv, err := SplitVersion(from)
	if err != nil {
		return fmt.Errorf("event: upcaster %s → %s: from: %w", from, to, err)
	}
	tb, tv, err := SplitVersion(to)
	if err != nil {
		return fmt.Errorf("event: upcaster %s → %s: to: %w", from, to, err)
	}
	if fb != tb || tv != fv+1 {
		return fmt.Errorf("event: upcaster %s → %s: must go from one version of a type to the next (%s.v%d → %s.v%d)", from, to, fb, fv, fb, fv+1)
	}
	if _, dup := u.next[from]; dup {
		return fmt.Errorf("event: upcaster %s → %s: %s already has an upcaster", from, to, from)
	}
	u.next[from] = step{to: to, fn: fn}
	return nil
}

// Latest returns the newest version t upcasts to: t itself when no upcaster
// starts at t. A fold dispatches on Latest of an event's type, so an old
// version reaches the code written for the new one.
func (u *Upcasters) Latest(t Type) Type {
	for {
		s, ok := u.next[t]
		if !ok {
			return t
		}
		t = s.to
	}
}

// UpcastData applies the chain of upcasters from the event's type to the
// newest version and returns that version's type and data; an event of the
// newest version comes back unchanged. An error names the event, the step and
// what the upcaster said.
func (u *Upcasters) UpcastData(e *Envelope) (Type, json.RawMessage, error) {
	t, data := Type(e.Type), e.Data
	for {
		s, ok := u.next[t]
		if !ok {
			return t, data, nil
		}
		out, err := s.fn(data)
		if err != nil {
			return "", nil, fmt.Errorf("event %s (%s): upcast %s → %s: %w", e.ID, e.Type, t, s.to, err)
		}
		t, data = s.to, out
	}
}

// Upcast returns a copy of the envelope as the newest version of its type:
// the type, the dataschema and the data replaced, every other attribute (id,
// time, position, …) kept. The envelope given is not changed.
func (u *Upcasters) Upcast(e Envelope) (Envelope, error) {
	t, data, err := u.UpcastData(&e)
	if err != nil {
		return Envelope{}, err
	}
	if t == Type(e.Type) {
		return e, nil
	}
	e.Type, e.DataSchema, e.Data = string(t), t.SchemaURI(), data
	return e, nil
}

// Decode upcasts the envelope's data to the newest version of its type and
// unmarshals it into v, naming the event on failure.
func (u *Upcasters) Decode(e *Envelope, v any) error {
	t, data, err := u.UpcastData(e)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		if t != Type(e.Type) {
			return fmt.Errorf("event %s (%s read as %s): decode data: %w", e.ID, e.Type, t, err)
		}
		return fmt.Errorf("event %s (%s): decode data: %w", e.ID, e.Type, err)
	}
	return nil
}

// Upcast returns the envelope as the newest version of its type with
// Backlot's own upcasters (see Upcasters.Upcast).
func Upcast(e Envelope) (Envelope, error) { return builtin.Upcast(e) }

// Latest returns the newest version of t that Backlot's upcasters reach; t
// itself while t has one version.
func (t Type) Latest() Type { return builtin.Latest(t) }

// SplitVersion splits a versioned type name (backlot.entity.upserted.v1) into
// its base (backlot.entity.upserted) and its version (1). Published types start
// at v1; v0 names a draft that never left a test.
func SplitVersion(t Type) (base string, version int, err error) {
	i := strings.LastIndex(string(t), ".v")
	if i <= 0 {
		return "", 0, fmt.Errorf("type %q has no version suffix .vN", t)
	}
	n, err := strconv.Atoi(string(t)[i+2:])
	if err != nil || n < 0 || strings.HasPrefix(string(t)[i+2:], "+") {
		return "", 0, fmt.Errorf("type %q: version %q is not a number", t, string(t)[i+2:])
	}
	return string(t)[:i], n, nil
}
