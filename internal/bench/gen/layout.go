package gen

import "fmt"

// kind indexes the generated kinds in the order their entities are written.
type kind int

const (
	kindGroup kind = iota
	kindUser
	kindDomain
	kindSystem
	kindResource
	kindAPI
	kindComponent
	numKinds
)

// kindNames are the kinds as written in the descriptor files.
var kindNames = [numKinds]string{"Group", "User", "Domain", "System", "Resource", "API", "Component"}

// rootFileName is the root Location file; rootLocationName its entity name.
const (
	rootFileName     = "all.yaml"
	rootLocationName = "bench-catalog"
	manifestFileName = "manifest.json"
)

// groupFanout is the number of children of each group in the group tree.
const groupFanout = 5

// layout is where every entity goes: how many of each kind, and which file holds
// the i-th entity of a kind. It is computed from the Config alone, so Edit can
// find an entity without reading the files.
type layout struct {
	perFile int
	count   [numKinds]int
	// start is the position of a kind's first entity in the sequence of all
	// non-Location entities.
	start [numKinds]int
	total int // non-Location entities
	files int // entity files, the root file not included
}

// newLayout divides cfg.Entities between the kinds. Kinds that others refer to
// get at least one entity; the shares are taken in priority order from what is
// left, and resources take the rest.
func newLayout(cfg Config) layout {
	n := cfg.Entities
	left := n - 1 // the root Location
	var l layout
	l.perFile = cfg.EntitiesPerFile
	take := func(k kind, want, atLeast int) {
		want = max(want, atLeast)
		want = min(want, left)
		l.count[k] = want
		left -= want
	}
	take(kindGroup, n*2/100, 1)
	take(kindDomain, n*2/1000, 1)
	take(kindSystem, n*2/100, 1)
	take(kindComponent, n*60/100, 0)
	take(kindAPI, n*20/100, 0)
	take(kindUser, n*8/100, 0)
	take(kindResource, left, 0)
	pos := 0
	for k := range numKinds {
		l.start[k] = pos
		pos += l.count[k]
	}
	l.total = pos
	l.files = (l.total + l.perFile - 1) / l.perFile
	return l
}

// fileOf returns the index of the entity file holding entity i of kind k.
func (l layout) fileOf(k kind, i int) int { return (l.start[k] + i) / l.perFile }

// fileName returns the name of entity file f, relative to the output directory.
func fileName(f int) string { return fmt.Sprintf("entities-%05d.yaml", f) }

// groupParent returns the parent of group i in the group tree; group 0 has none.
func groupParent(i int) int { return (i - 1) / groupFanout }

// groupDepth returns the depth of group i in the group tree, the root being 0.
func groupDepth(i int) int {
	d := 0
	for i > 0 {
		i = groupParent(i)
		d++
	}
	return d
}
