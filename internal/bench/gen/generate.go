package gen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Generate writes a synthetic catalog of cfg.Entities entities into dir, creating
// dir if needed, and returns what it wrote. Entity files are named
// entities-NNNNN.yaml and hold cfg.EntitiesPerFile entities each (the last may
// hold fewer); all.yaml is the root Location listing them, and manifest.json
// records cfg for Edit. Existing files of those names are overwritten; other
// files in dir are left alone.
//
// Files are written one at a time, so memory use does not grow with
// cfg.Entities. On error Generate stops and returns it, leaving the files
// written so far.
func Generate(dir string, cfg Config) (Summary, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return Summary{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Summary{}, fmt.Errorf("gen: %w", err)
	}
	l := newLayout(cfg)
	g := &generator{
		l:     l,
		names: namer{seed: cfg.Seed},
		rng:   rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6261636b6c6f74)),
	}
	out := &fileSink{dir: dir, perFile: l.perFile}
	for k := range numKinds {
		for i := range l.count[k] {
			w, err := out.next()
			if err != nil {
				return Summary{}, err
			}
			g.write(w, k, i)
		}
	}
	if err := out.close(); err != nil {
		return Summary{}, err
	}
	if out.files != l.files {
		return Summary{}, fmt.Errorf("gen: wrote %d files, layout expected %d", out.files, l.files)
	}

	root := filepath.Join(dir, rootFileName)
	if err := writeRoot(root, cfg, l.files); err != nil {
		return Summary{}, err
	}
	if err := writeManifest(filepath.Join(dir, manifestFileName), cfg); err != nil {
		return Summary{}, err
	}

	s := Summary{Files: l.files + 1, Entities: l.total + 1, ByKind: map[string]int{"Location": 1}, RootFile: root}
	for k := range numKinds {
		if l.count[k] > 0 {
			s.ByKind[kindNames[k]] = l.count[k]
		}
	}
	return s, nil
}

// fileSink hands out a writer for each entity, opening a new file every perFile
// entities.
type fileSink struct {
	dir     string
	perFile int
	inFile  int // entities written to the current file
	files   int // files opened so far
	f       *os.File
	w       *bufio.Writer
}

// next returns the writer for the next entity.
func (s *fileSink) next() (*bufio.Writer, error) {
	if s.w != nil && s.inFile < s.perFile {
		s.inFile++
		return s.w, nil
	}
	if err := s.close(); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(s.dir, fileName(s.files)))
	if err != nil {
		return nil, fmt.Errorf("gen: %w", err)
	}
	s.f, s.w = f, bufio.NewWriterSize(f, 256<<10)
	s.files++
	s.inFile = 1
	return s.w, nil
}

// close flushes and closes the current file, if any.
func (s *fileSink) close() error {
	if s.f == nil {
		return nil
	}
	err := s.w.Flush()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	s.f, s.w = nil, nil
	if err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	return nil
}

func writeRoot(path string, cfg Config, files int) error {
	var b strings.Builder
	b.Grow(64 + files*28)
	b.WriteString("apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: " + rootLocationName + "\n")
	fmt.Fprintf(&b, "  description: Synthetic benchmark catalog of %d entities (seed %d).\n", cfg.Entities, cfg.Seed)
	b.WriteString("spec:\n  targets:\n")
	for f := range files {
		b.WriteString("    - ./" + fileName(f) + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	return nil
}

// manifest is what Edit needs to find entities without reading every file.
type manifest struct {
	Entities        int   `json:"entities"`
	Seed            int64 `json:"seed"`
	EntitiesPerFile int   `json:"entitiesPerFile"`
}

func writeManifest(path string, cfg Config) error {
	b, err := json.MarshalIndent(manifest(cfg), "", "  ")
	if err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	return nil
}

// generator writes entities. Names and types come from the entity's index; the
// relations come from one random stream consumed in file order, so the output
// is a function of the seed.
type generator struct {
	l     layout
	names namer
	rng   *rand.Rand
}

// random returns the name of a random entity of kind k, which must have one.
func (g *generator) random(k kind) string { return g.names.name(k, g.rng.IntN(g.l.count[k])) }

func (g *generator) write(w *bufio.Writer, k kind, i int) {
	name := g.names.name(k, i)
	w.WriteString("---\napiVersion: backstage.io/v1alpha1\nkind: ")
	w.WriteString(kindNames[k])
	w.WriteString("\nmetadata:\n  name: ")
	w.WriteString(name)
	w.WriteByte('\n')
	switch k {
	case kindGroup:
		g.group(w, name, i)
	case kindUser:
		g.user(w, name, i)
	case kindDomain:
		w.WriteString("  description: Benchmark domain " + strconv.Itoa(i) + ".\nspec:\n")
		w.WriteString("  owner: " + g.random(kindGroup) + "\n")
	case kindSystem:
		w.WriteString("  description: Benchmark system " + strconv.Itoa(i) + ".\nspec:\n")
		w.WriteString("  owner: " + g.random(kindGroup) + "\n")
		w.WriteString("  domain: " + g.random(kindDomain) + "\n")
	case kindResource:
		g.resource(w, i)
	case kindAPI:
		g.api(w, name, i)
	case kindComponent:
		g.component(w, name, i)
	}
}

func (g *generator) group(w *bufio.Writer, name string, i int) {
	typ := "team"
	switch groupDepth(i) {
	case 0:
		typ = "organization"
	case 1:
		typ = "department"
	}
	w.WriteString("  description: Benchmark " + typ + " " + strconv.Itoa(i) + ".\nspec:\n  type: " + typ + "\n")
	w.WriteString("  profile:\n    displayName: " + displayName(name) + "\n    email: " + name + "@bench.example\n")
	if i > 0 {
		w.WriteString("  parent: " + g.names.name(kindGroup, groupParent(i)) + "\n")
	}
	first := i*groupFanout + 1
	if first >= g.l.count[kindGroup] {
		w.WriteString("  children: []\n")
		return
	}
	w.WriteString("  children:\n")
	for c := first; c < first+groupFanout && c < g.l.count[kindGroup]; c++ {
		w.WriteString("    - " + g.names.name(kindGroup, c) + "\n")
	}
}

func (g *generator) user(w *bufio.Writer, name string, i int) {
	w.WriteString("spec:\n  profile:\n    displayName: " + displayName(name) + "\n    email: " + name + "@bench.example\n  memberOf:\n")
	groups := g.l.count[kindGroup]
	a := g.rng.IntN(groups)
	w.WriteString("    - " + g.names.name(kindGroup, a) + "\n")
	if groups > 1 && g.rng.IntN(3) == 0 {
		b := g.rng.IntN(groups - 1)
		if b >= a {
			b++
		}
		w.WriteString("    - " + g.names.name(kindGroup, b) + "\n")
	}
}

func (g *generator) resource(w *bufio.Writer, i int) {
	typ := g.names.resourceType(i)
	w.WriteString("  description: Benchmark " + typ + " " + strconv.Itoa(i) + ".\nspec:\n  type: " + typ + "\n")
	w.WriteString("  owner: " + g.random(kindGroup) + "\n")
	w.WriteString("  system: " + g.random(kindSystem) + "\n")
}

func (g *generator) api(w *bufio.Writer, name string, i int) {
	h := hash(g.names.seed, kindAPI, i)
	noun := pick(nouns[:], h, 0)
	w.WriteString("  description: Benchmark API " + strconv.Itoa(i) + " for " + noun + "s.\n  tags:\n    - rest\nspec:\n  type: openapi\n")
	w.WriteString("  lifecycle: " + g.lifecycle() + "\n")
	w.WriteString("  owner: " + g.random(kindGroup) + "\n")
	w.WriteString("  system: " + g.random(kindSystem) + "\n")
	w.WriteString("  definition: |\n    openapi: 3.0.3\n    info:\n      title: " + name + "\n")
	w.WriteString("      version: 1." + strconv.Itoa(g.rng.IntN(20)) + ".0\n    paths:\n")
	w.WriteString("      /" + noun + "s:\n        get:\n          summary: List " + noun + "s\n          responses:\n")
	w.WriteString("            '200':\n              description: OK\n")
}

func (g *generator) component(w *bufio.Writer, name string, i int) {
	typ := g.names.componentType(i)
	w.WriteString("  description: Benchmark " + typ + " " + strconv.Itoa(i) + ".\n  tags:\n")
	var chosen [3]int
	nt := 1 + g.rng.IntN(3)
	for t := 0; t < nt; t++ {
		chosen[t] = g.distinct(len(tags), chosen[:t])
		w.WriteString("    - " + tags[chosen[t]] + "\n")
	}
	w.WriteString("  labels:\n    tier: tier-" + strconv.Itoa(1+g.rng.IntN(3)) + "\n")
	w.WriteString("    language: " + languages[g.rng.IntN(len(languages))] + "\n")
	w.WriteString("  annotations:\n    github.com/project-slug: bench-org/" + name + "\n    backstage.io/techdocs-ref: dir:.\n")
	w.WriteString("  links:\n    - url: https://git.bench.example/bench-org/" + name + "\n      title: Repository\n")
	w.WriteString("spec:\n  type: " + typ + "\n")
	w.WriteString("  lifecycle: " + g.lifecycle() + "\n")
	w.WriteString("  owner: " + g.random(kindGroup) + "\n")
	w.WriteString("  system: " + g.random(kindSystem) + "\n")

	// dependsOn: other components, or resources when there are any. Targets are
	// kept as (kind, index) so duplicates can be skipped.
	comps, res := g.l.count[kindComponent], g.l.count[kindResource]
	var deps [3]int // component index, or -1-resource index
	nd := 0
	for range g.rng.IntN(4) {
		var d int
		if res > 0 && (comps < 2 || g.rng.IntN(10) < 3) {
			d = -1 - g.rng.IntN(res)
		} else if comps >= 2 {
			d = g.rng.IntN(comps - 1)
			if d >= i {
				d++ // never the component itself
			}
		} else {
			break
		}
		if contains(deps[:nd], d) {
			continue
		}
		if nd == 0 {
			w.WriteString("  dependsOn:\n")
		}
		deps[nd] = d
		nd++
		if d >= 0 {
			w.WriteString("    - component:" + g.names.name(kindComponent, d) + "\n")
		} else {
			w.WriteString("    - resource:" + g.names.name(kindResource, -1-d) + "\n")
		}
	}
	apis := g.l.count[kindAPI]
	if apis == 0 {
		return
	}
	g.apiList(w, "providesApis", g.rng.IntN(3), apis)
	g.apiList(w, "consumesApis", g.rng.IntN(4), apis)
}

// apiList writes up to n distinct random APIs under key, nothing when n is 0.
func (g *generator) apiList(w *bufio.Writer, key string, n, apis int) {
	n = min(n, apis)
	if n == 0 {
		return
	}
	w.WriteString("  " + key + ":\n")
	var chosen [3]int
	for t := 0; t < n; t++ {
		chosen[t] = g.distinct(apis, chosen[:t])
		w.WriteString("    - " + g.names.name(kindAPI, chosen[t]) + "\n")
	}
}

// distinct returns a random number in [0, n) that is not in taken; n must be
// larger than len(taken).
func (g *generator) distinct(n int, taken []int) int {
	for {
		v := g.rng.IntN(n)
		if !contains(taken, v) {
			return v
		}
	}
}

// lifecycle returns a random lifecycle, mostly production.
func (g *generator) lifecycle() string {
	switch r := g.rng.IntN(10); {
	case r < 7:
		return lifecycles[0]
	case r < 9:
		return lifecycles[1]
	default:
		return lifecycles[2]
	}
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// displayName turns "alex-abe-12" into "Alex Abe 12".
func displayName(name string) string {
	parts := strings.Split(name, "-")
	for i, p := range parts {
		if p != "" && p[0] >= 'a' && p[0] <= 'z' {
			parts[i] = string(p[0]-'a'+'A') + p[1:]
		}
	}
	return strings.Join(parts, " ")
}
