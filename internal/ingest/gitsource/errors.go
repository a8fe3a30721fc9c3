package gitsource

import (
	"fmt"

	"backlot.dev/backlot/domain/catalog"
)

// NotAllowedError reports a target outside what the Reader was granted: a host not
// in Options.AllowedHosts or a local repository outside Options.AllowedRoots. It is
// returned before the repository is contacted. Callers map it to HTTP 403; it
// matches catalog.ErrNotAllowed with errors.Is.
type NotAllowedError struct {
	// Target is the refused target.
	Target Target
	// Reason says which rule refused it.
	Reason string
}

// Error names the target and the reason.
func (e *NotAllowedError) Error() string {
	return fmt.Sprintf("gitsource: %s is not allowed: %s", e.Target, e.Reason)
}

// Unwrap returns catalog.ErrNotAllowed.
func (e *NotAllowedError) Unwrap() error { return catalog.ErrNotAllowed }

// NotFoundError reports a repository, branch or file that does not exist. Ref and
// Path are empty when the repository itself is missing; Path is empty when the
// branch is missing.
type NotFoundError struct {
	// Repo is the repository's clone URL.
	Repo string
	// Ref is the branch or tag looked up; empty for the default branch.
	Ref string
	// Path is the file looked up inside the repository.
	Path string
}

// Error names the repository, the ref and the path.
func (e *NotFoundError) Error() string {
	ref := e.Ref
	if ref == "" {
		ref = "the default branch"
	}
	switch {
	case e.Path != "":
		return fmt.Sprintf("gitsource: %s not found in %s at %s", e.Path, e.Repo, ref)
	case e.Ref != "":
		return fmt.Sprintf("gitsource: branch or tag %s not found in %s", e.Ref, e.Repo)
	default:
		return fmt.Sprintf("gitsource: repository %s not found or has no default branch", e.Repo)
	}
}

// TooLargeError reports a file over Options.MaxFileBytes; the file is not read. It
// matches catalog.ErrTooLarge with errors.Is.
type TooLargeError struct {
	// URL is the file's canonical URL.
	URL string
	// Size is the file's size in bytes.
	Size int64
	// Limit is Options.MaxFileBytes.
	Limit int64
}

// Error names the file, its size and the limit.
func (e *TooLargeError) Error() string {
	return fmt.Sprintf("gitsource: %s is %d bytes, over the limit of %d bytes", e.URL, e.Size, e.Limit)
}

// Unwrap returns catalog.ErrTooLarge.
func (e *TooLargeError) Unwrap() error { return catalog.ErrTooLarge }

// InvalidTargetError reports a target or relative path that cannot be read: an
// unsupported URL form, a bad branch name, or a path that would leave the
// repository. Callers map it to HTTP 400.
type InvalidTargetError struct {
	// Input is the target or relative path as given.
	Input string
	// Reason says what is wrong with it.
	Reason string
}

// Error quotes the input and says what is wrong.
func (e *InvalidTargetError) Error() string {
	return fmt.Sprintf("gitsource: invalid target %q: %s", e.Input, e.Reason)
}
