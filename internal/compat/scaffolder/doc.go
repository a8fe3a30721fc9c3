// Package scaffolder checks Backlot's scaffolder against Backstage's own:
// its test runs the templates in testdata (written to exercise every
// feature of the template language: expressions, filters, tags, types,
// paths that render empty, binary files, modes, fetch:template's options,
// conditional parameters) through Backstage's scaffolder dry run and its
// parameter validation (dryrun.cjs, with @backstage/plugin-scaffolder-backend
// pinned in package.json and package-lock.json, installed by npm ci) and
// through Backlot's dry run and parameter validation, and compares them
// file by file (path, content, executable bit), output value by value and
// verdict by verdict; all must be equal, but for the named exceptions.
//
// BACKLOT_COMPAT_CASES names another cases.json (beside its own templates
// folder) to compare instead: how templates from elsewhere are tried by hand
// without copying them into the repository.
//
// The package holds no code of its own: only the test and the node script.
package scaffolder
