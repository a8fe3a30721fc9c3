package catalogsvc

import (
	"iter"

	"backlot.dev/backlot/domain/refresh"
)

// heldState is the State of a refresh of a few changed files
// (rewalkLocked) that answers from the entities the read model holds from
// those files, once read (Held), instead of reading them again: the
// decision's look-ups of their entities (Lookup) and its removals
// (OwnedBy) come from that one read. The refresh holds the location's
// lock and appends nothing before its decision ends, so what the read
// model holds of the location's files does not change meanwhile. An edit
// of one entity of a file of many then costs the read model one query
// (the file's entities) where it cost three (the same query for the
// removals, and the entities' look-up). Any other read goes to the store.
type heldState struct {
	refresh.FileState
	// byKey and byFile are the entities read, by key and by file.
	byKey  map[string]refresh.Known
	byFile map[string][]refresh.Known
}

// newHeldState wraps st, or returns nil when it does not list entities by
// file.
func newHeldState(st refresh.State) *heldState {
	fs, ok := st.(refresh.FileState)
	if !ok {
		return nil
	}
	return &heldState{FileState: fs, byKey: map[string]refresh.Known{}, byFile: map[string][]refresh.Known{}}
}

// held reads the entities of the file managedBy once.
func (h *heldState) held(locID, managedBy string) []refresh.Known {
	if ks, ok := h.byFile[managedBy]; ok {
		return ks
	}
	ks := []refresh.Known{}
	for k := range h.FileState.OwnedBy(locID, []string{managedBy}) {
		ks = append(ks, k)
	}
	if stateErr(h.FileState) != nil {
		return ks // a failed read is not kept: the refresh fails
	}
	h.byFile[managedBy] = ks
	for _, k := range ks {
		h.byKey[k.Key] = k
	}
	return ks
}

// Lookup answers from the entities read when it holds the key.
func (h *heldState) Lookup(key string) (refresh.Known, bool) {
	if k, ok := h.byKey[key]; ok {
		return k, true
	}
	return h.FileState.Lookup(key)
}

// OwnedBy answers from the entities read for a file they were read of.
func (h *heldState) OwnedBy(locationID string, files []string) iter.Seq[refresh.Known] {
	if len(files) == 1 {
		if ks, ok := h.byFile[files[0]]; ok {
			return func(yield func(refresh.Known) bool) {
				for _, k := range ks {
					if k.LocationID == locationID && !yield(k) {
						return
					}
				}
			}
		}
	}
	return h.FileState.OwnedBy(locationID, files)
}

// Prefetch has the store look up the keys not read already, when it can.
func (h *heldState) Prefetch(keys []string) {
	p, ok := h.FileState.(prefetcher)
	if !ok {
		return
	}
	rest := keys[:0:0]
	for _, k := range keys {
		if _, ok := h.byKey[k]; !ok {
			rest = append(rest, k)
		}
	}
	if len(rest) > 0 {
		p.Prefetch(rest)
	}
}

// Err returns the store's first failed read.
func (h *heldState) Err() error { return stateErr(h.FileState) }
