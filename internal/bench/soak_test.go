package bench

import (
	"strings"
	"testing"
	"time"
)

func TestSoakOptionsValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(*SoakOptions)
		want string // a part of the error; empty for none
	}{
		{"defaults", func(*SoakOptions) {}, ""},
		{"no binary", func(o *SoakOptions) { o.Backlot = "" }, "names no backlot binary"},
		{"too short", func(o *SoakOptions) { o.Duration = time.Millisecond }, "--duration 1ms"},
		{"no followers", func(o *SoakOptions) { o.Followers = -1 }, "--followers -1"},
		{"no api process", func(o *SoakOptions) { o.APIProcesses = -2 }, "--api-processes -2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := SoakOptions{Backlot: "/usr/bin/backlot"}
			tc.edit(&o)
			o.setDefaults()
			err := o.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate = %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

func TestSoakResultClean(t *testing.T) {
	t.Parallel()
	ok := SoakResult{Events: SoakEvents{Logged: 10}}
	if !ok.Clean() {
		t.Fatalf("a soak without errors or differences is not clean")
	}
	for name, r := range map[string]SoakResult{
		"an error":            {Errors: 1, Events: SoakEvents{Logged: 10}},
		"a lost event":        {Events: SoakEvents{Logged: 10, Lost: 1}},
		"a doubled event":     {Events: SoakEvents{Logged: 10, Doubled: 1}},
		"out of order":        {Events: SoakEvents{Logged: 10, OutOfOrder: 1}},
		"a write not logged":  {Events: SoakEvents{Logged: 10, WriterRefsMissing: 1}},
		"no event logged":     {},
		"an event not logged": {Events: SoakEvents{Logged: 10, Extra: 1}},
	} {
		if r.Clean() {
			t.Errorf("%s: Clean() = true", name)
		}
	}
}
