package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"backlot.dev/backlot/projections/catalogstore"
)

// DumpFacets are the facets DumpReader counts.
var DumpFacets = []string{"kind", "metadata.name", "spec.type", "spec.lifecycle", "spec.owner", "spec.system", "metadata.tags", "metadata.namespace", "relations.ownedBy", "relations.partOf"}

// dumpPage is the page size DumpReader lists entities with.
const dumpPage = 500

// DumpReader renders everything r answers, through the port alone, in a
// stable text form, so the answers of two read models, whatever their
// adapters, can be compared byte for byte:
// every entity as the API renders it, listed in creation order by keyset pages
// with the pages' keysets, the counts of DumpFacets, every location with its
// errors and what its refresh snapshot holds, and the positions (partitions at
// zero left out).
func DumpReader(ctx context.Context, r catalogstore.Reader) (string, error) {
	var b strings.Builder
	b.WriteString("## entities\n")
	var after *catalogstore.Keyset
	total := 0
	for {
		p, err := r.Query(ctx, catalogstore.PageQuery{Limit: dumpPage, After: after, CountTotal: after == nil})
		if err != nil {
			return "", fmt.Errorf("dump: list entities: %w", err)
		}
		if after == nil {
			total = p.TotalItems
			fmt.Fprintf(&b, "total %d\n", total)
		}
		for _, v := range p.Items {
			j, err := json.Marshal(v)
			if err != nil {
				return "", fmt.Errorf("dump: render %s: %w", v.Key, err)
			}
			fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%s\n", v.Key, v.Ref, v.UID, v.LocationID, j)
		}
		ks, err := json.Marshal(struct {
			First, Last      *catalogstore.Keyset
			HasNext, HasPrev bool
		}{p.First, p.Last, p.HasNext, p.HasPrev})
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "page %s\n", ks)
		if !p.HasNext {
			break
		}
		after = p.Last
	}

	b.WriteString("## facets\n")
	facets, err := r.Facets(ctx, DumpFacets, nil)
	if err != nil {
		return "", fmt.Errorf("dump: facets: %w", err)
	}
	for _, f := range DumpFacets {
		j, err := json.Marshal(facets[f])
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%s\t%s\n", f, j)
	}

	b.WriteString("## locations\n")
	locs, err := r.Locations(ctx)
	if err != nil {
		return "", fmt.Errorf("dump: locations: %w", err)
	}
	for _, l := range locs {
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\n", l.ID, l.Type, l.Target, l.EntityRef)
		errs, err := r.LocationErrors(ctx, l.ID)
		if err != nil {
			return "", fmt.Errorf("dump: errors of location %s: %w", l.ID, err)
		}
		for _, pe := range errs {
			j, err := json.Marshal(pe)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&b, "  error %s\n", j)
		}
		st, err := r.Snapshot(ctx, l.ID)
		if err != nil {
			return "", fmt.Errorf("dump: snapshot of location %s: %w", l.ID, err)
		}
		owned := slices.Collect(st.Owned(l.ID, nil))
		if e, ok := st.(interface{ Err() error }); ok && e.Err() != nil {
			return "", fmt.Errorf("dump: entities of location %s: %w", l.ID, e.Err())
		}
		sort.Slice(owned, func(i, j int) bool { return owned[i].Key < owned[j].Key })
		for _, k := range owned {
			fmt.Fprintf(&b, "  owns %s\t%s\t%s\t%s\n", k.Key, k.UID, k.Hash, k.ManagedBy)
		}
	}

	b.WriteString("## positions\n")
	pos, err := r.Positions(ctx)
	if err != nil {
		return "", fmt.Errorf("dump: positions: %w", err)
	}
	pos = pos.Clone()
	for p, v := range pos {
		if v == 0 {
			delete(pos, p)
		}
	}
	fmt.Fprintf(&b, "%s\n", pos)
	return b.String(), nil
}
