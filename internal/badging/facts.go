package badging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/projector"
)

// MaxFactsBytes bounds the JSON of one item's facts.
const MaxFactsBytes = 64 << 10

// MaxFactItems bounds the items of one report.
const MaxFactItems = 1000

// sourceName is what a source's name may be.
var sourceName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

// FactItem is one entry of a report: what a source observed about an entity.
type FactItem struct {
	// Entity is the entity's ref (kind:namespace/name; namespace defaults to default).
	Entity string `json:"entity"`
	// Source names the reporting system (ci, coverage, security, …).
	Source string `json:"source"`
	// Facts is a JSON object of facts by name.
	Facts json.RawMessage `json:"facts"`
	// ObservedAt is when the source observed them; default now.
	ObservedAt time.Time `json:"observedAt"`
}

// InputError is a report or a schema that was refused: each problem names the
// item (items[2]), the entity and the field.
type InputError struct {
	Problems []string
}

// Error joins the problems.
func (e *InputError) Error() string { return strings.Join(e.Problems, "; ") }

// Is reports whether target is fault.Invalid.
func (e *InputError) Is(target error) bool { return target == fault.Invalid }

// UnavailableError is a write the event log did not take.
type UnavailableError struct{ Err error }

// Error names the cause.
func (e *UnavailableError) Error() string { return "event log unavailable: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *UnavailableError) Unwrap() error { return e.Err }

// Is reports whether target is fault.Unavailable.
func (e *UnavailableError) Is(target error) bool { return target == fault.Unavailable }

// FactServiceConfig configures a FactService; every field but Evaluated is required.
type FactServiceConfig struct {
	// Log takes the facts events.
	Log event.PartitionedLog
	// Catalog says which entities exist.
	Catalog catalogstore.Reader
	// Store holds the declared schemas; Waiter is its projector, waited on so a
	// report answers once its facts are readable.
	Store  badges.Reader
	Waiter projector.Waiter
	// Evaluated, when set, waits until the badges reflect a position; a report
	// waits for it up to EvaluationWait, so a reader sees the new badges.
	// The evaluator handles a position only once the badge read model has
	// folded it (Evaluator.Step), so a report whose Evaluated returns nil
	// does not wait on Waiter as well.
	Evaluated func(ctx context.Context, pos event.Positions) error
	// EvaluationWait bounds that wait; default 5s.
	EvaluationWait time.Duration
}

// FactService takes facts and fact source schemas. It is safe for concurrent use.
type FactService struct {
	cfg FactServiceConfig

	mu      sync.Mutex
	schemas map[string]compiledSchema
}

type compiledSchema struct {
	raw    string
	schema *jsonschema.Schema
}

// NewFactService returns a FactService.
func NewFactService(cfg FactServiceConfig) (*FactService, error) {
	if cfg.Log == nil || cfg.Catalog == nil || cfg.Store == nil || cfg.Waiter == nil {
		return nil, errors.New("badging: FactServiceConfig needs Log, Catalog, Store and Waiter")
	}
	if cfg.EvaluationWait <= 0 {
		cfg.EvaluationWait = 5 * time.Second
	}
	return &FactService{cfg: cfg, schemas: map[string]compiledSchema{}}, nil
}

// Report checks every item (the entity exists, the source is named well and
// is not a built-in one, the facts are a JSON object within MaxFactsBytes
// that follows its source's schema) and appends one facts event per item, all
// or none. It answers once the facts are readable, and the badges re-rated
// (bounded by EvaluationWait). Refused items come back as one *InputError
// naming each.
func (s *FactService) Report(ctx context.Context, actor string, items []FactItem) (event.Positions, error) {
	if len(items) == 0 {
		return nil, &InputError{Problems: []string{"items: is empty; send at least one {entity, source, facts}"}}
	}
	if len(items) > MaxFactItems {
		return nil, &InputError{Problems: []string{fmt.Sprintf("items: %d items, at most %d per request", len(items), MaxFactItems)}}
	}
	var problems []string
	refs := make([]catalog.Ref, len(items))
	keys := make([]string, 0, len(items))
	for i, it := range items {
		where := fmt.Sprintf("items[%d]", i)
		ref, err := catalog.ParseRef(it.Entity, catalog.RefDefaults{})
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s.entity: %q is not an entity ref (kind:namespace/name): %v", where, it.Entity, err))
			continue
		}
		refs[i] = ref
		keys = append(keys, ref.Key())
	}
	views, err := s.cfg.Catalog.ByKeys(ctx, keys)
	if err != nil {
		return nil, err
	}
	exists := map[string]*catalogstore.EntityView{}
	for _, v := range views {
		if v != nil {
			exists[v.Key] = v
		}
	}
	now := time.Now().UTC()
	events := make([]event.Envelope, 0, len(items))
	for i, it := range items {
		if refs[i].IsZero() {
			continue
		}
		where := fmt.Sprintf("items[%d] (%s, source %q)", i, refs[i].Key(), it.Source)
		v := exists[refs[i].Key()]
		switch {
		case v == nil:
			problems = append(problems, fmt.Sprintf("%s.entity: no entity %s in the catalog", where, refs[i].Key()))
			continue
		case !sourceName.MatchString(it.Source):
			problems = append(problems, fmt.Sprintf("%s.source: must match %s", where, sourceName))
			continue
		case it.Source == SourceCatalog || it.Source == SourceRepo:
			problems = append(problems, fmt.Sprintf("%s.source: %q is reported by Backlot's built-in collector", where, it.Source))
			continue
		}
		facts := bytes.TrimSpace(it.Facts)
		if len(facts) == 0 || facts[0] != '{' {
			problems = append(problems, fmt.Sprintf("%s.facts: must be a JSON object of facts by name", where))
			continue
		}
		if len(facts) > MaxFactsBytes {
			problems = append(problems, fmt.Sprintf("%s.facts: %d bytes, at most %d", where, len(facts), MaxFactsBytes))
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal(facts, &doc); err != nil {
			problems = append(problems, fmt.Sprintf("%s.facts: %v", where, err))
			continue
		}
		if err := s.check(ctx, it.Source, facts); err != nil {
			problems = append(problems, fmt.Sprintf("%s.facts: %v", where, err))
			continue
		}
		canonical, _ := json.Marshal(doc)
		at := it.ObservedAt
		if at.IsZero() {
			at = now
		}
		ev, err := event.New(event.TypeFactsReported, v.Key, event.FactsReported{Entity: v.Ref, Source: it.Source, Facts: canonical, ObservedAt: at.UTC()},
			event.Meta{Actor: actor, Time: now})
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
	if len(problems) > 0 {
		return nil, &InputError{Problems: problems}
	}
	return s.append(ctx, events)
}

// append writes the events and waits until they are readable and rated.
func (s *FactService) append(ctx context.Context, events []event.Envelope) (event.Positions, error) {
	if _, err := s.cfg.Log.Append(ctx, events); err != nil {
		return nil, &UnavailableError{Err: err}
	}
	want := event.PositionsOf(events)
	event.RecordToken(ctx, want)
	if s.cfg.Evaluated != nil && s.evaluated(ctx, want) {
		// Rated, so folded: the evaluator rates a position once the
		// badge read model has folded it. One wait instead of two in
		// turn: in serve each is a poll of PostgreSQL from the api
		// process, and the second started only once the first saw the
		// fold.
		return want, nil
	}
	if err := s.cfg.Waiter.WaitFor(ctx, want); err != nil {
		return nil, &UnavailableError{Err: fmt.Errorf("badge read model: %w", err)}
	}
	return want, nil
}

// evaluated waits, at most EvaluationWait, until the badges reflect want,
// and reports whether they do. A report whose badges do not follow in time
// answers once its facts are readable.
func (s *FactService) evaluated(ctx context.Context, want event.Positions) bool {
	wctx, cancel := context.WithTimeout(ctx, s.cfg.EvaluationWait)
	defer cancel()
	return s.cfg.Evaluated(wctx, want) == nil
}

// DeclareSource records the JSON Schema the facts of source must follow from
// now on (null lifts it). The schema must compile.
func (s *FactService) DeclareSource(ctx context.Context, actor, source string, schema json.RawMessage) (event.Positions, error) {
	if !sourceName.MatchString(source) {
		return nil, &InputError{Problems: []string{fmt.Sprintf("source: %q must match %s", source, sourceName)}}
	}
	if source == SourceCatalog || source == SourceRepo {
		return nil, &InputError{Problems: []string{fmt.Sprintf("source: %q is reported by Backlot's built-in collector", source)}}
	}
	schema = bytes.TrimSpace(schema)
	if len(schema) == 0 {
		return nil, &InputError{Problems: []string{"schema: is missing; send a JSON Schema, or null to lift it"}}
	}
	if string(schema) != "null" {
		if _, err := compileSchema(source, schema); err != nil {
			return nil, &InputError{Problems: []string{"schema: " + err.Error()}}
		}
	}
	ev, err := event.New(event.TypeFactSourceDeclared, event.FactSourceSubject(source), event.FactSourceDeclared{Source: source, Schema: schema}, event.Meta{Actor: actor})
	if err != nil {
		return nil, err
	}
	return s.append(ctx, []event.Envelope{ev})
}

// check validates facts against the schema the source declared, if any.
func (s *FactService) check(ctx context.Context, source string, facts []byte) error {
	raw, err := s.cfg.Store.FactSource(ctx, source)
	if errors.Is(err, badges.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	s.mu.Lock()
	c, ok := s.schemas[source]
	s.mu.Unlock()
	if !ok || c.raw != string(raw) {
		sch, err := compileSchema(source, raw)
		if err != nil {
			return fmt.Errorf("the schema of source %s does not compile: %w", source, err)
		}
		c = compiledSchema{raw: string(raw), schema: sch}
		s.mu.Lock()
		s.schemas[source] = c
		s.mu.Unlock()
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(facts))
	if err != nil {
		return err
	}
	if err := c.schema.Validate(doc); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return fmt.Errorf("do not follow the schema of source %s: %s", source, describe(ve))
		}
		return err
	}
	return nil
}

var printer = message.NewPrinter(language.English)

// describe flattens a validation error to "at /coverage: want number, got string" lines.
func describe(ve *jsonschema.ValidationError) string {
	var parts []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			parts = append(parts, fmt.Sprintf("at /%s: %s", strings.Join(e.InstanceLocation, "/"), e.ErrorKind.LocalizedString(printer)))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return strings.Join(parts, ", ")
}

// compileSchema compiles a source's schema, loading nothing from outside.
func compileSchema(source string, raw []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	if _, ok := doc.(map[string]any); !ok {
		return nil, errors.New("a JSON Schema is an object")
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(jsonschema.SchemeURLLoader{})
	url := "urn:backlot:factsource:" + source
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
}
