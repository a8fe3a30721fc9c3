package audit

import (
	"context"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"backlot.dev/backlot/projections/catalogstore"
)

// groupRelationsCopying is groupRelations as it was before it placed rows by
// their places in parts: it copied every row into a second slice.
func groupRelationsCopying(parts [][]relationRow, at []int32) *relationSet {
	n := len(at) - 1
	for i := range n {
		at[i+1] += at[i]
	}
	sorted := make([]relationRow, at[n])
	next := slices.Clone(at[:n])
	for _, rows := range parts {
		for _, x := range rows {
			sorted[next[x.src]] = x
			next[x.src]++
		}
	}
	out := &relationSet{rels: make([]catalogstore.Relation, len(sorted)), at: at, end: next}
	for i := range n {
		rs := sorted[at[i]:at[i+1]]
		slices.SortFunc(rs, func(a, b relationRow) int {
			if c := strings.Compare(a.typ, b.typ); c != 0 {
				return c
			}
			if c := strings.Compare(a.target, b.target); c != 0 {
				return c
			}
			return strings.Compare(a.targetRef, b.targetRef)
		})
		dst := out.rels[at[i]:at[i+1]:at[i+1]]
		ascii := true
		for _, x := range rs {
			ascii = ascii && isASCII(x.targetRef)
		}
		m := 0
		for j, x := range rs {
			if ascii && j > 0 && x.typ == rs[j-1].typ && x.target == rs[j-1].target {
				continue
			}
			dst[m] = catalogstore.Relation{Type: x.typ, TargetRef: x.targetRef}
			m++
		}
		if !ascii {
			v := catalogstore.EntityView{Relations: dst[:m]}
			catalogstore.NormalizeRelations(&v)
			m = copy(dst, v.Relations)
		}
		next[i] = at[i] + int32(m)
	}
	return out
}

// randomRows makes rows of sources in [0, sources) in parts of up to 50,
// with repeated types and targets, refs that differ only in case and (with
// unicode) a few refs beyond ASCII, and at[src+1] counting each source's
// rows.
func randomRows(r *rand.Rand, sources, rows int, unicode bool) ([][]relationRow, []int32) {
	types := []string{"ownedBy", "ownerOf", "dependsOn", "dependencyOf", "partOf", "hasPart"}
	names := []string{"a", "b", "A", "checkout", "Checkout", "STRASSE"}
	if unicode {
		names = append(names, "straße", "ǅemo", "ǆemo")
	}
	at := make([]int32, sources+1)
	var parts [][]relationRow
	var part []relationRow
	for range rows {
		name := names[r.IntN(len(names))]
		ref := "component:default/" + name
		x := relationRow{src: int32(r.IntN(sources)), typ: types[r.IntN(len(types))], target: strings.ToLower(ref), targetRef: ref}
		part = append(part, x)
		at[x.src+1]++
		if len(part) == 50 {
			parts, part = append(parts, part), nil
		}
	}
	return append(parts, part), at
}

// TestGroupRelationsAsCopying checks groupRelations against the copying
// sort it replaces on random rows.
func TestGroupRelationsAsCopying(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(4, 4))
	for range 50 {
		parts, at := randomRows(r, 1+r.IntN(40), r.IntN(2000), true)
		got := groupRelations(context.Background(), parts, slices.Clone(at))
		want := groupRelationsCopying(parts, at)
		for i := range len(at) - 1 {
			if g, w := got.of(i), want.of(i); !slices.Equal(g, w) {
				t.Fatalf("source %d: %v, want %v", i, g, w)
			}
		}
	}
}

// TestGroupRelationsCopiesNoRow checks that grouping rows of ASCII refs
// allocates their places and relations, not a second copy of the rows (56
// bytes each): about 40 bytes a row.
func TestGroupRelationsCopiesNoRow(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	const rows = 200_000
	parts, at := randomRows(r, 20_000, rows, false)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	groupRelations(context.Background(), parts, at)
	runtime.ReadMemStats(&after)
	if perRow := float64(after.TotalAlloc-before.TotalAlloc) / rows; perRow > 60 {
		t.Errorf("grouping allocates %.0f bytes a row, want about 40 (8 for its place, 32 for its relation)", perRow)
	}
}
