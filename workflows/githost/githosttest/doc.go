// Package githosttest is a fake of the parts of GitHub's and GitLab's REST
// APIs that Backlot's git hosts and scaffolder actions call, with real git
// over HTTP (git http-backend) for the repositories it holds, so tests run
// the actions against real repositories and count the API calls a retry
// makes. It is for tests only.
package githosttest
