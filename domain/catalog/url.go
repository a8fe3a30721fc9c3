package catalog

import (
	"regexp"
	"strings"
)

// urlSchemeRE is a URL's scheme and its colon: a letter, then letters, digits,
// '+', '-' or '.'.
var urlSchemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.\-]*:`)

// specialSchemes are the schemes whose URLs need a host, as the WHATWG URL
// standard (JavaScript's URL, which Backstage validates links with) has them.
var specialSchemes = map[string]bool{"http": true, "https": true, "ws": true, "wss": true, "ftp": true}

// IsValidURL reports whether s is an absolute URL as Backstage's link rule
// reads one (new URL(s) succeeds): a scheme, and for http, https, ws, wss and
// ftp a non-empty host. Relative references and plain words are not URLs.
func IsValidURL(s string) bool {
	if strings.TrimSpace(s) == "" {
		return false
	}
	s = strings.TrimSpace(s)
	m := urlSchemeRE.FindString(s)
	if m == "" {
		return false
	}
	scheme := strings.ToLower(strings.TrimSuffix(m, ":"))
	if !specialSchemes[scheme] {
		return true
	}
	rest := strings.TrimLeft(s[len(m):], `/\`)
	if i := strings.IndexAny(rest, `/\?#`); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	host := rest
	if i := strings.LastIndex(host, ":"); i >= 0 && !strings.HasSuffix(host, "]") {
		host = host[:i]
	}
	return host != "" && !strings.ContainsAny(host, " <>^|%")
}
