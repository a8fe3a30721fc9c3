package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goBenchOutput = `goos: linux
goarch: amd64
pkg: backlot.dev/backlot/projections/catalogstore/sqlitecatalog
cpu: AMD EPYC
BenchmarkApply-2    	       3	3209547037 ns/op	      3116 events/s
BenchmarkReplay-2   	       2	3603064663 ns/op	        96.5 cpu-µs/event	      5551 events/s
PASS
pkg: backlot.dev/backlot/domain/event
BenchmarkDigest/fast-2         	   99067	     13534 ns/op	    3832 B/op	      25 allocs/op
BenchmarkDigest/fast-2         	   99067	     12000 ns/op	    3832 B/op	      25 allocs/op
    BenchmarkDigest logged: 5 rows
`

func TestParseGoBench(t *testing.T) {
	t.Parallel()
	figs := map[string]Figure{}
	if err := ParseGoBench(strings.NewReader(goBenchOutput), figs); err != nil {
		t.Fatal(err)
	}
	want := map[string]Figure{
		"sqlitecatalog.BenchmarkApply ns/op":         {3209547037, "ns/op"},
		"sqlitecatalog.BenchmarkApply events/s":      {3116, "events/s"},
		"sqlitecatalog.BenchmarkReplay ns/op":        {3603064663, "ns/op"},
		"sqlitecatalog.BenchmarkReplay cpu-µs/event": {96.5, "cpu-µs/event"},
		"sqlitecatalog.BenchmarkReplay events/s":     {5551, "events/s"},
		"event.BenchmarkDigest/fast ns/op":           {12000, "ns/op"},
		"event.BenchmarkDigest/fast B/op":            {3832, "B/op"},
		"event.BenchmarkDigest/fast allocs/op":       {25, "allocs/op"},
	}
	checkFigures(t, figs, want)
}

// checkFigures fails t unless figs holds exactly the figures of want.
func checkFigures(t *testing.T, figs, want map[string]Figure) {
	t.Helper()
	if len(figs) != len(want) {
		t.Errorf("%d figures, want %d: %v", len(figs), len(want), figs)
	}
	for k, w := range want {
		if figs[k] != w {
			t.Errorf("%s = %+v, want %+v", k, figs[k], w)
		}
	}
}

func TestCompareAgainstLastRecorded(t *testing.T) {
	t.Parallel()
	figs := map[string]Figure{}
	if err := AddJSON("catalog", []byte(`{"mode":"dev","ingestSeconds":10,"ingestEntitiesPerSecond":2000,"latencyMs":{"facets":{"p95":8,"n":300}}}`), figs); err != nil {
		t.Fatal(err)
	}
	if f := figs["catalog.latencyMs.facets.p95"]; f.Value != 8 || f.Unit != "ms" {
		t.Fatalf("facets p95 = %+v", f)
	}
	if _, ok := figs["catalog.mode"]; ok {
		t.Fatal("a string became a figure")
	}
	before := &Results{Date: "2026-12-01", Figures: figs}
	now := &Results{Date: "2026-12-06", Figures: map[string]Figure{
		"catalog.ingestSeconds":           {12, "s"},    // slower: worse
		"catalog.ingestEntitiesPerSecond": {2500, "/s"}, // a higher rate: better
		"catalog.latencyMs.facets.p95":    {8, "ms"},
		"new.BenchmarkX events/s":         {5, "events/s"},
	}}
	cs := Compare(now, before)
	byName := map[string]Comparison{}
	for _, c := range cs {
		byName[c.Name] = c
	}
	if c := byName["catalog.ingestSeconds"]; !c.Worse || c.Change < 0.19 || c.Change > 0.21 {
		t.Errorf("ingest time from 10 s to 12 s: %+v, want 20%% worse", c)
	}
	if c := byName["catalog.ingestEntitiesPerSecond"]; c.Worse {
		t.Errorf("a higher rate marked worse: %+v", c)
	}
	if c := byName["new.BenchmarkX events/s"]; c.HasPrior || !c.HasNow {
		t.Errorf("a new figure: %+v", c)
	}
	if c := byName["catalog.latencyMs.facets.n"]; !c.HasPrior || c.HasNow {
		t.Errorf("a figure no longer measured: %+v", c)
	}
	var out bytes.Buffer
	WriteComparison(&out, cs, 0.1)
	if !strings.Contains(out.String(), "+20.0% worse") || !strings.Contains(out.String(), "+25.0%") {
		t.Errorf("comparison table:\n%s", out.String())
	}

	dir := t.TempDir()
	for _, name := range []string{"2026-11-30.json", "2026-12-01.json", "2026-12-06.json"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(`{"figures":{}}`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	last, err := LastRecorded(dir, filepath.Join(dir, "2026-12-06.json"))
	if err != nil || filepath.Base(last) != "2026-12-01.json" {
		t.Fatalf("last recorded before today's = %q, %v", last, err)
	}
}

// TestAddJSONNamesTheObjectsOfALists: bench replay's runs and bench soak's
// processes become figures named by what identifies them; a sampled series
// adds none.
func TestAddJSONNamesTheObjectsOfALists(t *testing.T) {
	t.Parallel()
	figs := map[string]Figure{}
	raw := `{"events":100,"runs":[{"projectors":1,"events_per_sec":22000.5,"postgres_cpu_us_per_event":48},{"projectors":4,"events_per_sec":20000}],` +
		`"memory":[{"process":"api-1","maxMB":90,"seriesMB":[80,85,90]}],"other":[{"x":3}],"series":[1,2,3]}`
	if err := AddJSON("replay", []byte(raw), figs); err != nil {
		t.Fatal(err)
	}
	want := map[string]Figure{
		"replay.events": {100, ""},
		"replay.runs.projectors-1.events_per_sec":            {22000.5, "/s"},
		"replay.runs.projectors-1.projectors":                {1, ""},
		"replay.runs.projectors-1.postgres_cpu_us_per_event": {48, ""},
		"replay.runs.projectors-4.events_per_sec":            {20000, "/s"},
		"replay.runs.projectors-4.projectors":                {4, ""},
		"replay.memory.api-1.maxMB":                          {90, "MB"},
		"replay.other.0.x":                                   {3, ""},
	}
	checkFigures(t, figs, want)
	if !figs["replay.runs.projectors-1.events_per_sec"].HigherIsBetter("replay.runs.projectors-1.events_per_sec") {
		t.Error("a replay rate is not marked higher-is-better")
	}
}
