package histtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"backlot.dev/backlot/projections/history"
)

// Dump renders everything a store holds, in log order: every version with every
// field, every event digest, and the positions. Two stores that folded the same
// log have the same Dump.
func Dump(tb testing.TB, r history.Reader) string {
	tb.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, v := range allChanges(tb, r) {
		b.WriteString(renderVersion(&v, true))
	}
	ds, err := r.Digests(ctx, history.Pos{Partition: -1}, 0)
	if err != nil {
		tb.Fatal(err)
	}
	for _, d := range ds {
		fmt.Fprintf(&b, "event %d:%d %s %s %s %s\n", d.Partition, d.Position, d.EventID, d.Type, d.Subject, d.Digest)
	}
	p, err := r.Positions(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	fmt.Fprintf(&b, "positions %s\n", p)
	return b.String()
}

// DumpByKey renders every version without the log positions, by key and
// number: the same for the same events however a log partitions them.
func DumpByKey(tb testing.TB, r history.Reader) string {
	tb.Helper()
	vs := allChanges(tb, r)
	slices.SortFunc(vs, func(a, b history.Version) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return a.Number - b.Number
	})
	var b strings.Builder
	for _, v := range vs {
		b.WriteString(renderVersion(&v, false))
	}
	return b.String()
}

func allChanges(tb testing.TB, r history.Reader) []history.Version {
	tb.Helper()
	var out []history.Version
	after := history.Pos{Partition: -1}
	for {
		vs, err := r.Changes(context.Background(), after, 50)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, vs...)
		if len(vs) < 50 {
			return out
		}
		after = vs[len(vs)-1].ValidFrom.Pos
	}
}

func renderVersion(v *history.Version, positions bool) string {
	mark := func(m *history.Mark) string {
		if m == nil {
			return "-"
		}
		if positions {
			return fmt.Sprintf("%d:%d@%s", m.Partition, m.Position, m.Time.Format("2006-01-02T15:04:05.000000000Z"))
		}
		return m.Time.Format("2006-01-02T15:04:05.000000000Z")
	}
	commit := "-"
	if v.Commit != nil {
		commit = fmt.Sprintf("%s/%s/%s/%s", v.Commit.SHA, v.Commit.Author, v.Commit.Email, v.Commit.Time)
	}
	return fmt.Sprintf("%s #%d ref=%s uid=%s from=%s to=%s removed=%t hash=%s event=%s %s actor=%s corr=%s loc=%s by=%s commit=%s digest=%s body=%s\n",
		v.Key, v.Number, v.Ref, v.UID, mark(&v.ValidFrom), mark(v.ValidTo), v.Removed, v.Hash, v.EventID, v.EventType,
		v.Actor, v.CorrelationID, v.LocationID, v.ManagedBy, commit, v.Digest, v.Body)
}
