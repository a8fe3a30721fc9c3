package bench

import (
	"fmt"
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

func TestSoakStatsCountsErrorsByServer(t *testing.T) {
	t.Parallel()
	st := newSoakStats(map[string]string{"http://127.0.0.1:1268": "api-1", "http://127.0.0.1:12681": "api-2"})
	st.fail("register", fmt.Errorf(`Post "http://127.0.0.1:12681/api/catalog/locations": context deadline exceeded`))
	st.fail("list", fmt.Errorf("GET http://127.0.0.1:1268/api/catalog/entities: 503 Service Unavailable"))
	st.fail("register", fmt.Errorf(`Post "http://127.0.0.1:12681/api/catalog/locations": EOF`))
	st.fail("", fmt.Errorf("write file: disk full"))
	got := st.errorsByServer()
	if len(got) != 2 || got["api-1"] != 1 || got["api-2"] != 2 || st.errors.Load() != 4 {
		t.Fatalf("errors by server %v (of %d), want api-1 1 and api-2 2 (of 4)", got, st.errors.Load())
	}
	var b strings.Builder
	(&SoakResult{Errors: 4, ErrorsByServer: got}).WriteText(&b)
	if !strings.Contains(b.String(), "  2 sent to api-2\n") {
		t.Fatalf("the text does not show the errors by server:\n%s", b.String())
	}
}

func TestSoakCPUSpent(t *testing.T) {
	t.Parallel()
	start := map[string]int64{"api-1": 1_000_000, "postgresql": 500_000}
	end := map[string]int64{"api-1": 3_000_000, "postgresql": 4_500_000, "core": 1_000_000}
	got, all := soakCPUSpent(start, end, 1000)
	want := []SoakCPU{
		{Process: "api-1", Seconds: 2, PerRequestMs: 2},
		{Process: "core", Seconds: 1, PerRequestMs: 1},
		{Process: "postgresql", Seconds: 4, PerRequestMs: 4},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || all != 7 {
		t.Fatalf("soakCPUSpent = %v, %v ms a request; want %v, 7", got, all, want)
	}
	if _, all := soakCPUSpent(start, end, 0); all != 0 {
		t.Fatalf("no request: %v ms a request, want 0", all)
	}
}

func TestServeProfile(t *testing.T) {
	t.Parallel()
	if got := serveProfile("", "api-1"); got != nil {
		t.Fatalf("no profile asked: %v", got)
	}
	if got := strings.Join(serveProfile("/tmp/x/cpu.pprof", "api-1"), " "); got != "--cpuprofile /tmp/x/cpu-api-1.pprof" {
		t.Fatalf("serveProfile = %q", got)
	}
}
