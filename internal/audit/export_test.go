package audit

// RenderAllWithYAMLv3 makes r's WriteYAML render every file with yaml.v3, as
// it did before its own writer, for tests that compare the two.
func RenderAllWithYAMLv3(r *Replay) { r.yamlV3Only = true }

// SetHoldLimit sets how many bytes of event data r holds for its bodies
// before it spills them.
func SetHoldLimit(r *Replay, n int64) { r.holdLimit = n }

// FoldedTypes lists the types Apply folds.
var FoldedTypes = foldedTypes
