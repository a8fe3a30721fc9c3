package audit_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"backlot.dev/backlot/internal/audit"
)

// TestWriteTarHoldsWhatWriteYAMLWrites replays the test log and writes it
// both ways: the archive holds exactly the folder's files, by the same
// relative paths, with the same bytes, each dated the instant given, and
// two archives of the same replay are the same bytes.
func TestWriteTarHoldsWhatWriteYAMLWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := audit.NewReplay()
	if err := r.Apply(replayLog(t)); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	n, err := r.WriteYAML(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := readTree(t, dir)
	at := time.Date(2026, 3, 1, 12, 30, 15, 500, time.UTC)
	var first, second bytes.Buffer
	st, err := r.WriteTar(ctx, &first, at)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.WriteTar(ctx, &second, at); err != nil {
		t.Fatal(err)
	}
	if st.Files != n || n < 400 {
		t.Errorf("the archive counts %d files, the folder %d (want over 400)", st.Files, n)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Error("two archives of the same replay differ")
	}
	got := map[string][]byte{}
	var names []string
	tr := tar.NewReader(&first)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if !hdr.ModTime.Equal(at.Truncate(time.Second)) || hdr.Mode != 0o644 || hdr.Typeflag != tar.TypeReg {
			t.Errorf("%s: dated %v, mode %o, type %c; want %v, 644, a regular file", hdr.Name, hdr.ModTime, hdr.Mode, hdr.Typeflag, at.Truncate(time.Second))
		}
		got[hdr.Name] = b
		names = append(names, hdr.Name)
	}
	if len(got) != len(want) || len(names) != len(want) {
		t.Errorf("the archive holds %d files (%d entries), the folder %d", len(got), len(names), len(want))
	}
	for path, w := range want {
		if g, ok := got[path]; !ok {
			t.Errorf("%s: not in the archive", path)
		} else if !bytes.Equal(g, w) {
			t.Errorf("%s differs:\n--- folder\n%s\n--- archive\n%s", path, w, g)
		}
	}
}
