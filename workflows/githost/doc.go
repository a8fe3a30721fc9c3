// Package githost is where the scaffolder publishes repositories and fleet
// migrations open change requests. Local is the host of backlot dev and the
// tests: bare git repositories on disk under one folder, with change
// requests (pull requests) Backlot records beside them and merges or closes
// itself. GitHub and GitLab are the same Host behind their REST APIs (tested
// against fake servers: the real ones cannot be reached from here). Every operation is
// idempotent, so an activity retried after a crash leaves one repository, one
// branch and one change request.
package githost
