package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Limits bound what one descriptor file may cost to read, so a hostile file cannot
// exhaust memory. The zero value means the defaults, which accept what Backstage
// accepts (a file of 20,000 entities and 5 MB) with room to spare.
type Limits struct {
	// MaxFileBytes is the largest file read; default 32 MiB.
	MaxFileBytes int64
	// MaxDocuments is the most YAML documents one file may hold; default 100,000.
	MaxDocuments int
	// MaxNodes is the most YAML nodes one document may expand to, counting every
	// use of an alias; default 100,000.
	MaxNodes int
	// MaxFileNodes is the most YAML nodes all documents of one file may expand
	// to together, aliases included, so many small alias bombs cannot add up;
	// default 8,000,000 (a 32 MiB file without aliases holds fewer).
	MaxFileNodes int
	// MaxDepth is the deepest nesting of one document; default 64.
	MaxDepth int
}

// Default limits.
const (
	DefaultMaxFileBytes = 32 << 20
	DefaultMaxDocuments = 100000
	DefaultMaxNodes     = 100000
	DefaultMaxFileNodes = 8000000
	DefaultMaxDepth     = 64
)

// WithDefaults returns l with zero fields set to the defaults.
func (l Limits) WithDefaults() Limits {
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = DefaultMaxFileBytes
	}
	if l.MaxDocuments <= 0 {
		l.MaxDocuments = DefaultMaxDocuments
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = DefaultMaxNodes
	}
	if l.MaxFileNodes <= 0 {
		l.MaxFileNodes = DefaultMaxFileNodes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	return l
}

// Document is one document of a descriptor file: its decoded body, or the error
// that kept it from being decoded.
type Document struct {
	// Index is the zero-based position of the document among the file's non-empty
	// documents.
	Index int
	// Line is the 1-based line the document starts on.
	Line int
	// Body is the decoded mapping; nil when Err is set.
	Body map[string]any
	// Err is a *DocumentError naming the file, document and, when known, the field.
	Err error
}

// ErrTooLarge marks a file or document over its Limits.
var ErrTooLarge = errors.New("over the size limit")

// ParseDocuments splits a YAML or JSON file into documents and decodes each one on
// its own, so a broken document does not hide the others. The error is set only when
// the whole file is refused (too large, too many documents).
func ParseDocuments(file string, data []byte, lim Limits) ([]Document, error) {
	lim = lim.WithDefaults()
	if int64(len(data)) > lim.MaxFileBytes {
		return nil, &DocumentError{File: file, Document: -1,
			Err: fmt.Errorf("file is %d bytes, %w of %d bytes", len(data), ErrTooLarge, lim.MaxFileBytes)}
	}
	chunks := SplitDocuments(data)
	if len(chunks) > lim.MaxDocuments {
		return nil, &DocumentError{File: file, Document: -1,
			Err: fmt.Errorf("file holds %d documents, %w of %d", len(chunks), ErrTooLarge, lim.MaxDocuments)}
	}
	docs := make([]Document, 0, len(chunks))
	fileBudget := lim.MaxFileNodes
	for i, c := range chunks {
		d, nodes := DecodeDocument(file, c, i, lim)
		if fileBudget -= nodes; fileBudget < 0 {
			return nil, &DocumentError{File: file, Document: -1,
				Err: fmt.Errorf("file expands to more than %d YAML nodes (aliases included; document %d at line %d passes the limit): %w", lim.MaxFileNodes, i+1, c.Line, ErrTooLarge)}
		}
		docs = append(docs, d)
	}
	return docs, nil
}

// DecodeDocument decodes the chunk of a file (SplitDocuments) that is its
// document index, as ParseDocuments does, and says how many YAML nodes it
// expanded to (aliases included), which count against lim.MaxFileNodes
// (its caller's to add up). lim must hold its defaults (Limits.WithDefaults).
func DecodeDocument(file string, c DocumentChunk, index int, lim Limits) (Document, int) {
	body, field, nodes, err := decodeDocument(c.Text, lim)
	if err != nil {
		err = shiftLines(err, c.Line-1)
	}
	d := Document{Index: index, Line: c.Line, Body: body}
	if err != nil {
		d.Body = nil
		d.Err = &DocumentError{File: file, Document: index, Line: c.Line, Entity: guessRef(body), Field: field, Err: err}
	}
	return d, nodes
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// shiftLines turns the document-relative line numbers of a YAML error into
// file-relative ones.
func shiftLines(err error, offset int) error {
	if offset == 0 || errors.Is(err, ErrTooLarge) {
		return err
	}
	msg := yamlLineRE.ReplaceAllStringFunc(err.Error(), func(m string) string {
		n, convErr := strconv.Atoi(m[len("line "):])
		if convErr != nil {
			return m
		}
		return "line " + strconv.Itoa(n+offset)
	})
	return errors.New(msg)
}

// DocumentChunk is one document of a YAML stream, not decoded yet.
type DocumentChunk struct {
	// Text is the document's text.
	Text []byte
	// Line is the 1-based line of the file the document starts on.
	Line int
}

// SplitDocuments cuts a YAML stream at its document markers ("---" and "...")
// at the start of a line and drops documents that hold only comments and
// space, as ParseDocuments does before it decodes each (DecodeDocument). It
// applies no limit.
func SplitDocuments(data []byte) []DocumentChunk {
	var out []DocumentChunk
	var cur bytes.Buffer
	start := 1
	line := 0
	flush := func() {
		if hasContent(cur.Bytes()) {
			out = append(out, DocumentChunk{Text: append([]byte(nil), cur.Bytes()...), Line: start})
		}
		cur.Reset()
	}
	for len(data) > 0 {
		line++
		var l []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i+1], data[i+1:]
		} else {
			l, data = data, nil
		}
		trimmed := bytes.TrimRight(l, "\r\n")
		switch {
		case bytes.Equal(trimmed, []byte("---")) || bytes.HasPrefix(trimmed, []byte("--- ")) || bytes.HasPrefix(trimmed, []byte("---\t")):
			flush()
			start = line + 1
			if rest := bytes.TrimSpace(trimmed[3:]); len(rest) > 0 {
				start = line
				cur.Write(rest)
				cur.WriteByte('\n')
			}
			continue
		case bytes.Equal(trimmed, []byte("...")):
			flush()
			start = line + 1
			continue
		}
		if cur.Len() == 0 && !hasContent(l) && !bytes.HasPrefix(bytes.TrimSpace(l), []byte("#")) {
			// leading blank lines: the document starts later
			start = line + 1
			continue
		}
		cur.Write(l)
	}
	flush()
	return out
}

// hasContent reports whether a line of b holds more than space, a comment
// or a directive.
func hasContent(b []byte) bool {
	for len(b) > 0 {
		l := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			l, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		t := bytes.TrimSpace(l)
		if len(t) > 0 && t[0] != '#' && t[0] != '%' {
			return true
		}
	}
	return false
}

// decodeDocument decodes one YAML document into a JSON-compatible mapping,
// and says how many nodes it expanded to: a document in the plain block
// style without a YAML node tree (decodeSimple), any other with the YAML
// path (decodeYAML), which gives the same for the first kind.
func decodeDocument(text []byte, lim Limits) (map[string]any, string, int, error) {
	if m, nodes, ok := decodeSimple(text, lim); ok {
		return m, "", nodes, nil
	}
	return decodeYAML(text, lim)
}

// decodeYAML decodes one YAML document through a YAML node tree, for any
// text: on error, the field it names (if any).
func decodeYAML(text []byte, lim Limits) (map[string]any, string, int, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(text, &root); err != nil {
		return nil, "", 0, fmt.Errorf("invalid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil, "", 0, errors.New("document is empty")
	}
	c := &converter{budget: lim.MaxNodes, maxDepth: lim.MaxDepth}
	v, err := c.convert(root.Content[0], 0, "")
	nodes := lim.MaxNodes - max(c.budget, 0)
	if err != nil {
		return nil, c.field, nodes, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, "", nodes, fmt.Errorf("document must be a mapping with apiVersion, kind and metadata, got %s", describe(v))
	}
	return m, "", nodes, nil
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "a list"
	case string:
		return "a string"
	default:
		return fmt.Sprintf("%T", v)
	}
}

type converter struct {
	budget   int
	maxDepth int
	field    string
}

func (c *converter) convert(n *yaml.Node, depth int, path string) (any, error) {
	c.budget--
	if c.budget < 0 {
		c.field = path
		return nil, fmt.Errorf("document expands to too many nodes (aliases included): %w", ErrTooLarge)
	}
	if depth > c.maxDepth {
		c.field = path
		return nil, fmt.Errorf("document nests deeper than %d levels: %w", c.maxDepth, ErrTooLarge)
	}
	switch n.Kind {
	case yaml.AliasNode:
		return c.convert(n.Alias, depth+1, path)
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.convert(n.Content[0], depth, path)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			v, err := c.convert(item, depth+1, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		// A "<<" key is a key like any other, as YAML 1.2 (and Backstage's
		// reader) has it: merge keys are YAML 1.1. A key may appear once.
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			key := k.Value
			if k.Kind != yaml.ScalarNode {
				c.field = path
				return nil, fmt.Errorf("line %d: mapping keys must be strings", k.Line)
			}
			child := key
			if path != "" {
				child = path + "." + key
			}
			if _, dup := out[key]; dup {
				c.field = child
				return nil, fmt.Errorf("line %d: key %q appears twice in the same mapping", k.Line, key)
			}
			v, err := c.convert(val, depth+1, child)
			if err != nil {
				return nil, err
			}
			out[key] = v
		}
		return out, nil
	case yaml.ScalarNode:
		return c.scalar(n, path)
	}
	c.field = path
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

// yaml11Number reports whether an untagged scalar is a number only in YAML
// 1.1 (digits with '_', a 0b binary literal), which YAML 1.2's core schema,
// and so Backstage's reader, keeps as a string.
func yaml11Number(n *yaml.Node) bool {
	if n.Style&yaml.TaggedStyle != 0 {
		return false
	}
	v := strings.TrimLeft(n.Value, "+-")
	return strings.Contains(v, "_") || strings.HasPrefix(v, "0b")
}

func (c *converter) scalar(n *yaml.Node, path string) (any, error) {
	if tag := n.ShortTag(); (tag == "!!int" || tag == "!!float") && yaml11Number(n) {
		return n.Value, nil
	}
	switch n.ShortTag() {
	case "!!str", "!!timestamp", "!!binary":
		return n.Value, nil
	case "!!null":
		return nil, nil
	case "!!bool", "!!int":
		var v any
		if err := n.Decode(&v); err != nil {
			c.field = path
			return nil, fmt.Errorf("line %d: %v", n.Line, err)
		}
		return v, nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			c.field = path
			return nil, fmt.Errorf("line %d: %v", n.Line, err)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			c.field = path
			return nil, fmt.Errorf("line %d: %s is not a JSON number", n.Line, n.Value)
		}
		return f, nil
	}
	return n.Value, nil
}

// guessRef names the entity a broken document describes, when its kind and name
// are readable.
func guessRef(body map[string]any) string {
	if r, ok := RefFromBody(body); ok {
		return r.String()
	}
	return ""
}

// placeholderOf returns the key and target of a placeholder mapping: a mapping
// with exactly one key, which starts with "$".
func placeholderOf(m map[string]any) (key string, target any, ok bool) {
	if len(m) != 1 {
		return "", nil, false
	}
	for k, v := range m {
		if strings.HasPrefix(k, "$") {
			return k, v, true
		}
	}
	return "", nil, false
}

// HasPlaceholders reports whether v holds a $text, $json, $yaml or other
// placeholder anywhere, whose target may change without v changing.
func HasPlaceholders(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		if _, _, ok := placeholderOf(t); ok {
			return true
		}
		for _, item := range t {
			if HasPlaceholders(item) {
				return true
			}
		}
	case []any:
		for _, item := range t {
			if HasPlaceholders(item) {
				return true
			}
		}
	}
	return false
}

// PlaceholderReader reads the target of a $text, $json or $yaml placeholder,
// relative to the file the placeholder stands in. It returns the content and
// the absolute file or URL it read.
type PlaceholderReader func(target string) (content []byte, resolved string, err error)

// ResolvePlaceholders replaces every {"$text": path}, {"$json": path} and
// {"$yaml": path} mapping in body with the target's text, parsed JSON or parsed
// YAML, reading through read. It returns a new body; the input is not changed.
func ResolvePlaceholders(body map[string]any, read PlaceholderReader, lim Limits) (map[string]any, error) {
	lim = lim.WithDefaults()
	out, err := resolveValue(body, "", read, lim)
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

func resolveValue(v any, path string, read PlaceholderReader, lim Limits) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		if k, target, ok := placeholderOf(t); ok {
			return resolvePlaceholder(k, target, path, read, lim)
		}
		out := make(map[string]any, len(t))
		for k, item := range t {
			child := k
			if path != "" {
				child = path + "." + k
			}
			r, err := resolveValue(item, child, read, lim)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, item := range t {
			r, err := resolveValue(item, fmt.Sprintf("%s[%d]", path, i), read, lim)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

func resolvePlaceholder(key string, target any, path string, read PlaceholderReader, lim Limits) (any, error) {
	fail := func(format string, args ...any) error {
		return &FieldError{Field: path, Message: fmt.Sprintf(format, args...)}
	}
	switch key {
	case "$text", "$json", "$yaml":
	default:
		return nil, fail("unknown placeholder %s; Backlot supports $text, $json and $yaml", key)
	}
	t, ok := target.(string)
	if !ok || t == "" {
		return nil, fail("placeholder %s needs a file path or URL as a string", key)
	}
	if read == nil {
		return nil, fail("placeholder %s %q cannot be resolved here", key, t)
	}
	content, resolved, err := read(t)
	if err != nil {
		return nil, fail("placeholder %s %q: %v", key, t, err)
	}
	if int64(len(content)) > lim.MaxFileBytes {
		return nil, fail("placeholder %s %q: %d bytes, %v", key, t, len(content), ErrTooLarge)
	}
	switch key {
	case "$text":
		return string(content), nil
	case "$json":
		var v any
		if err := json.Unmarshal(content, &v); err != nil {
			return nil, fail("placeholder $json %q (%s): invalid JSON: %v", t, resolved, err)
		}
		return v, nil
	default:
		var root yaml.Node
		if err := yaml.Unmarshal(content, &root); err != nil {
			return nil, fail("placeholder $yaml %q (%s): invalid YAML: %v", t, resolved, err)
		}
		if len(root.Content) == 0 {
			return nil, nil
		}
		c := &converter{budget: lim.MaxNodes, maxDepth: lim.MaxDepth}
		v, err := c.convert(root.Content[0], 0, "")
		if err != nil {
			return nil, fail("placeholder $yaml %q (%s): %v", t, resolved, err)
		}
		return v, nil
	}
}
