// Package policies holds Backlot's CEL environments: expressions users write
// (webhook filters now; badge rules, migration selectors and template
// expressions later) are compiled once in an environment built once, checked
// for their output type at compile time, and evaluated under a cost limit.
package policies
