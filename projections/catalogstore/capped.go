package catalogstore

import (
	"context"
	"strings"
)

// CappedReader is the optional port of a Reader that reads one entity with
// a bounded part of its relations: the entity page of a group that owns
// tens of thousands of entities lists a hundred of each type and says how
// many there are, and reads no more than that.
type CappedReader interface {
	// ByKeyCapped returns the entity with key (nil, and no error, when
	// there is none) with at most perType of its relations of each type,
	// sorted as ByKeys sorts them, and how many relations of each type it
	// has in all (by type, as ByKeys counts them). A type with at most
	// perType relations has all of them, so an entity with no more than
	// perType of any type reads as ByKeys reads it. Of a type with more,
	// which perType are read is the store's choice, the same for the same
	// read model.
	ByKeyCapped(ctx context.Context, key string, perType int) (*EntityView, map[string]int, error)
}

// ReverseSample is what a store read of the relations declared toward one
// entity, for ByKeyCapped (CapRelations): the entity's relations are those
// it declares and the reverses of those declared toward it.
type ReverseSample struct {
	// Rows are some of the reverse relations: of each type, all of them
	// or at least the cap (with the declared ones, that is the cap once
	// the duplicates are dropped, as reverse rows come from distinct
	// entities).
	Rows []Relation
	// Counts is how many reverse relations there are of each type, by the
	// type in lower case (the stores' lreverse).
	Counts map[string]int
	// Declared are the reverse relations whose origin is one of the
	// entity's declared targets (TargetRef holding the origin's key):
	// those that may repeat a declared relation.
	Declared []Relation
}

// CapRelations finishes a ByKeyCapped read: v holds the relations the
// entity declares (all of them), s the reverse relations read; v is left
// with at most perType relations of each type, normalized as ByKeys's
// (NormalizeRelations), and the counts of each type are returned. A reverse
// relation that repeats a declared one (same type, the origin being the
// declared target) counts once, as ByKeys's normalization keeps it once.
func CapRelations(v *EntityView, s ReverseSample, perType int) map[string]int {
	NormalizeRelations(v)
	counts := map[string]int{}
	declared := map[[2]string]bool{}
	for _, r := range v.Relations {
		counts[r.Type]++
		declared[[2]string{r.Type, strings.ToLower(r.TargetRef)}] = true
	}
	// Each type's spelling as the reverse rows give it.
	spelling := map[string]string{}
	for _, r := range s.Rows {
		spelling[strings.ToLower(r.Type)] = r.Type
	}
	for l, n := range s.Counts {
		t, ok := spelling[l]
		if !ok {
			t = l
		}
		counts[t] += n
	}
	repeated := map[[2]string]bool{}
	for _, r := range s.Declared {
		k := [2]string{r.Type, strings.ToLower(r.TargetRef)}
		if declared[k] && !repeated[k] {
			repeated[k] = true
			counts[r.Type]--
		}
	}
	v.Relations = append(v.Relations, s.Rows...)
	NormalizeRelations(v)
	out := v.Relations[:0]
	for i := 0; i < len(v.Relations); {
		j := i
		for j < len(v.Relations) && v.Relations[j].Type == v.Relations[i].Type {
			j++
		}
		out = append(out, v.Relations[i:min(j, i+perType)]...)
		i = j
	}
	v.Relations = out
	return counts
}
