// Package nunjucks runs the template language Backstage users write: the
// engine Backstage's scaffolder renders with (nunjitsu, the successor of
// nunjucks, from npm), bundled by esbuild and run in goja, configured as
// Backstage's scaffolder configures it: ${{ }} variable tags (or {{ }} with
// cookiecutterCompat), no autoescape, Backstage's filters parseRepoUrl,
// parseEntityRef, pick and projectSlug, and a sole expression keeping its
// value's type.
//
// Each render has a budget: nunjitsu's own limits (work units, output and
// scratch size; the output of one render is at most MaxRenderedLength) and a
// wall-time budget enforced by interrupting the runtime. Runtimes are pooled:
// loading the bundle takes milliseconds, a render microseconds.
//
// The bundle is built from the folder js (package.json and its lock file,
// entry.js, shims for node:util and node:crypto) into bundle/nunjucks.js,
// which is not committed: `make build`, `make run` and `make test` build it
// (go generate runs the same step). Without it the package compiles and every
// render fails with ErrNoBundle, which names `make build`.
package nunjucks

//go:generate ../../../scripts/bundle.sh
