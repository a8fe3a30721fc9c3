// Package gitsource reads catalog descriptor files out of git repositories, for
// locations of type url.
//
// A target names one file in one repository at one branch. ParseTarget accepts the
// forms people paste: GitHub- and GitLab-style blob and tree URLs
// (https://host/org/repo/blob/main/catalog-info.yaml,
// https://host/group/repo/-/tree/main/services/a), a bare repository URL
// (https://host/org/repo or .../repo.git, meaning catalog-info.yaml on the default
// branch), and, for any URL and for file:// repositories, the query parameters
// ?ref=<branch>&path=<file>.
//
// A Reader keeps one bare clone per repository under Options.CacheDir and brings the
// needed branch up to date on every read: it asks the remote for the branch's tip
// (git ls-remote, one round trip) and fetches only when the tip differs from the
// cached one, and only that branch. Updates of one repository's cache are
// serialised by a per-repository lock (and a file lock, for Readers in other
// processes sharing the cache); everything else runs in parallel. Read returns
// the file's content with the branch's head commit and the last commit on that branch
// that changed the file (git log -1 -- path, which follows git's history
// simplification, so merges are attributed to the commit that made the change).
//
// All git work is done by the git binary, run with a hermetic environment: no system
// or global git configuration, no credential prompts, no hooks, no redirects, and only
// the transport protocol of the target (https, http or file) allowed. Every call runs
// under the caller's context and Options.Timeout; on expiry the git process group is
// killed.
//
// Nothing is read outside what the Reader was granted: hosts not in
// Options.AllowedHosts and local repositories outside Options.AllowedRoots are refused
// with a *NotAllowedError before any network or disk access to the repository, and so
// is an allowed host that resolves to an address Options.Guard refuses (loopback,
// private, link-local, metadata, ...: see package netguard); paths
// that would leave the repository are refused with an *InvalidTargetError; files over
// Options.MaxFileBytes with a *TooLargeError. A missing repository, branch or file is
// a *NotFoundError.
package gitsource
