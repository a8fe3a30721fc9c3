package codepages

import (
	"strings"
	"testing"
)

// smapsOf builds an smaps text from mappings: each a header line and its
// Rss and Anonymous lines in kB.
func smapsOf(lines ...string) []byte { return []byte(strings.Join(lines, "\n") + "\n") }

func TestReadOnlyCodePicksTheBinarysPrivateReadOnlyMappings(t *testing.T) {
	t.Parallel()
	const exe = "/work/bin/backlot"
	smaps := smapsOf(
		"00400000-03000000 r-xp 00000000 fd:01 4242 /work/bin/backlot",
		"Size:              45056 kB",
		"Rss:               40000 kB",
		"Anonymous:             0 kB",
		"03000000-06000000 r--p 02c00000 fd:01 4242 /work/bin/backlot",
		"Rss:               30000 kB",
		"Anonymous:             0 kB",
		// The binary's initialised variables: written by the process.
		"06000000-06400000 rw-p 05c00000 fd:01 4242 /work/bin/backlot",
		"Rss:                1700 kB",
		"Anonymous:           600 kB",
		// Code a debugger patched (a breakpoint copied a page on write).
		"06400000-06500000 r-xp 06000000 fd:01 4242 /work/bin/backlot",
		"Rss:                 100 kB",
		"Anonymous:             4 kB",
		// Another file, and another inode at the same path (a new build).
		"7f0000000000-7f0000100000 r-xp 00000000 fd:01 77 /usr/lib/libc.so.6",
		"Rss:                1000 kB",
		"Anonymous:             0 kB",
		"7f0000200000-7f0000300000 r-xp 00000000 fd:01 4243 /work/bin/backlot",
		"Rss:                 500 kB",
		"Anonymous:             0 kB",
		// Shared read-only mapping of the file: not the loader's.
		"7f0000400000-7f0000500000 r--s 00000000 fd:01 4242 /work/bin/backlot",
		"Rss:                 500 kB",
		"Anonymous:             0 kB",
		// Anonymous memory and the stack.
		"c000000000-c004000000 rw-p 00000000 00:00 0 ",
		"Rss:               60000 kB",
		"Anonymous:         60000 kB",
		"7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]",
		"Rss:                  40 kB",
		"Anonymous:            40 kB",
	)
	got := readOnlyCode(smaps, exe, 4242)
	if len(got) != 2 {
		t.Fatalf("picked %d mappings, want the code and the read-only data: %+v", len(got), got)
	}
	want := []mapping{
		{start: 0x400000, end: 0x3000000, perms: "r-xp", inode: 4242, path: exe, rss: 40000 << 10},
		{start: 0x3000000, end: 0x6000000, perms: "r--p", inode: 4242, path: exe, rss: 30000 << 10},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("mapping %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestReadOnlyCodeReadsPathsWithSpacesAndDeletedFiles(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/tmp/my builds/backlot", "/tmp/backlot (deleted)"} {
		smaps := smapsOf(
			"00400000-00500000 r-xp 00000000 fd:01 9 "+path,
			"Rss:                 100 kB",
			"Anonymous:             0 kB",
		)
		if got := readOnlyCode(smaps, path, 9); len(got) != 1 || got[0].path != path {
			t.Errorf("%q: picked %+v", path, got)
		}
	}
}

func TestTracedReadsTheTracerPid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		status string
		want   bool
	}{
		{"untraced", "Name:\tbacklot\nTracerPid:\t0\nUid:\t0\n", false},
		{"traced", "Name:\tbacklot\nTracerPid:\t4711\nUid:\t0\n", true},
		{"no field", "Name:\tbacklot\n", false},
	} {
		if got := traced([]byte(tc.status)); got != tc.want {
			t.Errorf("%s: traced = %v, want %v", tc.name, got, tc.want)
		}
	}
}
