package gen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
)

// Edit changes k random components of the catalog that Generate wrote into dir,
// in place, and returns their refs (component:default/NAME) in file order. Each
// chosen component gets a different spec.lifecycle and, when the catalog has
// more than one group, a different spec.owner; nothing else in the files
// changes. The seed picks the components and the new values, so the same seed on
// the same files makes the same edit.
//
// Each changed file is replaced by renaming a complete new file over it, so a
// reader never sees a half-written file. Edit fails if dir holds no manifest.json
// from Generate, if k is negative or larger than the number of components, or if
// a file no longer has the layout Generate gave it; files changed before the
// failure stay changed.
func Edit(dir string, seed int64, k int) ([]string, error) {
	l, rng, idx, names, err := choose(dir, seed, k)
	if err != nil {
		return nil, err
	}
	e := editor{rng: rng, names: names, groups: l.count[kindGroup]}
	refs := make([]string, 0, k)
	for start := 0; start < len(idx); {
		file := l.fileOf(kindComponent, idx[start])
		end := start
		for end < len(idx) && l.fileOf(kindComponent, idx[end]) == file {
			end++
		}
		path := filepath.Join(dir, fileName(file))
		data, err := os.ReadFile(path)
		if err != nil {
			return refs, fmt.Errorf("gen: %w", err)
		}
		for _, i := range idx[start:end] {
			name := names.name(kindComponent, i)
			if data, err = e.edit(data, name); err != nil {
				return refs, fmt.Errorf("gen: %s: %w", path, err)
			}
			refs = append(refs, "component:default/"+name)
		}
		if err := replaceFile(path, data); err != nil {
			return refs, err
		}
		start = end
	}
	return refs, nil
}

// Picks returns the refs of the components Edit with the same arguments
// would change, in the same order, without changing anything, so a caller
// can read their versions before the edit.
func Picks(dir string, seed int64, k int) ([]string, error) {
	l, _, idx, names, err := choose(dir, seed, k)
	if err != nil {
		return nil, err
	}
	refs := make([]string, 0, k)
	for start := 0; start < len(idx); {
		file := l.fileOf(kindComponent, idx[start])
		end := start
		for end < len(idx) && l.fileOf(kindComponent, idx[end]) == file {
			end++
		}
		for _, i := range idx[start:end] {
			refs = append(refs, "component:default/"+names.name(kindComponent, i))
		}
		start = end
	}
	return refs, nil
}

// choose picks the k components an edit with seed changes: the layout of
// the catalog in dir, the random source (to draw the new values from next),
// the components' indices in order, and their namer.
func choose(dir string, seed int64, k int) (layout, *rand.Rand, []int, namer, error) {
	cfg, err := readManifest(filepath.Join(dir, manifestFileName))
	if err != nil {
		return layout{}, nil, nil, namer{}, err
	}
	l := newLayout(cfg)
	comps := l.count[kindComponent]
	if k < 0 || k > comps {
		return layout{}, nil, nil, namer{}, fmt.Errorf("gen: cannot edit %d components of %d", k, comps)
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x65646974))

	// Floyd's algorithm: k distinct indices without a permutation of all.
	picked := make(map[int]bool, k)
	for j := comps - k; j < comps; j++ {
		t := rng.IntN(j + 1)
		if picked[t] {
			t = j
		}
		picked[t] = true
	}
	idx := make([]int, 0, k)
	for i := range picked {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	return l, rng, idx, namer{seed: cfg.Seed}, nil
}

func readManifest(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("gen: %w", err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return Config{}, fmt.Errorf("gen: %s: %w", path, err)
	}
	cfg := Config(m)
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("gen: %s: %w", path, err)
	}
	return cfg, nil
}

// editor rewrites the lifecycle and owner lines of components.
type editor struct {
	rng    *rand.Rand
	names  namer
	groups int
}

// edit returns data with the named component's lifecycle and owner changed.
func (e editor) edit(data []byte, name string) ([]byte, error) {
	head := []byte("\nkind: Component\nmetadata:\n  name: " + name + "\n")
	start := bytes.Index(data, head)
	if start < 0 {
		return nil, fmt.Errorf("component %s not found", name)
	}
	end := len(data)
	if n := bytes.Index(data[start+len(head):], []byte("\n---\n")); n >= 0 {
		end = start + len(head) + n + 1
	}
	doc := data[start:end]
	doc, err := replaceValue(doc, "\n  lifecycle: ", func(old string) string {
		i := e.rng.IntN(len(lifecycles) - 1)
		if lifecycles[i] == old {
			i = len(lifecycles) - 1
		}
		return lifecycles[i]
	})
	if err != nil {
		return nil, fmt.Errorf("component %s: %w", name, err)
	}
	doc, err = replaceValue(doc, "\n  owner: ", func(old string) string {
		if e.groups < 2 {
			return old
		}
		for {
			if g := e.names.name(kindGroup, e.rng.IntN(e.groups)); g != old {
				return g
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("component %s: %w", name, err)
	}
	out := make([]byte, 0, len(data)+len(doc)-(end-start))
	out = append(out, data[:start]...)
	out = append(out, doc...)
	return append(out, data[end:]...), nil
}

// replaceValue replaces the rest of the first line of doc that starts with key
// by next(old value).
func replaceValue(doc []byte, key string, next func(old string) string) ([]byte, error) {
	i := bytes.Index(doc, []byte(key))
	if i < 0 {
		return nil, fmt.Errorf("no line %q", key[1:])
	}
	v := i + len(key)
	n := bytes.IndexByte(doc[v:], '\n')
	if n < 0 {
		n = len(doc) - v
	}
	old := string(doc[v : v+n])
	out := make([]byte, 0, len(doc)+16)
	out = append(out, doc[:v]...)
	out = append(out, next(old)...)
	return append(out, doc[v+n:]...), nil
}

// replaceFile writes data to a new file beside path and renames it over path.
func replaceFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".edit-*.tmp")
	if err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("gen: %w", err)
	}
	return nil
}
