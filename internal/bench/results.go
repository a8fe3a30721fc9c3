package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Results is one recorded run of `make bench`: every figure it measured, by
// name. It is what bench/results/<date>.json holds, so a later run can be
// compared with it (Compare).
type Results struct {
	// Date is the day of the run (2006-01-02); Commit the commit measured.
	Date   string `json:"date"`
	Commit string `json:"commit,omitempty"`
	// Machine describes where it ran (cores, and anything that disturbs the
	// numbers, such as other work on a shared machine).
	Machine string `json:"machine,omitempty"`
	// Figures are the measured values by name: a Go benchmark's metric is
	// "<package>.<Benchmark> <unit>", an end-to-end bench's field its JSON
	// path ("catalog.ingestSeconds", "catalog.latencyMs.facets.p95").
	Figures map[string]Figure `json:"figures"`
}

// Figure is one measured value and its unit.
type Figure struct {
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty"`
}

// HigherIsBetter reports whether a larger value of the figure is an
// improvement: rates (a unit or name ending in /s or per second) are; times,
// sizes and counts are not.
func (f Figure) HigherIsBetter(name string) bool {
	u := strings.ToLower(f.Unit + " " + name)
	return strings.Contains(u, "/s") || strings.Contains(u, "persecond")
}

// ParseGoBench reads the text output of `go test -bench` and adds a figure
// for every metric of every benchmark line to figures: the name is the
// package's last path element, the benchmark's name without its -N suffix,
// and the unit ("sqlitecatalog.BenchmarkReplay events/s"). A benchmark run
// more than once (-count) keeps its last value.
func ParseGoBench(r io.Reader, figures map[string]Figure) error {
	pkg := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = p[strings.LastIndex(p, "/")+1:]
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(fields[1]); err != nil {
			continue // a log line that starts with a benchmark's name
		}
		name := fields[0]
		if i := strings.LastIndex(name, "-"); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		if pkg != "" {
			name = pkg + "." + name
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return fmt.Errorf("benchmark line %q: value %q: %w", line, fields[i], err)
			}
			figures[name+" "+fields[i+1]] = Figure{Value: v, Unit: fields[i+1]}
		}
	}
	return sc.Err()
}

// AddJSON adds a figure for every number in a bench's JSON result (what
// `backlot bench catalog --output json` prints), named by prefix and its
// path. An object in a list is named by what identifies it (elementName):
// bench replay's runs as "runs.projectors-2", bench soak's processes by
// their process; a list of plain numbers (a series sampled over time) adds
// no figures.
func AddJSON(prefix string, raw []byte, figures map[string]Figure) error {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("%s: %w", prefix, err)
	}
	var walk func(name string, v any)
	walk = func(name string, v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, c := range t {
				walk(name+"."+k, c)
			}
		case []any:
			for i, c := range t {
				if m, ok := c.(map[string]any); ok {
					walk(name+"."+elementName(m, i), m)
				}
			}
		case float64:
			figures[name] = Figure{Value: t, Unit: unitOf(name)}
		}
	}
	walk(prefix, v)
	return nil
}

// elementName names the i-th object of a list in a figure's name: by its
// "process" or "name" when it has one, by its count of "projectors", else by
// its index.
func elementName(m map[string]any, i int) string {
	for _, k := range []string{"process", "name"} {
		if s, ok := m[k].(string); ok && s != "" {
			return s
		}
	}
	if n, ok := m["projectors"].(float64); ok {
		return "projectors-" + strconv.FormatFloat(n, 'f', -1, 64)
	}
	return strconv.Itoa(i)
}

// unitOf guesses a JSON figure's unit from its name.
func unitOf(name string) string {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "persecond"), strings.Contains(n, "per_sec"):
		return "/s"
	case strings.Contains(n, "seconds"):
		return "s"
	case strings.Contains(n, "ms"):
		return "ms"
	case strings.Contains(n, "mb"):
		return "MB"
	}
	return ""
}

// ReadResults reads a results file.
func ReadResults(path string) (*Results, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// LastRecorded returns the path of the newest results file in dir (by name,
// which starts with its date) other than except, or "" when there is none.
func LastRecorded(dir, except string) (string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return "", err
	}
	slices.Sort(paths)
	for i := len(paths) - 1; i >= 0; i-- {
		if abs, _ := filepath.Abs(paths[i]); except == "" || abs != mustAbs(except) {
			return paths[i], nil
		}
	}
	return "", nil
}

func mustAbs(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return abs
}

// Comparison is one figure of a run beside the same figure of an earlier one.
type Comparison struct {
	Name     string
	Unit     string
	Now      float64
	Before   float64
	HasNow   bool
	HasPrior bool
	// Change is Now/Before - 1 (0.25 is 25% more); Worse says whether the
	// change goes the wrong way for this figure.
	Change float64
	Worse  bool
}

// Compare lists every figure of now and before, sorted by name, each beside
// its other value.
func Compare(now, before *Results) []Comparison {
	names := map[string]bool{}
	for n := range now.Figures {
		names[n] = true
	}
	for n := range before.Figures {
		names[n] = true
	}
	out := make([]Comparison, 0, len(names))
	for n := range names {
		a, okA := now.Figures[n]
		b, okB := before.Figures[n]
		c := Comparison{Name: n, Unit: a.Unit, Now: a.Value, Before: b.Value, HasNow: okA, HasPrior: okB}
		if !okA {
			c.Unit = b.Unit
		}
		if okA && okB && b.Value != 0 {
			c.Change = a.Value/b.Value - 1
			better := a.HigherIsBetter(n)
			c.Worse = (better && c.Change < 0) || (!better && c.Change > 0)
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(x, y Comparison) int { return strings.Compare(x.Name, y.Name) })
	return out
}

// WriteComparison prints comparisons as a table: name, the earlier value,
// the new one and the change, marked "worse" when it goes the wrong way by
// more than tolerance (0.1 is 10%).
func WriteComparison(w io.Writer, cs []Comparison, tolerance float64) {
	fmt.Fprintf(w, "%-64s %14s %14s %9s\n", "figure", "before", "now", "change")
	num := func(ok bool, v float64) string {
		if !ok {
			return "-"
		}
		return strconv.FormatFloat(v, 'g', 6, 64)
	}
	for _, c := range cs {
		change := ""
		if c.HasNow && c.HasPrior && c.Before != 0 {
			change = fmt.Sprintf("%+.1f%%", 100*c.Change)
			if c.Worse && math.Abs(c.Change) > tolerance {
				change += " worse"
			}
		}
		fmt.Fprintf(w, "%-64s %14s %14s %9s\n", c.Name, num(c.HasPrior, c.Before), num(c.HasNow, c.Now), change)
	}
}
