package webui

import (
	"html/template"
	"strings"
	"unicode"
)

// lang is what highlight needs of a language: its keywords, its built-in
// type names, and how its comments start.
type lang struct {
	keywords, types map[string]bool
	line            string // a line comment's opener
	block           bool   // /* */ comments
}

func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// graphqlLang is GraphQL's schema language.
var graphqlLang = lang{
	keywords: words("type query mutation subscription schema input enum interface union scalar extend implements directive fragment on repeatable true false null"),
	types:    words("Int Float String Boolean ID"),
	line:     "#",
}

// protoLang is Protocol Buffers (gRPC service definitions).
var protoLang = lang{
	keywords: words("syntax edition package import public weak option service rpc returns stream message enum oneof map repeated optional required reserved extend to max true false"),
	types:    words("double float int32 int64 uint32 uint64 sint32 sint64 fixed32 fixed64 sfixed32 sfixed64 bool string bytes"),
	line:     "//",
	block:    true,
}

// highlight escapes src and wraps its keywords, types, strings, numbers and
// comments in spans (classes tok-kw, tok-type, tok-str, tok-num, tok-com);
// a capitalised identifier counts as a type. It never fails: what it does
// not recognise is left as text.
func highlight(src string, l lang) template.HTML {
	var b strings.Builder
	span := func(class, text string) {
		b.WriteString(`<span class="` + class + `">`)
		b.WriteString(template.HTMLEscapeString(text))
		b.WriteString(`</span>`)
	}
	rs := []rune(src)
	for i := 0; i < len(rs); {
		c := rs[i]
		rest := string(rs[i:min(len(rs), i+3)])
		switch {
		case l.line != "" && strings.HasPrefix(rest, l.line):
			j := i
			for j < len(rs) && rs[j] != '\n' {
				j++
			}
			span("tok-com", string(rs[i:j]))
			i = j
		case l.block && strings.HasPrefix(rest, "/*"):
			end := strings.Index(string(rs[i+2:]), "*/")
			j := len(rs)
			if end >= 0 {
				j = i + 2 + len([]rune(string(rs[i+2:])[:end])) + 2
			}
			span("tok-com", string(rs[i:j]))
			i = j
		case strings.HasPrefix(rest, `"""`):
			end := strings.Index(string(rs[i+3:]), `"""`)
			j := len(rs)
			if end >= 0 {
				j = i + 3 + len([]rune(string(rs[i+3:])[:end])) + 3
			}
			span("tok-str", string(rs[i:j]))
			i = j
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(rs) && rs[j] != c && rs[j] != '\n' {
				if rs[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(rs))
			span("tok-str", string(rs[i:j]))
			i = j
		case unicode.IsDigit(c):
			j := i
			for j < len(rs) && (unicode.IsDigit(rs[j]) || rs[j] == '.' || rs[j] == 'x') {
				j++
			}
			span("tok-num", string(rs[i:j]))
			i = j
		case unicode.IsLetter(c) || c == '_':
			j := i
			for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j]) || rs[j] == '_' || rs[j] == '.') {
				j++
			}
			w := string(rs[i:j])
			switch {
			case l.keywords[w]:
				span("tok-kw", w)
			case l.types[w] || unicode.IsUpper(rs[i]):
				span("tok-type", w)
			default:
				b.WriteString(template.HTMLEscapeString(w))
			}
			i = j
		case strings.ContainsRune("{}()[]<>:;=,!|@&", c):
			span("tok-punct", string(c))
			i++
		default:
			b.WriteString(template.HTMLEscapeString(string(c)))
			i++
		}
	}
	return template.HTML(b.String())
}
