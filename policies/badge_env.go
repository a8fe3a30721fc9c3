package policies

import (
	"sync"

	"github.com/google/cel-go/cel"
)

// CheckCostLimit bounds the work one evaluation of a check's rule or a
// policy's selector may do, in CEL cost units (about one per operation and
// per element a comprehension visits). It is generous for rules over one
// entity, its relations and its facts (the example policies cost under 100),
// and stops a comprehension over a huge list, or nested ones, before it
// costs the evaluation of a catalog noticeable time.
const CheckCostLimit = 100_000

var (
	badgeEnvOnce sync.Once
	badgeEnv     *cel.Env
	badgeEnvErr  error
)

// policyEnv is the environment of selectors and check rules, built once:
//
//	entity     map(string, dyn)                the entity as its descriptor
//	relations  list(map(string, string))       {type, targetRef} of each relation
//	facts      map(string, map(string, dyn))   facts by source, then by name
//	now        timestamp                       the instant of the evaluation
//
// Optional field selection (facts.?ci.?coverage.orValue(0)) is enabled.
func policyEnv() (*cel.Env, error) {
	badgeEnvOnce.Do(func() {
		badgeEnv, badgeEnvErr = cel.NewEnv(
			cel.Variable("entity", cel.MapType(cel.StringType, cel.DynType)),
			cel.Variable("relations", cel.ListType(cel.MapType(cel.StringType, cel.StringType))),
			cel.Variable("facts", cel.MapType(cel.StringType, cel.MapType(cel.StringType, cel.DynType))),
			cel.Variable("now", cel.TimestampType),
			cel.OptionalTypes(),
		)
	})
	return badgeEnv, badgeEnvErr
}
