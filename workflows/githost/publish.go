package githost

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// GitAuthenticator is a host whose repositories git reaches with a header
// (a token): GitHub and GitLab over HTTPS.
type GitAuthenticator interface {
	// GitHeader returns the HTTP header git sends to remoteURL, or "".
	GitHeader(remoteURL string) string
}

// GitAuthEnv is the git configuration, as environment, that sends host's
// header to remoteURL; nil when the host needs none. In the environment, the
// token is in no argument (ps) and no error message.
func GitAuthEnv(host Host, remoteURL string) []string {
	a, ok := host.(GitAuthenticator)
	if !ok {
		return nil
	}
	h := a.GitHeader(remoteURL)
	if h == "" {
		return nil
	}
	return []string{"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.extraHeader", "GIT_CONFIG_VALUE_0=" + h}
}

// basicAuth is the header of HTTP basic authentication.
func basicAuth(user, token string) string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+token))
}

// ErrRepoNotEmpty is the error of a publish to a repository whose branch
// already holds other commits: publishing only starts a repository, so
// trying again cannot succeed.
var ErrRepoNotEmpty = errors.New("the repository already exists with other commits")

// PublishDir commits the files of dir as the first commit of branch of the
// repository at remoteURL, by author ("Name <email>"), and returns the
// commit; auth is extra git environment (GitAuthEnv). When the branch
// already has a commit whose tree equals dir's, that commit is returned and
// nothing is pushed, so a retried publish makes one commit; a branch with
// other content is an error.
func PublishDir(ctx context.Context, remoteURL string, auth []string, dir, branch, message, author string) (string, error) {
	work, err := os.MkdirTemp("", "backlot-publish-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	gitDir := filepath.Join(work, "git")
	env := append(AuthorEnv(author), auth...)
	run := func(args ...string) (string, error) {
		out, err := gitEnv(ctx, "", env, append([]string{"--git-dir", gitDir, "--work-tree", dir}, args...)...)
		return strings.TrimSpace(out), err
	}
	if _, err := git(ctx, "", "init", "-q", "--bare", gitDir); err != nil {
		return "", err
	}
	if _, err := run("add", "-A", "."); err != nil {
		return "", err
	}
	tree, err := run("write-tree")
	if err != nil {
		return "", err
	}
	ref := "refs/heads/" + branch
	heads, err := run("ls-remote", remoteURL, ref)
	if err != nil {
		return "", err
	}
	if f := strings.Fields(heads); len(f) > 0 {
		if _, err := run("fetch", "-q", "--depth", "1", remoteURL, ref); err != nil {
			return "", err
		}
		if t, err := run("rev-parse", "FETCH_HEAD^{tree}"); err == nil && t == tree {
			return f[0], nil
		}
		return "", fmt.Errorf("githost: %s already has commits on %s; publish only starts a repository: %w", remoteURL, branch, ErrRepoNotEmpty)
	}
	commit, err := run("commit-tree", tree, "-m", message)
	if err != nil {
		return "", err
	}
	if _, err := run("push", "-q", remoteURL, commit+":"+ref); err != nil {
		return "", err
	}
	return commit, nil
}
