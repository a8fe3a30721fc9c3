// Package scaffolder holds Backlot's software templates: Template entities
// (scaffolder.backstage.io/v1beta3) read into their parameters, steps and
// output, parameters checked against the templates' JSON Schemas with errors
// that name the field, and step inputs rendered with ${{ }} expressions in
// CEL (package policies). The Temporal workflow and activities that run a
// task build on it.
package scaffolder
