package catalogmodel_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// descriptor is one generated case: an id that says what it probes, and the
// entity body both validators read.
type descriptor struct {
	ID     string         `json:"id"`
	Entity map[string]any `json:"entity,omitempty"`
	// YAML, when set, is the descriptor file's text, read by each side's
	// own YAML parser instead of Entity.
	YAML string `json:"yaml,omitempty"`
}

// absent, as a value in an edit, removes the field.
var absent = &struct{ absent bool }{true}

// base returns a valid descriptor of the kind (AiResource and API by their
// spec.type) as a fresh tree the caller may edit.
func base(kind string) map[string]any {
	spec := map[string]any{}
	apiVersion := "backstage.io/v1alpha1"
	switch kind {
	case "Component":
		spec = map[string]any{"type": "service", "lifecycle": "production", "owner": "routing"}
	case "API":
		spec = map[string]any{"type": "openapi", "lifecycle": "production", "owner": "routing", "definition": "openapi: 3.0.0"}
	case "mcp-server":
		kind = "API"
		spec = map[string]any{"type": "mcp-server", "lifecycle": "production", "owner": "routing",
			"remotes": []any{map[string]any{"type": "streamable-http", "url": "https://mcp.larkspur.example"}}}
	case "Resource":
		spec = map[string]any{"type": "database", "owner": "routing"}
	case "System":
		spec = map[string]any{"owner": "routing"}
	case "Domain":
		spec = map[string]any{"owner": "routing"}
	case "Group":
		spec = map[string]any{"type": "team", "children": []any{}}
	case "User":
		spec = map[string]any{"memberOf": []any{}}
	case "Location":
		spec = map[string]any{"type": "url", "target": "https://git.larkspur.example/catalog-info.yaml"}
	case "ai-model-server":
		kind = "API"
		spec = map[string]any{"type": "ai-model-server", "lifecycle": "production", "owner": "routing",
			"remotes": []any{map[string]any{"type": "openai", "url": "https://models.larkspur.example/v1"}}}
	case "Environment":
		spec = map[string]any{"lifecycle": "production"}
	case "Policy":
		apiVersion = "backlot.dev/v1alpha1"
		spec = map[string]any{"selector": "entity.kind == 'Component'", "levels": []any{"bronze"},
			"checks": []any{map[string]any{"id": "owner", "level": "bronze", "expr": "has(entity.spec.owner)"}}}
	case "Template":
		apiVersion = "scaffolder.backstage.io/v1beta3"
		spec = map[string]any{"type": "service", "steps": []any{map[string]any{"id": "log", "action": "debug:log"}}}
	case "skill", "rule", "plugin", "marketplace":
		spec = map[string]any{"type": kind, "lifecycle": "production", "owner": "routing"}
		switch kind {
		case "rule":
			spec["category"], spec["rationale"] = "security", "Secrets stay in the vault"
		case "plugin":
			spec["skills"] = []any{"airesource:default/routing-conventions"}
		case "marketplace":
			spec["plugins"] = []any{"airesource:default/dispatch-plugin"}
		}
		kind = "AiResource"
	}
	return map[string]any{
		"apiVersion": apiVersion,
		"kind":       kind,
		"metadata":   map[string]any{"name": "parcel-tracker"},
		"spec":       spec,
	}
}

// edit returns a deep copy of e with the value at the dotted path set (or
// removed when value is absent); path segments may not contain dots, so keys
// with dots are set through the last segment's literal key in editKey.
func edit(e map[string]any, path string, value any) map[string]any {
	return editKey(e, strings.Split(path, "."), value)
}

func editKey(e map[string]any, keys []string, value any) map[string]any {
	out := clone(e).(map[string]any)
	m := out
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	last := keys[len(keys)-1]
	if value == absent {
		delete(m, last)
	} else {
		m[last] = clone(value)
	}
	return out
}

func clone(v any) any {
	if v == nil || v == absent {
		return v
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// generator collects descriptors with unique ids.
type generator struct {
	cases []descriptor
	seen  map[string]bool
}

func (g *generator) add(id string, e map[string]any) {
	if g.seen == nil {
		g.seen = map[string]bool{}
	}
	if g.seen[id] {
		panic("duplicate case id " + id)
	}
	g.seen[id] = true
	g.cases = append(g.cases, descriptor{ID: id, Entity: e})
}

func (g *generator) yaml(id, text string) {
	g.add(id, nil)
	g.cases[len(g.cases)-1].YAML = text
}

func show(v any) string {
	if v == absent {
		return "absent"
	}
	b, _ := json.Marshal(v)
	s := string(b)
	if len(s) > 40 {
		s = fmt.Sprintf("%s…(%d)", s[:30], len(s))
	}
	return s
}

func rep(s string, n int) string { return strings.Repeat(s, n) }

// generate makes the descriptors: each rule's accepted and rejected edges.
func generate() []descriptor {
	g := &generator{}
	kinds := []string{"Component", "API", "mcp-server", "Resource", "System", "Domain", "Group", "User", "Location", "Template",
		"skill", "rule", "plugin", "marketplace"}
	for _, k := range append(kinds, "ai-model-server", "Environment", "Policy") {
		g.add("valid/"+k, base(k))
	}

	// metadata.name: 1 to 63 characters, [a-zA-Z0-9] runs joined by [-_.].
	names := []any{"a", "Z", "7", "a-b", "a_b", "a.b", "a--b", "a__b", "a..b", "a-_.b", "-a", "a-", "_a", "a_", ".a", "a.",
		"a b", "a/b", "a:b", "a@b", "a+b", "a#b", "ä", "", " a", "a\n", rep("a", 63), rep("a", 64), rep("ab-", 21), rep("a.", 31) + "a",
		"Parcel.Tracker_V2", "1.2.3", "x" + rep("-", 61) + "y", "x" + rep("-", 62) + "y", 5, true, nil, []any{"a"}, map[string]any{}, absent}
	for _, k := range []string{"Component", "Group", "User", "Location"} {
		for _, n := range names {
			g.add(fmt.Sprintf("name/%s/%s", k, show(n)), edit(base(k), "metadata.name", n))
		}
	}

	// metadata.namespace: a DNS label.
	namespaces := []any{"default", "billing", "a", "a-b", "a--b", "a1", "1a", "-a", "a-", "A", "Billing", "a_b", "a.b", "a b",
		rep("n", 63), rep("n", 64), "", 5, nil, []any{}}
	for _, k := range []string{"Component", "System"} {
		for _, ns := range namespaces {
			g.add(fmt.Sprintf("namespace/%s/%s", k, show(ns)), edit(base(k), "metadata.namespace", ns))
		}
	}

	// metadata.title, description, uid, etag: strings.
	for _, f := range []string{"title", "description", "uid", "etag"} {
		for _, v := range []any{"Parcel tracker", "", 5, true, nil, []any{"x"}, map[string]any{}} {
			g.add(fmt.Sprintf("metadata.%s/%s", f, show(v)), edit(base("Component"), "metadata."+f, v))
		}
	}

	// metadata.tags: [a-z0-9:+#] runs joined by single dashes, 1 to 63.
	tags := []any{"go", "c++", "c#", "a:b", "a+b#c", "a-b", "a--b", "-a", "a-", "A", "Go", "a_b", "a.b", "a b", "1", rep("t", 63), rep("t", 64),
		"", "é", 5, nil, true}
	for _, tag := range tags {
		g.add("tag/"+show(tag), edit(base("Component"), "metadata.tags", []any{"ok", tag}))
	}
	for _, v := range []any{"go", []any{}, map[string]any{}, 5, nil, []any{"go", "go"}} {
		g.add("tags/"+show(v), edit(base("Component"), "metadata.tags", v))
	}

	// metadata.labels: [prefix/]name keys, object-name or empty values.
	keys := []string{"k", "K", "k-1", "k.v", "a/b", "larkspur.example/size", "Larkspur.example/size", "a_b/c", "-a/b", "a-/b", "a/b/c", "/a",
		"a/", "a..b/c", "a.b./c", rep("k", 63), rep("k", 64), rep("p", 63) + "/k", rep("p", 64) + "/k", rep(rep("p", 62)+".", 4) + "p/k",
		rep(rep("p", 63)+".", 4) + "pp/k", "a b", "k_", "_k", "1/2", ""}
	for _, k := range keys {
		g.add("label-key/"+show(k), editKey(base("Component"), []string{"metadata", "labels", k}, "v"))
		g.add("annotation-key/"+show(k), editKey(base("Component"), []string{"metadata", "annotations", k}, "v"))
	}
	for _, v := range []any{"", "v", "V-1.2_3", "a b", "-a", "a-", "a/b", "a:b", rep("v", 63), rep("v", 64), 5, true, nil, []any{}, map[string]any{}} {
		g.add("label-value/"+show(v), editKey(base("Component"), []string{"metadata", "labels", "k"}, v))
	}
	for _, v := range []any{"", "v", "anything at all: / # \n", rep("v", 5000), 5, 1.5, true, nil, []any{"x"}, map[string]any{}} {
		g.add("annotation-value/"+show(v), editKey(base("Component"), []string{"metadata", "annotations", "larkspur.example/note"}, v))
	}
	for _, f := range []string{"labels", "annotations"} {
		for _, v := range []any{map[string]any{}, []any{}, "x", 5, nil} {
			g.add(fmt.Sprintf("%s/%s", f, show(v)), edit(base("Component"), "metadata."+f, v))
		}
	}

	// metadata.links: objects with a url, and optional title, icon, type.
	link := func(fields ...any) map[string]any {
		m := map[string]any{"url": "https://wiki.larkspur.example/tracker"}
		for i := 0; i < len(fields); i += 2 {
			if fields[i+1] == absent {
				delete(m, fields[i].(string))
			} else {
				m[fields[i].(string)] = fields[i+1]
			}
		}
		return m
	}
	links := map[string]any{
		"url only":          link(),
		"all fields":        link("title", "Wiki", "icon", "docs", "type", "runbook"),
		"no url":            link("url", absent, "title", "Wiki"),
		"empty url":         link("url", ""),
		"url not a url":     link("url", "not a url"),
		"relative url":      link("url", "/wiki/tracker"),
		"mailto url":        link("url", "mailto:routing@larkspur.example"),
		"url with spaces":   link("url", "https://wiki.larkspur.example/a b"),
		"url number":        link("url", 5),
		"url null":          link("url", nil),
		"empty title":       link("title", ""),
		"title number":      link("title", 5),
		"title null":        link("title", nil),
		"empty icon":        link("icon", ""),
		"icon number":       link("icon", 5),
		"empty type":        link("type", ""),
		"type number":       link("type", 5),
		"type null":         link("type", nil),
		"foreign field":     link("color", "red"),
		"ftp url":           link("url", "ftp://files.larkspur.example"),
		"url without host":  link("url", "https://"),
		"custom scheme url": link("url", "slack://channel?team=T1&id=C2"),
	}
	for name, l := range links {
		g.add("link/"+name, edit(base("Component"), "metadata.links", []any{l}))
	}
	for _, v := range []any{[]any{}, "https://x", []any{"https://x"}, map[string]any{"url": "https://x"}, 5, nil} {
		g.add("links/"+show(v), edit(base("Component"), "metadata.links", v))
	}

	// The envelope: root fields, apiVersion and kind.
	for _, f := range []struct {
		name  string
		value any
	}{{"relations", []any{}}, {"status", map[string]any{}}, {"foo", "bar"}, {"Spec", map[string]any{}}, {"data", nil}} {
		g.add("root/"+f.name, edit(base("Component"), f.name, f.value))
	}
	g.add("root/no metadata", edit(base("Component"), "metadata", absent))
	g.add("root/metadata string", edit(base("Component"), "metadata", "x"))
	g.add("root/metadata null", edit(base("Component"), "metadata", nil))
	g.add("root/metadata foreign field", edit(base("Component"), "metadata.owner", "routing"))
	apiVersions := []any{"backstage.io/v1alpha1", "backstage.io/v1beta1", "backstage.io/v1alpha2", "backstage.io/v1", "backstage.io/v1beta2",
		"v1alpha1", "backstage.io/", "/v1alpha1", "Backstage.io/v1alpha1", "backstage.io/V1alpha1", "backstage.io/v1alpha1/x",
		"scaffolder.backstage.io/v1beta3", "larkspur.example/v1alpha1", "backstage.io/v1-alpha1", "", 5, nil, absent}
	for _, k := range []string{"Component", "API", "Group", "Location", "Template"} {
		for _, v := range apiVersions {
			g.add(fmt.Sprintf("apiVersion/%s/%s", k, show(v)), edit(base(k), "apiVersion", v))
		}
	}
	for _, v := range []any{"Component", "component", "COMPONENT", "cOmPoNeNt", "Componentx", "Comp-onent", "Comp onent", "1Component", "",
		"Widget", "Environment", "Policy", 5, nil, absent} {
		g.add("kind/"+show(v), edit(base("Component"), "kind", v))
	}

	// Each kind's spec: required and optional fields, missing, wrong types, empty.
	wrong := []any{"", 5, true, nil, []any{}, []any{"x"}, map[string]any{}, absent, "x"}
	fields := map[string][]string{
		"Component":   {"type", "lifecycle", "owner", "system", "subcomponentOf", "providesApis", "consumesApis", "dependsOn", "dependencyOf"},
		"API":         {"type", "lifecycle", "owner", "system", "definition"},
		"mcp-server":  {"lifecycle", "owner", "system", "remotes"},
		"Resource":    {"type", "owner", "system", "dependsOn", "dependencyOf"},
		"System":      {"owner", "domain", "type"},
		"Domain":      {"owner", "subdomainOf", "type"},
		"Group":       {"type", "profile", "parent", "children", "members"},
		"User":        {"profile", "memberOf"},
		"Location":    {"type", "target", "targets", "presence"},
		"Template":    {"type", "owner", "parameters", "steps", "output"},
		"skill":       {"type", "lifecycle", "owner", "system", "disciplines", "categories", "agents", "dependsOn"},
		"rule":        {"category", "rationale", "disciplines"},
		"plugin":      {"skills", "version"},
		"marketplace": {"plugins", "version"},
	}
	for _, k := range kinds {
		for _, f := range fields[k] {
			for _, v := range wrong {
				if f == "type" && v == "x" && (k == "skill") {
					continue
				}
				g.add(fmt.Sprintf("spec/%s/%s/%s", k, f, show(v)), edit(base(k), "spec."+f, v))
			}
		}
		for _, v := range []any{absent, nil, "x", []any{}, map[string]any{}} {
			g.add(fmt.Sprintf("spec/%s/%s", k, show(v)), edit(base(k), "spec", v))
		}
	}
	for _, v := range []any{[]any{"a", 5}, []any{""}, []any{"api:a", "api:a"}} {
		g.add("spec/Component/providesApis item/"+show(v), edit(base("Component"), "spec.providesApis", v))
	}
	for _, v := range []any{map[string]any{"displayName": "Ada", "email": "ada@larkspur.example", "picture": "https://x/y.png"},
		map[string]any{"displayName": 5}, map[string]any{"email": 5}, map[string]any{"email": ""}, map[string]any{"picture": 5}, map[string]any{"foo": "bar"}} {
		g.add("spec/User/profile fields/"+show(v), edit(base("User"), "spec.profile", v))
		g.add("spec/Group/profile fields/"+show(v), edit(base("Group"), "spec.profile", v))
	}
	for _, v := range []any{[]any{map[string]any{"type": "sse"}}, []any{map[string]any{"url": "https://x"}}, []any{"https://x"},
		[]any{map[string]any{"type": "", "url": "https://x"}}} {
		g.add("spec/mcp-server/remotes item/"+show(v), edit(base("mcp-server"), "spec.remotes", v))
	}
	for _, v := range []any{[]any{map[string]any{"id": "a"}}, []any{map[string]any{"action": "debug:log"}}, []any{"x"},
		[]any{map[string]any{"id": "a", "action": "debug:log", "if": true, "each": []any{1}}}} {
		g.add("spec/Template/steps item/"+show(v), edit(base("Template"), "spec.steps", v))
	}

	step := func(k string, v any) map[string]any {
		m := map[string]any{"id": "log", "name": "Log", "action": "debug:log", "input": map[string]any{"message": "hi"}}
		if v == absent {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for _, k := range []string{"id", "name", "action", "input", "if"} {
		for _, v := range []any{"", "x", 5, true, nil, []any{}, map[string]any{}, absent} {
			g.add(fmt.Sprintf("spec/Template/step %s/%s", k, show(v)), edit(base("Template"), "spec.steps", []any{step(k, v)}))
		}
	}
	for _, v := range []any{map[string]any{"links": []any{map[string]any{"title": "Repo", "url": "https://x"}}}, map[string]any{"links": "x"},
		map[string]any{"text": []any{map[string]any{"title": "Readme", "content": "hi"}}}} {
		g.add("spec/Template/output fields/"+show(v), edit(base("Template"), "spec.output", v))
	}
	for _, v := range []any{map[string]any{"title": "One page", "properties": map[string]any{"name": map[string]any{"type": "string"}}},
		[]any{map[string]any{"title": "Page", "required": []any{"name"}}}, []any{}, []any{map[string]any{}, 5}} {
		g.add("spec/Template/parameters forms/"+show(v), edit(base("Template"), "spec.parameters", v))
	}

	// Location: target and targets, alone, together, neither.
	loc := edit(base("Location"), "spec.target", absent)
	g.add("location/neither target nor targets", loc)
	g.add("location/only type", edit(loc, "spec.type", "url"))
	g.add("location/targets", edit(loc, "spec.targets", []any{"./a.yaml", "./b.yaml"}))
	g.add("location/targets empty", edit(loc, "spec.targets", []any{}))
	g.add("location/targets empty item", edit(loc, "spec.targets", []any{""}))
	g.add("location/target and targets", edit(base("Location"), "spec.targets", []any{"./a.yaml"}))
	g.add("location/no type", edit(base("Location"), "spec.type", absent))
	// Cases from public catalogs: a discovery type (valid as an entity; the
	// error comes when it is read), targets left null beside a target.
	g.add("location/type github-discovery", edit(edit(base("Location"), "spec.type", "github-discovery"),
		"spec.target", "https://github.com/larkspur/*/blob/-/catalog-info.yaml"))
	g.add("location/targets null beside target", edit(base("Location"), "spec.targets", nil))
	g.yaml("yaml/location targets left empty", "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: all\nspec:\n  type: url\n  targets:\n")
	g.add("api/openapi without definition", edit(base("API"), "spec.definition", absent))
	g.add("api/mcp-server with definition only", edit(edit(base("mcp-server"), "spec.remotes", absent), "spec.definition", "x"))
	for _, p := range []any{"required", "optional", "maybe", ""} {
		g.add("location/presence "+show(p), edit(base("Location"), "spec.presence", p))
	}

	// Entity refs in spec fields: the reference forms and their broken edges.
	refs := []any{"routing", "group:routing", "Group:Routing", "group:default/routing", "default/routing", "billing/routing",
		"user:priya.raman", "component:routing", ":routing", "group:", "group:/routing", "group:default/", "/routing", "routing/",
		"a:b:c", "group:a/b/c", "billing/a:b", "a/b:c", "group:billing/a:b/c", "routing team", "https://larkspur.example/routing", "group:default/Routing_Team.2", "ä"}
	refFields := []struct{ kind, field string }{
		{"Component", "owner"}, {"Component", "system"}, {"Component", "subcomponentOf"},
		{"System", "domain"}, {"Domain", "subdomainOf"}, {"Group", "parent"}, {"Template", "owner"},
	}
	for _, rf := range refFields {
		for _, r := range refs {
			g.add(fmt.Sprintf("ref/%s.%s/%s", rf.kind, rf.field, show(r)), edit(base(rf.kind), "spec."+rf.field, r))
		}
	}
	listRefFields := []struct{ kind, field string }{
		{"Component", "dependsOn"}, {"Component", "providesApis"}, {"Resource", "dependencyOf"},
		{"Group", "children"}, {"Group", "members"}, {"User", "memberOf"},
	}
	for _, rf := range listRefFields {
		for _, r := range refs {
			g.add(fmt.Sprintf("ref/%s.%s/%s", rf.kind, rf.field, show(r)), edit(base(rf.kind), "spec."+rf.field, []any{r}))
		}
	}

	// YAML itself: scalars YAML 1.1 and 1.2 read differently, duplicate keys,
	// anchors and merge keys, a root that is not a mapping.
	component := func(name, extra string) string {
		return "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: " + name + "\n" + extra +
			"spec:\n  type: service\n  lifecycle: production\n  owner: routing\n"
	}
	for _, n := range []string{"parcel-tracker", "007", "0x1F", "0o17", "1e3", "1_000", "12", "yes", "on", "off", "true", "True", "~", "null",
		"2024-01-01", ".inf", ".nan", "'007'", "\"yes\"", "+1", "1.5", "0.5.1", "a:b", "'a b'",
		"0b1010", "-0b1", "1_000.5", "1:20", "-0x1F", "+0o7", "0o8", "08", "0.", ".5", "1.", "-.inf", ".NaN", "NULL", "Null", "TRUE", "y", "n", "=", "1e", "1E+3", "0x", "-"} {
		g.yaml("yaml/name "+n, component(n, ""))
	}
	for _, extra := range []string{
		"  tags: [on, off, yes, no]\n",
		"  tags: [1, 2]\n",
		"  labels:\n    tier: 1\n",
		"  labels:\n    tier: '1'\n",
		"  labels:\n    beta: yes\n",
		"  annotations:\n    larkspur.example/since: 2024-01-01\n",
		"  annotations:\n    larkspur.example/count: 12\n",
		"  annotations:\n    larkspur.example/empty:\n",
		"  title: 2024\n",
		"  description: |\n    Two lines\n    of text\n",
		"  name: twice\n",
	} {
		g.yaml("yaml/metadata "+strings.TrimSpace(extra), component("parcel-tracker", extra))
	}
	g.yaml("yaml/anchor and alias", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: &n parcel-tracker\n  title: *n\n"+
		"spec:\n  type: service\n  lifecycle: production\n  owner: routing\n")
	g.yaml("yaml/merge key", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: parcel-tracker\n"+
		"  annotations: &common\n    larkspur.example/type: service\nspec:\n  <<: *common\n  type: service\n  lifecycle: production\n  owner: routing\n")
	g.yaml("yaml/merge key holds required fields", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: parcel-tracker\n"+
		"  labels: &common\n    type: service\n    lifecycle: production\nspec:\n  <<: *common\n  owner: routing\n")
	g.yaml("yaml/duplicate spec key", component("parcel-tracker", "")+"  owner: platform\n")
	g.yaml("yaml/root is a list", "- apiVersion: backstage.io/v1alpha1\n")
	g.yaml("yaml/root is a string", "just words\n")
	g.yaml("yaml/tab indentation", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n\tname: parcel-tracker\n")
	g.yaml("yaml/flow mapping", `{apiVersion: backstage.io/v1alpha1, kind: Component, metadata: {name: parcel-tracker}, spec: {type: service, lifecycle: production, owner: routing}}`)
	g.yaml("yaml/explicit string tag", component("!!str 007", ""))
	g.yaml("yaml/binary tag", component("!!binary aGVsbG8=", ""))
	g.yaml("yaml/complex key", component("parcel-tracker", "  labels:\n    ? [a, b]\n    : v\n"))

	sort.SliceStable(g.cases, func(i, j int) bool { return g.cases[i].ID < g.cases[j].ID })
	return g.cases
}
