package catalogstore_test

import (
	"strings"
	"testing"

	"backlot.dev/backlot/projections/catalogstore"
)

func TestPrefixEnd(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		prefix, want string
		ok           bool
	}{
		{"service-", "service.", true},
		{"az", "a{", true},
		{"é", "ê", true},
		{"a\u007f", "a\u0080", true},
		{"a\ud7ff", "a\ue000", true},
		{"a\U0010ffff", "b", true},
		{"\U0010ffff", "", false},
		{"", "", false},
	} {
		got, ok := catalogstore.PrefixEnd(c.prefix)
		if got != c.want || ok != c.ok {
			t.Errorf("PrefixEnd(%q) = %q, %v; want %q, %v", c.prefix, got, ok, c.want, c.ok)
		}
		if ok && (got <= c.prefix || strings.HasPrefix(got, c.prefix) || !strings.HasPrefix(c.prefix+"\U0010ffff", c.prefix) || c.prefix+"\U0010ffff" >= got) {
			t.Errorf("PrefixEnd(%q) = %q is not above every string that starts with it", c.prefix, got)
		}
	}
}
