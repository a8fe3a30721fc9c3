// Package policies holds Backlot's CEL environments: expressions users write
// (webhook filters now; badge rules, migration selectors and template
// expressions later) are compiled once in an environment built once, checked
// for their output type at compile time, and evaluated under a cost limit.
// A badge rule whose static cost estimate proves it cannot reach the limit
// (no comprehension, regular expression or other cost that grows with its
// input) runs without the runtime cost tracker.
//
// Badge policies are documents (apiVersion backlot.dev/v1alpha1, kind
// Policy; see ParsePolicies and examples/policies) with a selector, levels
// lowest first, and checks, each a CEL rule of one level over the variables
// entity, relations, facts and now. Compile turns a policy into a *Compiled
// (programs cached by policy, check and text; a broken check is recorded and
// reports an error, the others still run), and (*Compiled).Evaluate rates one
// entity: an entity reaches a level when every check of that level and of
// the levels below passes. Evaluation depends only on its Input, so
// rebuilding badges from the event log gives the same result. Every
// evaluation runs under CheckCostLimit: a rule that cannot reach it (by CEL's
// static estimate) runs without the cost tracker, and one that can only on
// large inputs runs without it on inputs within a size tier (sizebound.go).
package policies
