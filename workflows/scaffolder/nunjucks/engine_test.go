package nunjucks

import (
	"errors"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per operation since start: on a shared
// machine it says more than the wall time.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e6, "cpu-ms/op")
}

func engine(t testing.TB) *Engine {
	t.Helper()
	e, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var vars = map[string]any{
	"parameters": map[string]any{
		"name":    "ledger",
		"port":    int64(8080),
		"enabled": true,
		"tags":    []any{"go", "api"},
		"repoUrl": "github.com?owner=northwind&repo=ledger",
		"owner":   "group:default/team-a",
		"nested":  map[string]any{"a": map[string]any{"b": []any{int64(1), int64(2)}}},
	},
	"steps": map[string]any{"publish": map[string]any{"output": map[string]any{"remoteUrl": "https://example.test/ledger"}}},
}

func TestRenderValue(t *testing.T) {
	t.Parallel()
	s, err := engine(t).Session(Options{}, vars)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cases := []struct {
		name, src string
		want      any
		undefined bool
	}{
		{"number keeps its type", "${{ parameters.port }}", int64(8080), false},
		{"bool keeps its type", "${{ parameters.enabled }}", true, false},
		{"array keeps its type", "${{ parameters.tags }}", []any{"go", "api"}, false},
		{"object keeps its type", "${{ parameters.nested.a }}", map[string]any{"b": []any{int64(1), int64(2)}}, false},
		{"text around an expression is text", "port ${{ parameters.port }}", "port 8080", false},
		{"===", `${{ parameters.name === "ledger" }}`, true, false},
		{"!==", `${{ parameters.name !== "ledger" }}`, false, false},
		{"an undefined name alone is undefined", "${{ github.head_ref }}", nil, true},
		{"an undefined name in text is empty", "ref=${{ github.head_ref }};", "ref=;", false},
		{"parseRepoUrl member", "${{ (parameters.repoUrl | parseRepoUrl).owner }}", "northwind", false},
		{"projectSlug", "${{ parameters.repoUrl | projectSlug }}", "northwind/ledger", false},
		{"parseEntityRef", "${{ parameters.owner | parseEntityRef }}", map[string]any{"kind": "group", "namespace": "default", "name": "team-a"}, false},
		{"parseEntityRef and pick", `${{ parameters.owner | parseEntityRef | pick("name") }}`, "team-a", false},
		{"pick a path", `${{ parameters.nested | pick("a.b[1]") }}`, int64(2), false},
		{"or default", "${{ parameters.missing or 0 }}", int64(0), false},
		{"split", `${{ parameters.repoUrl.split("?")[0] }}`, "github.com", false},
		{"if", "{% if parameters.enabled %}on{% else %}off{% endif %}", "on", false},
		{"for", "{% for t in parameters.tags %}[${{ t }}]{% endfor %}", "[go][api]", false},
		{"set", "{% set n = parameters.name | upper %}${{ n }}", "LEDGER", false},
		{"raw", "{% raw %}${{ github.sha }}{% endraw %}", "${{ github.sha }}", false},
		{"whitespace control", "a  {%- if true -%}  b  {%- endif -%}  c", "abc", false},
		{"step output", "${{ steps.publish.output.remoteUrl }}", "https://example.test/ledger", false},
		{"no autoescape", `${{ "<b>&" }}`, "<b>&", false},
		{"dump", "${{ parameters.tags | dump }}", `["go","api"]`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, defined, err := s.RenderValue(c.src)
			if err != nil {
				t.Fatal(err)
			}
			if defined == c.undefined {
				t.Errorf("defined = %v, want %v", defined, !c.undefined)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s = %#v, want %#v", c.src, got, c.want)
			}
		})
	}
}

func TestErrorsNameTheirPlace(t *testing.T) {
	t.Parallel()
	s, err := engine(t).Session(Options{}, vars)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cases := []struct {
		name, src, kind string
	}{
		{"|| is not nunjucks", "line\n${{ parameters.x || 0 }}", KindSyntax},
		{"unclosed", "${{ parameters.x", KindSyntax},
		{"unknown tag", "{% include 'x' %}", KindSyntax},
		{"a filter that throws", "${{ 'nohost' | parseRepoUrl }}", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Render(c.src)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want an *Error", err)
			}
			if c.kind != "" && e.Kind != c.kind {
				t.Errorf("kind %q, want %q (%v)", e.Kind, c.kind, e)
			}
			if e.Budget() {
				t.Errorf("%v counts as a budget error", e)
			}
			if e.Message == "" {
				t.Error("no message")
			}
		})
	}
}

func TestCookiecutterCompat(t *testing.T) {
	t.Parallel()
	s, err := engine(t).Session(Options{CookiecutterCompat: true}, map[string]any{"cookiecutter": map[string]any{"name": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Render("{{ cookiecutter.name }}-${{ cookiecutter.name }}")
	if err != nil {
		t.Fatal(err)
	}
	if got != "x-$x" {
		t.Fatalf("got %q", got)
	}
}

func TestOutputIsBounded(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("a", 60_000)
	cases := []struct{ name, src string }{
		{"replace chain", "${{ parameters.s" + strings.Repeat(` | replace("a", "aaaaaaaaaa")`, 7) + " }}"},
		{"dump chain", "${{ parameters.s" + strings.Repeat(" | dump", 40) + " }}"},
		{"a long loop of text", "{% for i in range(0, 100) %}${{ parameters.s }}{% endfor %}"},
		{"a value of many copies", "{% set l = [] %}{% for i in range(0, 100) %}{% set l = (l.push(parameters.s), l) %}{% endfor %}${{ l | dump }}"},
		{"doubling concatenation", "{% set x = parameters.s %}{% for i in range(0, 30) %}{% set x = x ~ x %}{% endfor %}${{ x | length }}"},
		// 2,000 items joined by a 2,000-byte separator: 4 MB.
		{"join with a long separator", "${{ parameters.t | list | join(parameters.t) | length }}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, err := engine(t).Session(Options{}, map[string]any{"parameters": map[string]any{"s": big, "t": big[:2000]}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			start := time.Now()
			out, err := s.Render(c.src)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("rendered %d bytes in %s, want an *Error", len(out), time.Since(start))
			}
			if !e.Budget() {
				t.Errorf("refused, but not by a budget: %v", e)
			}
		})
	}
}

func TestReplaceChainNamesTheLimit(t *testing.T) {
	t.Parallel()
	// 200 bytes grown a thousandfold: the second replace would build 200 MB.
	// Each match adds a thousand bytes, so the render reaches the limit after a
	// few thousand matches instead of millions (which took more than the time
	// budget on a slow, loaded machine, and then failed for the wrong reason).
	s, err := engine(t).Session(Options{}, map[string]any{"parameters": map[string]any{"s": strings.Repeat("a", 200)}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Render("${{ parameters.s" + strings.Repeat(` | replace("a", "`+strings.Repeat("a", 1000)+`")`, 3) + " }}")
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindLimit || !strings.Contains(e.Error(), "MaxStringLength") {
		t.Fatalf("got %v, want the MaxStringLength limit", err)
	}
}

func TestTimeBudgetInterrupts(t *testing.T) {
	t.Parallel()
	e, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.Session(Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e.TimeBudget = 5 * time.Millisecond
	_, err = s.Render("{% for i in range(0, 900000) %}{% endfor %}")
	var te *Error
	if !errors.As(err, &te) || !te.Budget() {
		t.Fatalf("got %v, want a budget error", err)
	}
	// The interrupted runtime is not reused: a new session works.
	e.TimeBudget = 0
	s2, err := e.Session(Options{}, map[string]any{"v": "ok"})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got, err := s2.Render("${{ v }}"); err != nil || got != "ok" {
		t.Fatalf("after a timeout: %q, %v", got, err)
	}
}

func TestSessionsRunConcurrently(t *testing.T) {
	t.Parallel()
	e := engine(t)
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		go func(i int) {
			s, err := e.Session(Options{}, map[string]any{"i": int64(i)})
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			v, _, err := s.RenderValue("${{ i * 2 }}")
			if err == nil && v != int64(2*i) {
				err = errors.New("wrong value")
			}
			errs <- err
		}(i)
	}
	for i := 0; i < 16; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// BenchmarkLoad measures starting one runtime and loading the bundle in it.
func BenchmarkLoad(b *testing.B) {
	e := engine(b)
	start := cpuTime()
	for b.Loop() {
		if _, err := e.load(); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start)
}

// BenchmarkRenderStepInput measures one step input's render from a pooled
// runtime: a session over the task's variables and a few values.
func BenchmarkRenderStepInput(b *testing.B) {
	e := engine(b)
	start := cpuTime()
	defer func() { reportCPU(b, start) }()
	for b.Loop() {
		s, err := e.Session(Options{}, vars)
		if err != nil {
			b.Fatal(err)
		}
		for _, src := range []string{"${{ parameters.name }}", "${{ parameters.repoUrl | projectSlug }}", "svc-${{ parameters.name }}-${{ parameters.port }}"} {
			if _, _, err := s.RenderValue(src); err != nil {
				b.Fatal(err)
			}
		}
		s.Close()
	}
}

// BenchmarkRenderFile measures one skeleton file's render in an open session.
func BenchmarkRenderFile(b *testing.B) {
	e := engine(b)
	s, err := e.Session(Options{}, map[string]any{"values": vars["parameters"]})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	file := strings.Repeat("# ${{ values.name }}\n{% for t in values.tags %}- ${{ t }}\n{% endfor %}port: ${{ values.port }}\n", 20)
	start := cpuTime()
	defer func() { reportCPU(b, start) }()
	for b.Loop() {
		if _, err := s.Render(file); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBacktrackingRegexpIsBounded(t *testing.T) {
	t.Parallel()
	s, err := engine(t).Session(Options{}, map[string]any{"p": strings.Repeat("a", 40) + "!"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	// A backreference needs regexp2, whose backtracking here is exponential.
	out, err := s.Render(`${{ p | replace(r/^((a+)+\2)+$/, "x") }}`)
	if took := time.Since(start); took > 3*RegexpMatchTimeout {
		t.Fatalf("took %s", took)
	}
	if err == nil && out != strings.Repeat("a", 40)+"!" {
		t.Fatalf("got %q", out)
	}
}

func TestWarmFillsThePool(t *testing.T) {
	t.Parallel()
	e, err := New(3)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Warm(5); err != nil {
		t.Fatal(err)
	}
	if len(e.pool) != 3 {
		t.Fatalf("pool holds %d runtimes, want 3", len(e.pool))
	}
}
