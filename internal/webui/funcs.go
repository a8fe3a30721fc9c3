package webui

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"
)

// funcs are the helpers every template may call.
var funcs = template.FuncMap{
	"entityURL": entityURL,
	"refName":   refName,
	"refKind":   refKind,
	"ago":       ago,
	"when":      when,
	"json":      prettyJSON,
	"join":      strings.Join,
	"lower":     strings.ToLower,
	"plural":    plural,
	"add":       func(a, b int) int { return a + b },
	// pickerLimit is how many entities a picker offers at once.
	"pickerLimit": func() int { return pickerLimit },
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	"pct": func(part, total int) int {
		if total <= 0 {
			return 0
		}
		return part * 100 / total
	},
	"str": func(v any) string {
		if v == nil {
			return ""
		}
		if s, ok := v.(string); ok {
			return s
		}
		b, _ := json.Marshal(v)
		return string(b)
	},
}

// entityURL is the entity page of a ref (kind:namespace/name, the
// namespace optional).
func entityURL(ref string) string {
	kind, ns, name := splitRef(ref)
	return "/catalog/" + url.PathEscape(ns) + "/" + url.PathEscape(strings.ToLower(kind)) + "/" + url.PathEscape(name)
}

// splitRef splits kind:namespace/name; the namespace defaults to default.
func splitRef(ref string) (kind, ns, name string) {
	kind, rest, ok := strings.Cut(ref, ":")
	if !ok {
		kind, rest = "", ref
	}
	ns, name, ok = strings.Cut(rest, "/")
	if !ok {
		ns, name = "default", rest
	}
	return kind, ns, name
}

// refName is the name part of a ref.
func refName(ref string) string {
	_, _, name := splitRef(ref)
	return name
}

// refKind is the kind part of a ref.
func refKind(ref string) string {
	kind, _, _ := splitRef(ref)
	return kind
}

// ago says how long ago t was, in a few words.
func ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	default:
		return plural(int(d/(24*time.Hour)), "day") + " ago"
	}
}

// when formats t as RFC 3339 in UTC, to the second.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// plural says "n thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// prettyJSON indents a value (or raw JSON) for a <pre>.
func prettyJSON(v any) string {
	if raw, ok := v.(json.RawMessage); ok {
		var x any
		if json.Unmarshal(raw, &x) == nil {
			v = x
		}
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
