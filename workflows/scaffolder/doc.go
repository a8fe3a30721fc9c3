// Package scaffolder holds Backlot's software templates: Template entities
// (scaffolder.backstage.io/v1beta3) read into their parameters, steps and
// output, parameters checked as Backstage's form shows them (conditional
// fields and pages, the ui: options that change what is valid) with errors
// that name the field, and step inputs, outputs, conditions and skeleton
// files rendered in Backstage's template language (package nunjucks: the
// engine Backstage runs, in goja). The Temporal workflow and activities that
// run a task build on it.
package scaffolder
