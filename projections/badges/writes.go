package badges

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// FactRow is the row of the facts of one entity from one source, as the last
// facts event of a batch about them left it.
type FactRow struct {
	Entity, Source string // Entity is a key (Key)
	Facts          string
	ObservedAt     time.Time
	Partition      int32
	Position       int64
}

// SourceRow is a fact source's schema as the last declaration of a batch left
// it; Drop lifts the schema.
type SourceRow struct {
	Source, Schema string
	Drop           bool
	Partition      int32
	Position       int64
}

// ChangeRow is one badge event: a row of the changes, in log order.
type ChangeRow struct {
	Partition      int32
	Position, Time int64 // Time in Unix nanoseconds
	EventID, Type  string
	Policy, Entity string // Entity is a key (Key)
	Data           string
}

// VerdictRow is an entity's verdict under a policy as the last badge event
// of a batch about them left it; Drop removes it. Partition and Position
// name the event, whose ChangeRow holds the verdict itself.
type VerdictRow struct {
	Policy, Entity       string // Entity is a key (Key)
	Drop                 bool
	Level, Owner, Digest string // Owner in lower case
	Partition            int32
	Position             int64
}

// Writes is what a batch of ops changes in a badge read model, ready to write
// in bulk: the facts, sources and verdicts reduced to the last word on each
// row and sorted by their primary keys, the changes in log order. Writing
// them in any order leaves the read model as folding the ops one at a time
// does, since each row of a table appears once.
type Writes struct {
	Facts    []FactRow
	Sources  []SourceRow
	Changes  []ChangeRow
	Verdicts []VerdictRow
}

// PlanWrites reduces decoded ops (Decode) to the rows they write.
func PlanWrites(ops []Op) Writes {
	var w Writes
	facts := map[[2]string]int{}
	sources := map[string]int{}
	verdicts := map[[2]string]int{}
	for _, o := range ops {
		ev := o.Ev
		switch {
		case o.Facts != nil:
			r := FactRow{Entity: Key(o.Facts.Entity), Source: o.Facts.Source, Facts: string(o.Facts.Facts),
				ObservedAt: o.Facts.ObservedAt, Partition: ev.Partition, Position: ev.Position}
			put(&w.Facts, facts, [2]string{r.Entity, r.Source}, r)
		case o.Source != nil:
			r := SourceRow{Source: o.Source.Source, Schema: string(o.Source.Schema), Partition: ev.Partition, Position: ev.Position}
			r.Drop = len(o.Source.Schema) == 0 || r.Schema == "null"
			put(&w.Sources, sources, r.Source, r)
		case o.Badge != nil:
			d := o.Badge
			key := Key(d.Entity)
			w.Changes = append(w.Changes, ChangeRow{Partition: ev.Partition, Position: ev.Position, Time: ev.Time.UnixNano(),
				EventID: ev.ID, Type: ev.Type, Policy: d.Policy, Entity: key, Data: string(ev.Data)})
			r := VerdictRow{Policy: d.Policy, Entity: key, Drop: !d.Applies}
			if d.Applies {
				r.Level, r.Owner, r.Digest = d.Level, strings.ToLower(d.Owner), DigestOf(d)
				r.Partition, r.Position = ev.Partition, ev.Position
			}
			put(&w.Verdicts, verdicts, [2]string{r.Policy, r.Entity}, r)
		}
	}
	slices.SortFunc(w.Facts, func(a, b FactRow) int {
		return cmp.Or(strings.Compare(a.Entity, b.Entity), strings.Compare(a.Source, b.Source))
	})
	slices.SortFunc(w.Sources, func(a, b SourceRow) int { return strings.Compare(a.Source, b.Source) })
	slices.SortFunc(w.Verdicts, func(a, b VerdictRow) int {
		return cmp.Or(strings.Compare(a.Policy, b.Policy), strings.Compare(a.Entity, b.Entity))
	})
	return w
}

// put sets the row of key: the last one written wins.
func put[K comparable, R any](rows *[]R, at map[K]int, key K, r R) {
	if i, ok := at[key]; ok {
		(*rows)[i] = r
		return
	}
	at[key] = len(*rows)
	*rows = append(*rows, r)
}
