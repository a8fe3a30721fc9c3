package scaffolder

import "context"

// RunAction runs action id's activity as a worker would, attempt after
// attempt: the tests call it twice to play a retry.
func RunAction(ctx context.Context, a *Activities, in ActionInput, secrets Secrets) (ActionResult, error) {
	act, ok := a.lookup(in.Action)
	if !ok {
		return ActionResult{}, inputError("no action %q", in.Action)
	}
	return a.activity(act)(ctx, in, secrets)
}
