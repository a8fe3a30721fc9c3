package storetest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// This file writes the catalog History ingests: descriptor files of every
// common kind with relations between them, made by the suite itself so that it
// depends on nothing but domain/.

// catalogFiles is how many entity files a generated catalog spreads over at
// least; maxPerFile caps the entities of one file, so a large catalog's files
// stay under the size a location reads.
const (
	catalogFiles = 8
	maxPerFile   = 100
)

// genEntity is one generated descriptor: its kind and name, and the YAML of
// its metadata and spec after the name.
type genEntity struct {
	kind, name string
	// description and tags are what an edit changes.
	description string
	tags        []string
	// rest is the YAML after metadata.tags: labels, annotations, links and spec.
	rest string
}

// genCatalog is a generated catalog on disk.
type genCatalog struct {
	dir    string
	root   string
	files  []string       // the entity files, sorted
	byFile [][]*genEntity // the entities of each file, in order
	rng    *rand.Rand
	edits  int
}

// writeCatalog writes a catalog of n entities (n >= 100) into dir with seed:
// root.yaml, a Location whose spec.targets list the entity files
// entities-NNNNN.yaml (catalogFiles or more, of at most maxPerFile entities). Groups (in a hierarchy), users, domains, systems, APIs,
// resources and components, about half of them components, refer to each other
// by owner, system, domain, parent, memberOf, providesApis, consumesApis,
// dependsOn and subcomponentOf, some refs dangling; names mix case, tags,
// labels, annotations and links vary. The same n and seed write the same bytes.
func writeCatalog(tb testing.TB, dir string, n int, seed int64) *genCatalog {
	tb.Helper()
	if n < 100 {
		tb.Fatalf("storetest: a generated catalog needs 100 entities or more, not %d", n)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x5eed))
	groups, users, domains, systems := max(3, n/20), n/10, 3, max(2, n/25)
	apis, resources := n/8, n/10
	components := n - 1 - groups - users - domains - systems - apis - resources
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	name := func(prefix string, i int) string {
		if i%7 == 3 {
			return fmt.Sprintf("%s-%d", strings.ToUpper(prefix[:1])+prefix[1:], i) // names keep their case
		}
		return fmt.Sprintf("%s-%d", prefix, i)
	}
	owner := func() string {
		switch rng.IntN(4) {
		case 0:
			return fmt.Sprintf("group:default/%s", name("team", rng.IntN(groups)))
		case 1:
			return fmt.Sprintf("user:%s", name("person", rng.IntN(max(users, 1))))
		default:
			return name("team", rng.IntN(groups))
		}
	}
	tagsOf := func() []string {
		all := []string{"java", "go", "python", "typescript", "tier-1", "tier-2", "tier-3", "pci", "gdpr", "legacy"}
		k := rng.IntN(4)
		var out []string
		for _, i := range rng.Perm(len(all))[:k] {
			out = append(out, all[i])
		}
		return out
	}
	common := func(i int) string {
		var b strings.Builder
		fmt.Fprintf(&b, "  labels:\n    tier: %s\n    cost-center: cc-%d\n", pick([]string{"gold", "silver", "bronze"}), rng.IntN(20))
		fmt.Fprintf(&b, "  annotations:\n    github.com/project-slug: example/%d\n", i)
		if rng.IntN(3) == 0 {
			fmt.Fprintf(&b, "    backstage.io/techdocs-ref: dir:.\n")
		}
		if rng.IntN(4) == 0 {
			fmt.Fprintf(&b, "  links:\n    - url: https://dash.example/%d\n      title: Dashboard\n", i)
		}
		return b.String()
	}
	var all []*genEntity
	add := func(kind, nm, spec string, i int) {
		all = append(all, &genEntity{kind: kind, name: nm, description: fmt.Sprintf("%s %s of the generated catalog.", kind, nm), tags: tagsOf(),
			rest: common(i) + "spec:\n" + spec})
	}
	for i := 0; i < groups; i++ {
		spec := fmt.Sprintf("  type: %s\n  children: []\n", pick([]string{"team", "department"}))
		if i > 0 {
			spec += fmt.Sprintf("  parent: %s\n", name("team", (i-1)/3))
		}
		add("Group", name("team", i), spec, i)
	}
	for i := 0; i < users; i++ {
		add("User", name("person", i), fmt.Sprintf("  profile:\n    email: person-%d@example.com\n  memberOf: [%s]\n", i, name("team", rng.IntN(groups))), i)
	}
	for i := 0; i < domains; i++ {
		add("Domain", name("domain", i), fmt.Sprintf("  owner: %s\n", owner()), i)
	}
	for i := 0; i < systems; i++ {
		add("System", name("system", i), fmt.Sprintf("  owner: %s\n  domain: %s\n", owner(), name("domain", rng.IntN(domains))), i)
	}
	for i := 0; i < apis; i++ {
		add("API", name("api", i), fmt.Sprintf("  type: %s\n  lifecycle: %s\n  owner: %s\n  system: %s\n  definition: \"openapi: 3.0.0\"\n",
			pick([]string{"openapi", "grpc", "graphql", "asyncapi"}), pick([]string{"production", "experimental", "deprecated"}), owner(), name("system", rng.IntN(systems))), i)
	}
	for i := 0; i < resources; i++ {
		add("Resource", name("db", i), fmt.Sprintf("  type: %s\n  owner: %s\n  system: %s\n", pick([]string{"database", "s3-bucket", "queue"}), owner(), name("system", rng.IntN(systems))), i)
	}
	for i := 0; i < components; i++ {
		var b strings.Builder
		fmt.Fprintf(&b, "  type: %s\n  lifecycle: %s\n  owner: %s\n  system: %s\n",
			pick([]string{"service", "website", "library"}), pick([]string{"production", "experimental", "deprecated"}), owner(), name("system", rng.IntN(systems)))
		fmt.Fprintf(&b, "  providesApis: [%s]\n", name("api", rng.IntN(apis+5))) // a few dangle
		fmt.Fprintf(&b, "  consumesApis: [%s, %s]\n", name("api", rng.IntN(apis)), name("api", rng.IntN(apis)))
		fmt.Fprintf(&b, "  dependsOn: [resource:%s, component:%s]\n", name("db", rng.IntN(resources)), name("service", rng.IntN(components)))
		if i > 0 && rng.IntN(5) == 0 {
			fmt.Fprintf(&b, "  subcomponentOf: %s\n", name("service", rng.IntN(i)))
		}
		add("Component", name("service", i), b.String(), i)
	}
	// Spread the kinds over the files.
	shuffled := make([]*genEntity, len(all))
	for i, j := range rng.Perm(len(all)) {
		shuffled[i] = all[j]
	}
	c := &genCatalog{dir: dir, root: filepath.Join(dir, "root.yaml"), rng: rng}
	per := min((len(shuffled)+catalogFiles-1)/catalogFiles, maxPerFile)
	var targets strings.Builder
	for f := 0; f*per < len(shuffled); f++ {
		path := filepath.Join(dir, fmt.Sprintf("entities-%05d.yaml", f))
		c.files = append(c.files, path)
		c.byFile = append(c.byFile, shuffled[f*per:min((f+1)*per, len(shuffled))])
		fmt.Fprintf(&targets, "    - ./%s\n", filepath.Base(path))
		c.write(tb, f)
	}
	writeFile(tb, c.root, "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: generated-root\n  description: Every file of the generated catalog.\nspec:\n  type: file\n  targets:\n"+targets.String())
	return c
}

// write renders file f.
func (c *genCatalog) write(tb testing.TB, f int) {
	tb.Helper()
	var b strings.Builder
	for _, e := range c.byFile[f] {
		fmt.Fprintf(&b, "---\napiVersion: backstage.io/v1alpha1\nkind: %s\nmetadata:\n  name: %s\n  description: %q\n", e.kind, e.name, e.description)
		if len(e.tags) > 0 {
			fmt.Fprintf(&b, "  tags: [%s]\n", strings.Join(e.tags, ", "))
		}
		b.WriteString(e.rest)
	}
	writeFile(tb, c.files[f], b.String())
}

// edit changes the description and tags of k components picked at random and
// rewrites their files; it returns the names it edited.
func (c *genCatalog) edit(tb testing.TB, k int) []string {
	tb.Helper()
	type at struct{ f, i int }
	var comps []at
	for f, ents := range c.byFile {
		for i, e := range ents {
			if e.kind == "Component" {
				comps = append(comps, at{f, i})
			}
		}
	}
	touched := map[int]bool{}
	var names []string
	for _, j := range c.rng.Perm(len(comps))[:min(k, len(comps))] {
		e := c.byFile[comps[j].f][comps[j].i]
		c.edits++
		e.description = fmt.Sprintf("%s Edited (%d).", e.description, c.edits)
		e.tags = append(append([]string{}, e.tags...), fmt.Sprintf("edit-%d", c.edits))
		touched[comps[j].f] = true
		names = append(names, e.name)
	}
	for f := range c.byFile {
		if touched[f] {
			c.write(tb, f)
		}
	}
	return names
}
