package gitsource

import (
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// DefaultFile is the descriptor file a tree URL, a bare repository URL or a path
// ending in "/" names inside its directory.
const DefaultFile = "catalog-info.yaml"

// urlForm is the URL style a Target was parsed from; String renders it back in the
// same style.
type urlForm uint8

const (
	formQuery      urlForm = iota // <repo>?ref=<ref>&path=<path>
	formBlob                      // <repo>/blob/<ref>/<path> (GitHub and others)
	formGitLabBlob                // <repo>/-/blob/<ref>/<path> (GitLab)
)

// Target names one file in one git repository at one branch. Make it with
// ParseTarget; Join derives targets for other files of the same repository.
type Target struct {
	// CloneURL is the repository's URL without branch or path: https://host/org/repo,
	// http://127.0.0.1:8080/repo.git, or file:///abs/path for a local repository.
	CloneURL string
	// Host is the lower-case host[:port] of CloneURL; empty for file:// targets.
	Host string
	// LocalPath is the cleaned absolute path of a file:// repository (bare or not);
	// empty otherwise.
	LocalPath string
	// Ref is the branch to read (a tag when no branch has that name); empty means
	// the remote's default branch.
	Ref string
	// Path is the file's slash-separated path inside the repository, cleaned and
	// relative to the repository root; it never contains "..".
	Path string
	// CommitSHA, when set, pins reads to this commit (full hexadecimal hash): Read
	// reads it from the cache without contacting the remote when the cache holds it,
	// and fetches Ref first otherwise. ParseTarget never sets it; File.Target does.
	CommitSHA string

	form urlForm
}

// String returns the target as a URL that ParseTarget turns back into the same
// Target (except CommitSHA, which URLs do not carry): a blob URL when the target was
// parsed from a blob or tree URL and has a Ref, else CloneURL with ?ref=&path=.
func (t Target) String() string {
	if t.Ref != "" && t.LocalPath == "" {
		switch t.form {
		case formBlob:
			return t.CloneURL + "/blob/" + escapeSegments(t.Ref) + "/" + escapeSegments(t.Path)
		case formGitLabBlob:
			return t.CloneURL + "/-/blob/" + escapeSegments(t.Ref) + "/" + escapeSegments(t.Path)
		}
	}
	var b strings.Builder
	b.WriteString(t.CloneURL)
	b.WriteByte('?')
	if t.Ref != "" {
		b.WriteString("ref=")
		b.WriteString(escapeQuery(t.Ref))
		b.WriteByte('&')
	}
	b.WriteString("path=")
	b.WriteString(escapeQuery(t.Path))
	return b.String()
}

// Join returns the target of the file at rel, a slash-separated path relative to
// the directory of t.Path, in the same repository, at the same Ref and CommitSHA.
// "../" may climb out of that directory but not out of the repository. It returns an
// *InvalidTargetError when rel is empty, absolute, a URL, names a directory, or
// leaves the repository.
func (t Target) Join(rel string) (Target, error) {
	bad := func(format string, args ...any) (Target, error) {
		return Target{}, &InvalidTargetError{Input: rel, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case rel == "":
		return bad("empty relative path")
	case strings.Contains(rel, "://"):
		return bad("is a URL, not a path relative to %s", t.Path)
	case strings.HasPrefix(rel, "/"):
		return bad("is absolute; give a path relative to %s", t.Path)
	case strings.HasSuffix(rel, "/") || rel == "." || rel == ".." || strings.HasSuffix(rel, "/.") || strings.HasSuffix(rel, "/.."):
		return bad("names a directory, not a file")
	case hasControl(rel):
		return bad("contains control characters")
	}
	p := path.Join(path.Dir(t.Path), rel)
	if p == ".." || strings.HasPrefix(p, "../") {
		return bad("leaves the repository (relative to %s)", t.Path)
	}
	if p == "." {
		return bad("names the repository root, not a file")
	}
	nt := t
	nt.Path = p
	return nt, nil
}

// ParseTarget parses a url location target. It accepts
//
//   - https://host/org/repo/blob/<branch>/<path/to/file> and
//     https://host/org/repo/tree/<branch>/<dir> (the file is <dir>/catalog-info.yaml),
//     and the GitLab forms with /-/blob/ and /-/tree/; the branch is the single path
//     segment after blob or tree, so a branch with a "/" needs the query form;
//   - https://host/org/repo and https://host/org/repo.git: catalog-info.yaml on the
//     default branch;
//   - file:///abs/path/to/repo, a local repository, bare or not;
//   - on any repository URL (not blob or tree URLs), the query parameters ref=<branch>
//     and path=<file> (a path ending in "/" names <dir>/catalog-info.yaml), e.g.
//     file:///tmp/x/repo?ref=main&path=services/a/catalog-info.yaml.
//
// Schemes are https, http and file. A fragment (#L10) is ignored. It returns an
// *InvalidTargetError for anything else, including credentials in the URL, unknown
// query parameters, ".." in a path, and branch names git would refuse. ParseTarget
// does no I/O and does not check Options; Reader.Read does.
func ParseTarget(target string) (Target, error) {
	bad := func(format string, args ...any) (Target, error) {
		return Target{}, &InvalidTargetError{Input: target, Reason: fmt.Sprintf(format, args...)}
	}
	if target == "" {
		return bad("empty target")
	}
	if strings.TrimSpace(target) != target || hasControl(target) {
		return bad("contains spaces or control characters at its ends or control characters inside")
	}
	u, err := url.Parse(target)
	if err != nil {
		return bad("not a URL: %v", unwrapURLError(err))
	}
	switch u.Scheme {
	case "https", "http", "file":
	case "":
		return bad("not an absolute URL: give https://, http:// or file://")
	default:
		return bad("unsupported scheme %q: only https, http and file are supported", u.Scheme)
	}
	if u.User != nil {
		return bad("credentials in the URL are not allowed")
	}
	if u.Opaque != "" {
		return bad("not an absolute URL with a path")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return bad("bad query: %v", err)
	}
	for k, v := range q {
		if k != "ref" && k != "path" {
			return bad("unknown query parameter %q: only ref and path are supported", k)
		}
		if len(v) != 1 {
			return bad("query parameter %q given %d times", k, len(v))
		}
		if v[0] == "" {
			return bad("query parameter %q is empty", k)
		}
	}
	var t Target
	if u.Scheme == "file" {
		t, err = parseFile(u, q)
	} else {
		t, err = parseHTTP(u, q)
	}
	if err != nil {
		return bad("%v", err)
	}
	return t, nil
}

// parseHTTP parses an http(s) target; errors are reasons, wrapped by ParseTarget.
func parseHTTP(u *url.URL, q url.Values) (Target, error) {
	if u.Host == "" || u.Hostname() == "" {
		return Target{}, fmt.Errorf("no host")
	}
	host := strings.ToLower(u.Host)
	trimmed := strings.Trim(u.Path, "/")
	if trimmed == "" {
		return Target{}, fmt.Errorf("no repository path after the host")
	}
	segs := strings.Split(trimmed, "/")
	for _, s := range segs {
		if s == "" {
			return Target{}, fmt.Errorf("empty segment in the URL path")
		}
		if s == "." || s == ".." {
			return Target{}, fmt.Errorf("the URL path must not contain %q", s)
		}
	}

	t := Target{Host: host}
	repo := segs
	kind := ""
	var rest []string
	for i := 2; i < len(segs); i++ {
		if segs[i] == "-" {
			if i+1 >= len(segs) || (segs[i+1] != "blob" && segs[i+1] != "tree") {
				return Target{}, fmt.Errorf("unsupported GitLab URL: only /-/blob/ and /-/tree/ are supported")
			}
			repo, kind, rest, t.form = segs[:i], segs[i+1], segs[i+2:], formGitLabBlob
			break
		}
		if segs[i] == "blob" || segs[i] == "tree" {
			repo, kind, rest, t.form = segs[:i], segs[i], segs[i+1:], formBlob
			break
		}
	}
	t.CloneURL = (&url.URL{Scheme: u.Scheme, Host: host, Path: "/" + strings.Join(repo, "/")}).String()

	if kind == "" {
		return withQuery(t, q)
	}
	if len(q) > 0 {
		return Target{}, fmt.Errorf("the ref and path query parameters cannot be combined with a /%s/ URL", kind)
	}
	if len(rest) == 0 {
		return Target{}, fmt.Errorf("the /%s/ URL names no branch", kind)
	}
	if err := checkRef(rest[0]); err != nil {
		return Target{}, err
	}
	t.Ref = rest[0]
	file := strings.Join(rest[1:], "/")
	if kind == "tree" {
		file += "/"
	} else if file == "" || strings.HasSuffix(u.Path, "/") {
		return Target{}, fmt.Errorf("the /blob/ URL names no file; use /tree/ for a directory")
	}
	p, err := cleanPath(file)
	if err != nil {
		return Target{}, err
	}
	t.Path = p
	return t, nil
}

// parseFile parses a file:// target; errors are reasons, wrapped by ParseTarget.
func parseFile(u *url.URL, q url.Values) (Target, error) {
	if u.Host != "" && !strings.EqualFold(u.Host, "localhost") {
		return Target{}, fmt.Errorf("a file URL must not name a host other than localhost")
	}
	if !strings.HasPrefix(u.Path, "/") {
		return Target{}, fmt.Errorf("a file URL needs an absolute path")
	}
	for _, s := range strings.Split(u.Path, "/") {
		if s == ".." {
			return Target{}, fmt.Errorf("the repository path must not contain \"..\"")
		}
	}
	clean := path.Clean(u.Path)
	t := Target{
		CloneURL:  (&url.URL{Scheme: "file", Path: clean}).String(),
		LocalPath: filepath.FromSlash(clean),
	}
	return withQuery(t, q)
}

// withQuery sets Ref and Path of a repository URL target from its query.
func withQuery(t Target, q url.Values) (Target, error) {
	t.form = formQuery
	if ref := q.Get("ref"); ref != "" {
		if err := checkRef(ref); err != nil {
			return Target{}, err
		}
		t.Ref = ref
	}
	file := q.Get("path")
	if file == "" {
		file = DefaultFile
	}
	p, err := cleanPath(file)
	if err != nil {
		return Target{}, err
	}
	t.Path = p
	return t, nil
}

// cleanPath checks and cleans a repository-relative file path. A leading "/" means
// the repository root; a trailing "/" names DefaultFile in that directory.
func cleanPath(p string) (string, error) {
	if hasControl(p) {
		return "", fmt.Errorf("the file path contains control characters")
	}
	p = strings.TrimLeft(p, "/")
	if p == "" || strings.HasSuffix(p, "/") {
		p += DefaultFile
	}
	for _, s := range strings.Split(p, "/") {
		if s == ".." {
			return "", fmt.Errorf("the file path %q must not contain \"..\"", p)
		}
	}
	c := path.Clean(p)
	if c == "." {
		return "", fmt.Errorf("the file path names the repository root, not a file")
	}
	return c, nil
}

// checkRef reports whether ref is a branch or tag name git accepts (the rules of
// git check-ref-format, plus no leading "-" so it can never be read as an option).
func checkRef(ref string) error {
	bad := func(why string) error { return fmt.Errorf("invalid branch name %q: %s", ref, why) }
	switch {
	case ref == "" || ref == "@":
		return bad("empty or @")
	case strings.HasPrefix(ref, "-"):
		return bad("starts with -")
	case strings.HasPrefix(ref, "/") || strings.HasSuffix(ref, "/") || strings.Contains(ref, "//"):
		return bad("empty component")
	case strings.HasSuffix(ref, ".") || strings.HasSuffix(ref, ".lock"):
		return bad("ends with . or .lock")
	case strings.Contains(ref, "..") || strings.Contains(ref, "@{"):
		return bad("contains .. or @{")
	case strings.ContainsAny(ref, " ~^:?*[\\\x7f") || hasControl(ref):
		return bad("contains a space, control character or one of ~^:?*[\\")
	}
	for _, c := range strings.Split(ref, "/") {
		if strings.HasPrefix(c, ".") || strings.HasSuffix(c, ".lock") {
			return bad("a component starts with . or ends with .lock")
		}
	}
	return nil
}

// shaPattern matches a full SHA-1 or SHA-256 object name.
var shaPattern = regexp.MustCompile(`^(?:[0-9a-f]{40}|[0-9a-f]{64})$`)

// hasControl reports whether s contains an ASCII control character.
func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0
}

// escapeSegments escapes each slash-separated segment of p for a URL path.
func escapeSegments(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// escapeQuery escapes a query value, keeping "/" readable.
func escapeQuery(v string) string {
	return strings.ReplaceAll(url.QueryEscape(v), "%2F", "/")
}

// unwrapURLError drops url.Error's repetition of the input.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
