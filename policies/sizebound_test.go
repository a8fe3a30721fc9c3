package policies

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/internal/bench/gen"
)

// TestRulesThatGrowWithTheirInputRunFreeOnSmallOnes checks that every rule of
// the bench policy that keeps the cost tracker (comprehensions, a regular
// expression) has a program without it for inputs within a tier, and that
// the bench's entities are within it.
func TestRulesThatGrowWithTheirInputRunFreeOnSmallOnes(t *testing.T) {
	t.Parallel()
	tracked := 0
	for _, rule := range gen.PolicyRules {
		c := compileUncached("p", "c", rule)
		if len(c.errs) > 0 {
			t.Fatal(c.errs[0])
		}
		if c.untracked {
			if c.free != nil {
				t.Errorf("rule %s runs untracked, and has a second program", rule)
			}
			continue
		}
		tracked++
		if c.free == nil || c.freeTier < 1 {
			t.Errorf("rule %s: free up to tier %d, want at least 1 (%+v)", rule, c.freeTier, sizeTiers[1])
			continue
		}
		for i, in := range benchInputs(50) {
			if tier := newActivation(in).sizeTier(); tier > c.freeTier {
				t.Errorf("rule %s, input %d: tier %d, beyond the free program's %d", rule, i, tier, c.freeTier)
			}
		}
	}
	if tracked != 5 {
		t.Errorf("%d rules of the bench policy keep the tracker, want 5", tracked)
	}
}

// TestLargeInputsKeepTheCostLimit evaluates a rule whose cost is the square
// of a list's size: on a small list it runs free and passes, on a list beyond
// every tier it runs tracked and stops at the cost limit, as before.
func TestLargeInputsKeepTheCostLimit(t *testing.T) {
	t.Parallel()
	const rule = `entity.spec.items.all(x, entity.spec.items.all(y, x + y >= 0))`
	c := compileUncached("p", "c", rule)
	if len(c.errs) > 0 {
		t.Fatal(c.errs[0])
	}
	if c.free == nil {
		t.Fatalf("rule %s: no free program", rule)
	}
	in := func(n int) Input {
		items := make([]any, n)
		for i := range items {
			items[i] = float64(i)
		}
		return Input{Entity: map[string]any{"kind": "Component", "spec": map[string]any{"items": items}}, Now: time.Unix(0, 0)}
	}
	small := newActivation(in(8))
	if tier := small.sizeTier(); tier > c.freeTier {
		t.Fatalf("8 items: tier %d, beyond the free program's %d", tier, c.freeTier)
	}
	if ok, err := c.eval(small); !ok || err != nil {
		t.Fatalf("8 items: %v, %v; want true", ok, err)
	}
	large := newActivation(in(2000))
	if tier := large.sizeTier(); tier != noTier {
		t.Fatalf("2,000 items: tier %d, want none", tier)
	}
	ok, err := c.eval(large)
	if ok || err == nil || !strings.Contains(err.Error(), "cost limit") {
		t.Fatalf("2,000 items: %v, %v; want the cost limit exceeded", ok, err)
	}
}

// TestTiersAreEstimatedOnlyOverTheInput checks what the estimate by tier
// takes for a value of the input: an expression whose comprehension names
// its variable after one of the input's is not estimated by tier at all, and
// sizes are walked over every value of the input, keys included.
func TestTiersAreEstimatedOnlyOverTheInput(t *testing.T) {
	t.Parallel()
	for _, rule := range []string{
		`entity.spec.items.exists(entity, entity.matches("a+"))`,
		`relations.exists(facts, facts.type.matches("a+"))`,
	} {
		c := compileUncached("p", "c", rule)
		if len(c.errs) > 0 {
			t.Fatal(c.errs[0])
		}
		if c.free != nil {
			t.Errorf("rule %s: a free program up to tier %d, want none", rule, c.freeTier)
		}
	}
	for _, tc := range []struct {
		name string
		in   Input
		want inputSize
	}{
		{"a long key", Input{Entity: map[string]any{strings.Repeat("k", 70): "v"}}, inputSize{1, 70}},
		{"a long relation", Input{Relations: []Relation{{Type: "ownedBy", TargetRef: strings.Repeat("g", 99)}, {Type: "partOf", TargetRef: "s"}}}, inputSize{2, 99}},
		{"facts", Input{Facts: map[string]map[string]any{"ci": {"runs": []any{1.0, 2.0, 3.0}}}}, inputSize{3, 4}},
		{"a type the walk does not know", Input{Entity: map[string]any{"spec": map[string]int{"a": 1}}}, inputSize{noTier, noTier}},
	} {
		if got := newActivation(tc.in).sizeOf(); got != tc.want {
			t.Errorf("%s: sizes %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if got := fmt.Sprint(tierOf(inputSize{9, 10}), tierOf(inputSize{1, 1025})); got != "1 "+fmt.Sprint(noTier) {
		t.Errorf("tiers %s", got)
	}
}
