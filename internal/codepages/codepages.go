package codepages

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
)

// Released is what Release did.
type Released struct {
	// Mappings is how many mappings of the binary it dropped.
	Mappings int
	// ResidentBytes is how much of them was resident just before.
	ResidentBytes int64
	// Skipped says why it dropped nothing, when it did not run: "" when it
	// ran, else e.g. "traced" or "unsupported".
	Skipped string
}

// mapping is one mapping of /proc/PID/smaps.
type mapping struct {
	start, end uint64
	perms      string
	inode      uint64
	path       string
	rss, anon  int64 // bytes
}

// readOnlyCode returns the mappings of smaps that Release drops: those of the
// file path with the given inode that are private, not writable, and hold no
// anonymous (copied-on-write) page, the binary's code and read-only data.
// Writable mappings hold the binary's initialised variables as the process
// changed them, and a read-only mapping with anonymous pages holds pages
// someone wrote through ptrace (a debugger's breakpoints): dropping either
// would lose what was written.
func readOnlyCode(smaps []byte, path string, inode uint64) []mapping {
	var out []mapping
	var cur *mapping
	keep := func() {
		if cur != nil && cur.path == path && cur.inode == inode && cur.anon == 0 &&
			len(cur.perms) == 4 && cur.perms[0] == 'r' && cur.perms[1] == '-' && cur.perms[3] == 'p' {
			out = append(out, *cur)
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m, ok := parseHeader(line); ok {
			keep()
			cur = &m
			continue
		}
		if cur == nil {
			continue
		}
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch name {
		case "Rss":
			cur.rss = kib(rest)
		case "Anonymous":
			cur.anon = kib(rest)
		}
	}
	keep()
	return out
}

// parseHeader parses a mapping's first line in smaps:
// "start-end perms offset dev inode [path]".
func parseHeader(line string) (mapping, bool) {
	f := strings.Fields(line)
	if len(f) < 5 || strings.HasSuffix(f[0], ":") {
		return mapping{}, false
	}
	lo, hi, ok := strings.Cut(f[0], "-")
	if !ok {
		return mapping{}, false
	}
	start, err1 := strconv.ParseUint(lo, 16, 64)
	end, err2 := strconv.ParseUint(hi, 16, 64)
	inode, err3 := strconv.ParseUint(f[4], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || end <= start {
		return mapping{}, false
	}
	m := mapping{start: start, end: end, perms: f[1], inode: inode}
	// The path is the rest of the line after the fifth field: it may hold
	// spaces, and ends in " (deleted)" once the file was replaced.
	rest := line
	for range 5 {
		rest = strings.TrimLeft(rest, " \t")
		rest = rest[strings.IndexAny(rest+" ", " \t"):]
	}
	m.path = strings.TrimLeft(rest, " \t")
	return m, true
}

// kib parses a " 1234 kB" value of smaps into bytes; 0 when malformed.
func kib(s string) int64 {
	v, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "kB")), 10, 64)
	if err != nil {
		return 0
	}
	return v << 10
}
