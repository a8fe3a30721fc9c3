package audit

import (
	"archive/tar"
	"bufio"
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestTarFilesWritesWhatArchiveTarWrites writes files of random names (up
// to 120 bytes, some beyond ASCII or with a control character) and sizes
// (empty, around block sizes) with tarFiles and with archive/tar as
// WriteTar wrote them before, dated at instants in and out of USTAR's
// range, and compares the archives byte for byte.
func TestTarFilesWritesWhatArchiveTarWrites(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	letters := []string{"a", "z", "0", "-", "_", ".", "/", "é", "日", "\x01", "~", " "}
	instants := []time.Time{time.Unix(0, 0), time.Date(2026, 12, 7, 23, 25, 56, 0, time.UTC),
		time.Unix(1<<33-1, 0), time.Unix(1<<33, 0), time.Unix(-1, 0), time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC)}
	for _, at := range instants {
		var got, want bytes.Buffer
		bw := bufio.NewWriter(&got)
		tf := newTarFiles(bw, at)
		tw := tar.NewWriter(&want)
		for i := range 600 {
			var name strings.Builder
			name.WriteString("component/default/")
			for range rng.IntN(105) {
				if i%7 == 0 {
					name.WriteString(letters[rng.IntN(len(letters))])
				} else {
					name.WriteString(letters[rng.IntN(6)])
				}
			}
			name.WriteString(".yaml")
			size := rng.IntN(3000)
			if i%5 == 0 {
				size = 512*rng.IntN(3) + rng.IntN(3) - 1
			}
			body := bytes.Repeat([]byte{byte('a' + i%26)}, max(size, 0))
			if err := tf.file(name.String(), body); err != nil {
				t.Fatal(err)
			}
			hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name.String(), Mode: 0o644,
				Size: int64(len(body)), ModTime: at, Format: tar.FormatPAX}
			if err := tw.WriteHeader(hdr); err != nil {
				t.Fatal(err)
			}
			if _, err := tw.Write(body); err != nil {
				t.Fatal(err)
			}
		}
		if err := tf.close(); err != nil {
			t.Fatal(err)
		}
		if err := bw.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			n := 0
			for n < min(got.Len(), want.Len()) && got.Bytes()[n] == want.Bytes()[n] {
				n++
			}
			t.Fatalf("dated %s: the archives differ from byte %d (block %d, at %d) of %d and %d", at, n, n/512, n%512, got.Len(), want.Len())
		}
	}
}
