package policies

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSelector(t *testing.T) {
	t.Parallel()
	s, err := CompileSelector("migration add-codeowners", `entity.kind == "Component" && entity.?spec.?type.orValue("") == "service"`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		entity map[string]any
		want   bool
	}{
		{map[string]any{"kind": "Component", "spec": map[string]any{"type": "service"}}, true},
		{map[string]any{"kind": "Component", "spec": map[string]any{"type": "library"}}, false},
		{map[string]any{"kind": "API"}, false},
	} {
		if got, err := s.Matches(c.entity, nil, nil, time.Time{}); err != nil || got != c.want {
			t.Errorf("%v: %v %v, want %v", c.entity, got, err, c.want)
		}
	}
	_, err = CompileSelector("migration m", `entity.kind ==`)
	var se *SelectorError
	if !errors.As(err, &se) || se.Line != 1 || !strings.HasPrefix(err.Error(), "migration m: selector 1:") {
		t.Fatalf("syntax error: %v", err)
	}
	if _, err := CompileSelector("migration m", `entity.kind`); err == nil || !strings.Contains(err.Error(), "want bool") {
		t.Fatalf("a selector that is not a bool: %v", err)
	}
}
