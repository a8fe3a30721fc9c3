package codepages

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"encoding/xml"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"syscall"
	"testing"
	"text/template"
)

// startUp runs code that the tests then never run again, as a server's
// start does: its pages are resident until Release.
func startUp(t *testing.T) {
	t.Helper()
	var out bytes.Buffer
	tmpl := template.Must(template.New("t").Parse(`{{range .}}{{.Name | printf "%q"}} {{end}}`))
	if err := tmpl.Execute(&out, []struct{ Name string }{{"a"}, {"b"}}); err != nil {
		t.Fatal(err)
	}
	regexp.MustCompile(`^(\w+)@([a-z0-9.-]+)\.[a-z]{2,}$`).MatchString("someone@example.com")
	b, _ := json.Marshal(map[string]any{"a": []int{1, 2}, "b": 3.5})
	_ = xml.NewEncoder(io.Discard).Encode(struct{ A, B string }{"x", "y"})
	sha256.Sum256(b)
	zw := gzip.NewWriter(&out)
	zw.Write(bytes.Repeat(b, 100))
	zw.Close()
	new(big.Int).Exp(big.NewInt(3), big.NewInt(1000), big.NewInt(1_000_007))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(b) }))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// residentCode returns how much of this process's binary's code and
// read-only data is resident.
func residentCode(t *testing.T) int64 {
	t.Helper()
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, m := range readOnlyCode(smaps, exe, fi.Sys().(*syscall.Stat_t).Ino) {
		n += m.rss
	}
	return n
}

// written is initialised data of the binary (a writable mapping of its
// file) that the test changes before Release.
var written = [8192]byte{0: 1, 4096: 2, 8191: 3}

func TestReleaseDropsTheBinarysResidentCode(t *testing.T) {
	startUp(t)
	before := residentCode(t)
	if before == 0 {
		t.Fatal("no resident code before Release: the test reads the wrong mappings")
	}
	r, err := Release()
	if err != nil {
		t.Fatal(err)
	}
	if r.Skipped != "" {
		t.Fatalf("Release skipped: %s", r.Skipped)
	}
	after := residentCode(t)
	t.Logf("resident code and read-only data %d KiB -> %d KiB (%d mappings, %d KiB reported)", before>>10, after>>10, r.Mappings, r.ResidentBytes>>10)
	if r.Mappings < 2 || r.ResidentBytes < before/2 {
		t.Errorf("Release dropped %d mappings holding %d bytes; %d bytes were resident", r.Mappings, r.ResidentBytes, before)
	}
	if after > before/2 {
		t.Errorf("resident code and read-only data %d bytes after Release, %d before", after, before)
	}
}

func TestReleaseKeepsWhatTheProcessWrote(t *testing.T) {
	written[0], written[4096], written[8191] = 41, 42, 43
	if _, err := Release(); err != nil {
		t.Fatal(err)
	}
	if written[0] != 41 || written[4096] != 42 || written[8191] != 43 {
		t.Errorf("initialised data reverted to the file's after Release: %d %d %d", written[0], written[4096], written[8191])
	}
}
