// Package scaffoldsvc is the scaffolder behind the API: it reads templates
// from the catalog, checks the form's values against them, starts and
// inspects task workflows on Temporal, runs dry runs in-process, and gives
// the actions their catalog (registering locations and appending task
// events). It also dials Temporal with Backlot's data converter and runs the
// worker that executes tasks.
package scaffoldsvc
