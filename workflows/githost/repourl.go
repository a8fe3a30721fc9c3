package githost

import (
	"fmt"
	"net/url"
	"strings"
)

// repoPath splits a repository URL of a web host into its host name and the
// repository's path (owner/name, or group/subgroup/name on GitLab). It takes
// web addresses (https://host/owner/name, with /tree/<branch>/..., /blob/...
// or GitLab's /-/... suffix), HTTPS and SSH clone URLs (…/name.git,
// ssh://git@host/owner/name.git, git@host:owner/name.git), and drops a query
// or fragment.
func repoPath(raw string) (host, path string, err error) {
	raw = strings.TrimSpace(raw)
	if !strings.Contains(raw, "://") {
		// scp-like SSH: git@host:owner/name.git
		at, rest, ok := strings.Cut(raw, ":")
		if !ok {
			return "", "", fmt.Errorf("githost: %q is not a repository URL", raw)
		}
		if _, h, ok := strings.Cut(at, "@"); ok {
			at = h
		}
		host, path = at, rest
	} else {
		u, err := url.Parse(raw)
		if err != nil {
			return "", "", fmt.Errorf("githost: %q is not a repository URL: %v", raw, err)
		}
		switch u.Scheme {
		case "https", "http", "ssh", "git":
		default:
			return "", "", fmt.Errorf("githost: %q is not an http(s) or ssh URL", raw)
		}
		host, path = u.Hostname(), u.Path
	}
	// The suffix starts after the owner: a group named tree stays.
	s := "/" + strings.Trim(path, "/") + "/"
	start := strings.Index(s[1:], "/") + 1
	for _, sep := range []string{"/-/", "/tree/", "/blob/"} {
		if i := strings.Index(s[start:], sep); i >= 0 {
			s = s[:start+i+1]
		}
	}
	path = strings.TrimSuffix(strings.Trim(s, "/"), ".git")
	parts := strings.Split(path, "/")
	if host == "" || len(parts) < 2 {
		return "", "", fmt.Errorf("githost: %q does not name a repository (owner/name)", raw)
	}
	for _, p := range parts {
		if !namePart.MatchString(p) {
			return "", "", fmt.Errorf("githost: %q does not name a repository: %q is not a name", raw, p)
		}
	}
	return strings.ToLower(host), path, nil
}

// webHost returns the host name of base (a URL), or "" when base is empty.
func webHost(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}
