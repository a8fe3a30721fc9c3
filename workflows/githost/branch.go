package githost

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// BranchPush is what PushBranch commits: the files of Dir laid over the tip
// of Base at TargetPath, as one commit on Branch.
type BranchPush struct {
	// Base is the branch the change starts from (the target of the change
	// request).
	Base string
	// Branch is the branch to push.
	Branch string
	// Dir is the folder whose files are committed.
	Dir string
	// TargetPath is the repository folder the files go to; "" is the root.
	TargetPath string
	// Message and Author ("Name <email>") make the commit.
	Message, Author string
}

// PushBranch commits the files of p.Dir over the tip of p.Base (files Dir
// does not hold are kept, as Backstage's pull request actions do) and pushes
// the commit to p.Branch of remoteURL; auth is extra git environment
// (GitAuthEnv). When the branch already holds that tree, nothing is pushed
// and its tip is returned, so a retried action makes one commit; a branch
// with other content gets a new commit on top. changed is false when the
// files change nothing on Base.
func PushBranch(ctx context.Context, remoteURL string, auth []string, p BranchPush) (commit string, changed bool, err error) {
	work, err := os.MkdirTemp("", "backlot-branch-")
	if err != nil {
		return "", false, err
	}
	defer os.RemoveAll(work)
	gitDir := filepath.Join(work, "git")
	env := append(AuthorEnv(p.Author), auth...)
	run := func(stdin string, extra []string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", append([]string{"--git-dir", gitDir}, args...)...)
		cmd.Env = append(append(append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0"), env...), extra...)
		cmd.Stdin = strings.NewReader(stdin)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("git %s: %v: %s", args[0], err, strings.TrimSpace(errb.String()))
		}
		return strings.TrimSpace(out.String()), nil
	}
	if _, err := git(ctx, "", "init", "-q", "--bare", gitDir); err != nil {
		return "", false, err
	}
	if _, err := run("", nil, "fetch", "-q", "--depth", "1", remoteURL, "refs/heads/"+p.Base+":refs/base"); err != nil {
		return "", false, fmt.Errorf("githost: branch %s of %s: %w", p.Base, remoteURL, err)
	}
	// The workspace's tree, from an index of its own.
	wsIndex := []string{"GIT_INDEX_FILE=" + filepath.Join(work, "ws-index")}
	if _, err := run("", wsIndex, "--work-tree", p.Dir, "add", "-A", "."); err != nil {
		return "", false, err
	}
	wsTree, err := run("", wsIndex, "write-tree")
	if err != nil {
		return "", false, err
	}
	files, err := run("", nil, "ls-tree", "-r", "-z", wsTree)
	if err != nil {
		return "", false, err
	}
	// Over the base's tree, each file at TargetPath.
	index := []string{"GIT_INDEX_FILE=" + filepath.Join(work, "index")}
	if _, err := run("", index, "read-tree", "refs/base"); err != nil {
		return "", false, err
	}
	prefix := strings.Trim(path.Clean("/"+filepath.ToSlash(p.TargetPath)), "/")
	var info strings.Builder
	for _, entry := range strings.Split(files, "\x00") {
		if entry == "" {
			continue
		}
		meta, name, ok := strings.Cut(entry, "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 3 {
			continue
		}
		if prefix != "" {
			name = prefix + "/" + name
		}
		fmt.Fprintf(&info, "%s %s\t%s\x00", f[0], f[2], name)
	}
	if _, err := run(info.String(), index, "update-index", "-z", "--index-info"); err != nil {
		return "", false, err
	}
	tree, err := run("", index, "write-tree")
	if err != nil {
		return "", false, err
	}
	baseTree, err := run("", nil, "rev-parse", "refs/base^{tree}")
	if err != nil {
		return "", false, err
	}
	parent, _ := run("", nil, "rev-parse", "refs/base")
	heads, err := run("", nil, "ls-remote", remoteURL, "refs/heads/"+p.Branch)
	if err != nil {
		return "", false, err
	}
	if f := strings.Fields(heads); len(f) > 0 {
		if _, err := run("", nil, "fetch", "-q", "--depth", "1", remoteURL, "refs/heads/"+p.Branch+":refs/head"); err != nil {
			return "", false, err
		}
		if t, err := run("", nil, "rev-parse", "refs/head^{tree}"); err == nil && t == tree {
			return f[0], tree != baseTree, nil
		}
		parent = f[0]
	}
	if tree == baseTree && len(strings.Fields(heads)) == 0 {
		return parent, false, nil
	}
	commit, err = run("", nil, "commit-tree", tree, "-p", parent, "-m", p.Message)
	if err != nil {
		return "", false, err
	}
	if _, err := run("", nil, "push", "-q", remoteURL, commit+":refs/heads/"+p.Branch); err != nil {
		return "", false, err
	}
	return commit, true, nil
}
