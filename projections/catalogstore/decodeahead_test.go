package catalogstore_test

import (
	"reflect"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
)

// A batch decoded ahead (DecodeAhead) folds as DecodeBatch's of the same
// events does, above any applied position, and fails on the same event: the
// first one above it that does not decode, not one at or below it.
func TestDecodedAheadIsTheBatchDecodeBatchMakes(t *testing.T) {
	t.Parallel()
	bad := upsert(t, "b", "uid-b", "broken")
	bad.Data = []byte(`{"ref": 7}`)
	evs := envelopes(t, upsert(t, "a", "uid-a", "first"), bad, upsert(t, "c", "uid-c", "third"), upsert(t, "a", "uid-a", "second"))
	for _, tc := range []struct {
		name    string
		applied event.Positions
		wantErr bool
	}{
		{name: "nothing applied: the broken event fails both", applied: nil, wantErr: true},
		{name: "the broken event applied: both skip it", applied: event.Positions{0: 2}},
		{name: "all applied: both are empty", applied: event.Positions{0: 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := catalogstore.DecodeAhead(evs)
			if !d.Of(evs) || d.Of(evs[1:]) || d.Of(append([]event.Envelope(nil), evs...)) {
				t.Fatal("Of must name the very slice decoded, and only it")
			}
			got, gotErr := d.Batch(tc.applied)
			want, wantErr := catalogstore.DecodeBatch(evs, tc.applied)
			if (gotErr != nil) != tc.wantErr || (wantErr != nil) != tc.wantErr {
				t.Fatalf("errors %v and %v, want an error: %v", gotErr, wantErr, tc.wantErr)
			}
			if tc.wantErr {
				if gotErr.Error() != wantErr.Error() {
					t.Fatalf("error %q, DecodeBatch's %q", gotErr, wantErr)
				}
				return
			}
			if got.Len() != want.Len() || !reflect.DeepEqual(got.Last, want.Last) {
				t.Fatalf("%d events up to %v, DecodeBatch's %d up to %v", got.Len(), got.Last, want.Len(), want.Last)
			}
			gotCh, err := got.Fold(catalogstore.State{}, eidOf)
			if err != nil {
				t.Fatal(err)
			}
			wantCh, err := want.Fold(catalogstore.State{}, eidOf)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gotCh, wantCh) {
				t.Fatalf("changes %+v, DecodeBatch's %+v", gotCh, wantCh)
			}
		})
	}
}
