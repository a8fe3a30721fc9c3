package webui

import (
	"fmt"
	"html/template"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxDefinition bounds the API definitions the entity page renders as
// documentation; a larger one is shown as highlighted text only.
const maxDefinition = 1 << 20

// apiDoc is an API definition rendered as documentation.
type apiDoc struct {
	// Type is openapi, asyncapi, graphql, grpc or another spec.type.
	Type        string
	Title       string
	Version     string
	Description string
	Servers     []string
	Operations  []apiOp
	Schemas     []apiSchema
	// Source is the definition as written, highlighted for graphql and
	// grpc; Problem says why it is not rendered as documentation.
	Source  template.HTML
	Problem string
}

// apiOp is an operation: an HTTP method on a path, or a message action on
// a channel.
type apiOp struct {
	Method, Path, Summary, Description, ID string
	Params                                 []apiParam
	Request                                []string
	Responses                              []apiResp
}

// apiParam is one parameter of an operation.
type apiParam struct {
	Name, In, Type, Description string
	Required                    bool
}

// apiResp is one response of an operation.
type apiResp struct{ Code, Description, Schema string }

// apiSchema is a named schema with its properties.
type apiSchema struct {
	Name, Description string
	Props             []apiProp
}

// apiProp is one property of a schema.
type apiProp struct {
	Name, Type, Description string
	Required                bool
}

// renderAPI renders an API entity's definition by its spec.type.
func renderAPI(typ, def string) apiDoc {
	d := apiDoc{Type: strings.ToLower(typ)}
	switch d.Type {
	case "graphql":
		d.Source = highlight(def, graphqlLang)
		return d
	case "grpc":
		d.Source = highlight(def, protoLang)
		return d
	case "openapi", "asyncapi":
	default:
		d.Source = template.HTML(template.HTMLEscapeString(def))
		return d
	}
	d.Source = template.HTML(template.HTMLEscapeString(def))
	if len(def) > maxDefinition {
		d.Problem = "the definition is larger than 1 MiB; it is shown as written"
		return d
	}
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(def), &doc); err != nil {
		d.Problem = "the definition does not parse as YAML or JSON: " + err.Error()
		return d
	}
	r := resolver{root: doc}
	info := r.obj(doc["info"])
	d.Title, d.Version, d.Description = str(info["title"]), str(info["version"]), str(info["description"])
	if d.Type == "openapi" {
		d.openAPI(r, doc)
	} else {
		d.asyncAPI(r, doc)
	}
	comps := r.obj(doc["components"])
	schemas := r.obj(comps["schemas"])
	for _, name := range sortedKeys(schemas) {
		s := r.obj(schemas[name])
		sc := apiSchema{Name: name, Description: str(s["description"])}
		req := strs(s["required"])
		props := r.obj(s["properties"])
		for _, pn := range sortedKeys(props) {
			p := r.obj(props[pn])
			sc.Props = append(sc.Props, apiProp{Name: pn, Type: typeOf(props[pn], p), Description: str(p["description"]), Required: slices.Contains(req, pn)})
		}
		d.Schemas = append(d.Schemas, sc)
	}
	return d
}

// openAPI reads servers and paths of an OpenAPI 3 (or Swagger 2) document.
func (d *apiDoc) openAPI(r resolver, doc map[string]any) {
	for _, s := range r.list(doc["servers"]) {
		d.Servers = append(d.Servers, str(r.obj(s)["url"]))
	}
	if h := str(doc["host"]); h != "" {
		d.Servers = append(d.Servers, h+str(doc["basePath"]))
	}
	paths := r.obj(doc["paths"])
	for _, path := range sortedKeys(paths) {
		item := r.obj(paths[path])
		shared := r.list(item["parameters"])
		for _, m := range []string{"get", "put", "post", "delete", "patch", "head", "options"} {
			op := r.obj(item[m])
			if op == nil {
				continue
			}
			o := apiOp{Method: m, Path: path, Summary: str(op["summary"]), Description: str(op["description"]), ID: str(op["operationId"])}
			for _, p := range append(slices.Clone(shared), r.list(op["parameters"])...) {
				pm := r.obj(p)
				o.Params = append(o.Params, apiParam{Name: str(pm["name"]), In: str(pm["in"]), Type: typeOf(pm["schema"], r.obj(pm["schema"])), Description: str(pm["description"]), Required: pm["required"] == true})
			}
			if body := r.obj(op["requestBody"]); body != nil {
				content := r.obj(body["content"])
				for _, ct := range sortedKeys(content) {
					o.Request = append(o.Request, ct+" "+typeOf(r.obj(content[ct])["schema"], nil))
				}
			}
			resps := r.obj(op["responses"])
			for _, code := range sortedKeys(resps) {
				resp := r.obj(resps[code])
				schema := ""
				content := r.obj(resp["content"])
				for _, ct := range sortedKeys(content) {
					schema = typeOf(r.obj(content[ct])["schema"], nil)
					break
				}
				o.Responses = append(o.Responses, apiResp{Code: code, Description: str(resp["description"]), Schema: schema})
			}
			d.Operations = append(d.Operations, o)
		}
	}
}

// asyncAPI reads servers, channels and operations of an AsyncAPI 2 or 3
// document.
func (d *apiDoc) asyncAPI(r resolver, doc map[string]any) {
	servers := r.obj(doc["servers"])
	for _, name := range sortedKeys(servers) {
		s := r.obj(servers[name])
		u := str(s["url"])
		if u == "" {
			u = str(s["host"]) + str(s["pathname"])
		}
		d.Servers = append(d.Servers, fmt.Sprintf("%s: %s (%s)", name, u, str(s["protocol"])))
	}
	channels := r.obj(doc["channels"])
	if ops := r.obj(doc["operations"]); ops != nil { // AsyncAPI 3
		for _, id := range sortedKeys(ops) {
			op := r.obj(ops[id])
			chRaw := op["channel"]
			ch := r.obj(chRaw)
			addr := str(ch["address"])
			if addr == "" {
				addr = refName(refOf(chRaw))
			}
			o := apiOp{Method: str(op["action"]), Path: addr, Summary: str(op["summary"]), Description: str(op["description"]), ID: id}
			msgs := r.list(op["messages"])
			if len(msgs) == 0 {
				for _, mn := range sortedKeys(r.obj(ch["messages"])) {
					msgs = append(msgs, r.obj(ch["messages"])[mn])
				}
			}
			for _, m := range msgs {
				o.Request = append(o.Request, messageName(r, m))
			}
			d.Operations = append(d.Operations, o)
		}
		return
	}
	for _, name := range sortedKeys(channels) { // AsyncAPI 2
		ch := r.obj(channels[name])
		for _, action := range []string{"publish", "subscribe"} {
			op := r.obj(ch[action])
			if op == nil {
				continue
			}
			o := apiOp{Method: action, Path: name, Summary: str(op["summary"]), Description: firstNonEmpty(str(op["description"]), str(ch["description"])), ID: str(op["operationId"])}
			if m := op["message"]; m != nil {
				if one := r.obj(m)["oneOf"]; one != nil {
					for _, x := range r.list(one) {
						o.Request = append(o.Request, messageName(r, x))
					}
				} else {
					o.Request = append(o.Request, messageName(r, m))
				}
			}
			d.Operations = append(d.Operations, o)
		}
	}
}

// messageName names a message: its name or title, its payload's schema.
func messageName(r resolver, m any) string {
	mm := r.obj(m)
	name := firstNonEmpty(str(mm["name"]), str(mm["title"]), refName(refOf(m)))
	if p := mm["payload"]; p != nil {
		name += " (" + typeOf(p, r.obj(p)) + ")"
	}
	return name
}

// resolver follows local $ref pointers ("#/components/...") of a document.
type resolver struct{ root map[string]any }

// obj returns v as an object, following a $ref (up to a depth), or nil.
func (r resolver) obj(v any) map[string]any {
	for range 8 {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		v = r.lookup(ref)
	}
	return nil
}

// list returns v as a list, or nil.
func (r resolver) list(v any) []any {
	l, _ := v.([]any)
	return l
}

// lookup resolves a local JSON pointer.
func (r resolver) lookup(ref string) any {
	if !strings.HasPrefix(ref, "#/") {
		return nil
	}
	var cur any = r.root
	for _, part := range strings.Split(ref[2:], "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// refOf returns v's $ref, or "".
func refOf(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["$ref"].(string)
	return s
}

// typeOf describes a schema: the name of the schema a $ref names, or its
// type (with the item type of an array).
func typeOf(raw any, resolved map[string]any) string {
	if ref := refOf(raw); ref != "" {
		return ref[strings.LastIndex(ref, "/")+1:]
	}
	m := resolved
	if m == nil {
		m, _ = raw.(map[string]any)
	}
	if m == nil {
		return ""
	}
	t := str(m["type"])
	if t == "array" {
		return "array of " + typeOf(m["items"], nil)
	}
	if f := str(m["format"]); f != "" {
		t += " (" + f + ")"
	}
	if e, ok := m["enum"].([]any); ok {
		var vals []string
		for _, x := range e {
			vals = append(vals, fmt.Sprint(x))
		}
		t += " enum: " + strings.Join(vals, ", ")
	}
	return t
}

func str(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return ""
	default:
		return fmt.Sprint(t)
	}
}

func strs(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		out = append(out, str(x))
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
