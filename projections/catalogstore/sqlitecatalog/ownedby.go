package sqlitecatalog

import (
	"iter"

	"backlot.dev/backlot/domain/refresh"
)

var _ refresh.FileState = (*snapshot)(nil)

// OwnedBy yields the location's entities read from files, file by file in
// the order given, each file's entities read as they are yielded: a refresh
// that re-read one file of a large location reads back that file alone.
func (sn *snapshot) OwnedBy(locationID string, files []string) iter.Seq[refresh.Known] {
	return func(yield func(refresh.Known) bool) {
		for _, f := range files {
			if !sn.ownedOf(locationID, f, yield) {
				return
			}
		}
	}
}
