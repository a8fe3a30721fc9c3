package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"backlot.dev/backlot/internal/bench/gen"
	"backlot.dev/backlot/internal/temporalsrv"
)

// benchResult is what `backlot bench catalog` prints.
type benchResult struct {
	Mode             string             `json:"mode"`
	Entities         int                `json:"entities"`
	Files            int                `json:"files"`
	GenerateSeconds  float64            `json:"generateSeconds"`
	IngestSeconds    float64            `json:"ingestSeconds"`
	IngestPerSecond  float64            `json:"ingestEntitiesPerSecond"`
	Latency          map[string]latency `json:"latencyMs"`
	ChangeVisibleMs  latency            `json:"changeVisibleMs"`
	RestartSeconds   float64            `json:"restartSeconds,omitempty"`
	PeakRSSMB        float64            `json:"peakRssMB"`
	RebuildPerSecond float64            `json:"rebuildEventsPerSecond,omitempty"`
	Policies         *policyBench       `json:"policies,omitempty"`
}

type latency struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	N   int     `json:"n"`
}

func newBenchCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Benchmarks of a whole Backlot server"}
	var n, requests, edits, policyChecks int
	var seed int64
	var keep, production bool
	var dir, postgresURL string
	var brokers []string
	catalogCmd := &cobra.Command{
		Use:   "catalog",
		Short: "Generate a synthetic catalog, ingest it into backlot dev, and measure",
		Long: `Generates a synthetic Backstage catalog of N entities with realistic relations,
starts backlot dev on a fresh data folder with it, and prints the time until every
entity is queryable with its relations, the p50/p95/p99 latency of a filtered list,
a by-query page, facets and by-name lookups, the time until an edited file's change
is visible after a refresh, and the server's peak resident memory.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if postgresURL == "" {
				postgresURL = os.Getenv("BACKLOT_POSTGRES_URL")
			}
			if len(brokers) == 0 && os.Getenv("BACKLOT_KAFKA_BROKERS") != "" {
				brokers = strings.Split(os.Getenv("BACKLOT_KAFKA_BROKERS"), ",")
			}
			res, err := benchCatalog(benchOptions{n: n, seed: seed, requests: requests, edits: edits, policyChecks: policyChecks, keep: keep, dir: dir, progress: os.Stderr,
				production: production, brokers: brokers, postgresURL: postgresURL})
			if err != nil {
				return err
			}
			if g.output == "json" {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			printBench(os.Stdout, res)
			return nil
		},
	}
	f := catalogCmd.Flags()
	f.IntVarP(&n, "entities", "n", 10000, "number of entities to generate")
	f.Int64Var(&seed, "seed", 1, "generator seed")
	f.IntVar(&requests, "requests", 300, "requests per latency measurement")
	f.IntVar(&edits, "edits", 20, "edited entities for the change-visibility measurement")
	f.IntVar(&policyChecks, "policy-facts", 20, "facts reports for the incremental policy evaluation (dev mode; 0 skips the policies phase)")
	f.BoolVar(&keep, "keep", false, "keep the generated catalog and data folder")
	f.StringVar(&dir, "dir", "", "work folder (default: a new temporary folder)")
	f.BoolVar(&production, "production", false, "measure backlot serve (every role in one process) on Kafka and PostgreSQL instead of backlot dev")
	f.StringSliceVar(&brokers, "kafka-brokers", nil, "with --production: Kafka brokers (env BACKLOT_KAFKA_BROKERS; default: an in-process Kafka-protocol broker)")
	f.StringVar(&postgresURL, "postgres-url", "", "with --production: PostgreSQL server; a database is created on it and dropped after (env BACKLOT_POSTGRES_URL)")
	cmd.AddCommand(catalogCmd, newBenchMigrateCmd(g), newBenchScaffoldCmd(g))
	return cmd
}

type benchOptions struct {
	n, requests, edits int
	policyChecks       int
	seed               int64
	keep               bool
	dir                string
	progress           io.Writer
	production         bool
	brokers            []string
	postgresURL        string
}

func benchCatalog(o benchOptions) (*benchResult, error) {
	dir := o.dir
	if dir == "" {
		d, err := os.MkdirTemp("", "backlot-bench-")
		if err != nil {
			return nil, err
		}
		dir = d
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	say := func(format string, args ...any) { fmt.Fprintf(o.progress, format+"\n", args...) }
	catDir := filepath.Join(dir, "catalog")
	start := time.Now()
	sum, err := gen.Generate(catDir, gen.Config{Entities: o.n, Seed: o.seed})
	if err != nil {
		return nil, err
	}
	res := &benchResult{Mode: "dev (embedded SQLite)", Entities: sum.Entities, Files: sum.Files, GenerateSeconds: time.Since(start).Seconds(), Latency: map[string]latency{}}
	say("generated %d entities in %d files in %.1fs", sum.Entities, sum.Files, res.GenerateSeconds)

	port, err := freePort()
	if err != nil {
		return nil, err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dataDir := filepath.Join(dir, "data")
	args := []string{"dev", "--quiet", "--data", dataDir, "--addr", "127.0.0.1:" + strconv.Itoa(port),
		"--catalog", sum.RootFile, "--refresh-interval", "1h", "--temporal-addr", "127.0.0.1:0"}
	var prod *prodBench
	if o.production {
		prod, err = startProdBench(context.Background(), o.brokers, o.postgresURL, say)
		if err != nil {
			return nil, err
		}
		defer prod.close()
		args = prod.serveArgs("127.0.0.1:"+strconv.Itoa(port), dataDir, sum.RootFile)
		res.Mode = "serve (Kafka + PostgreSQL)"
	}
	srv := exec.Command(exe, args...)
	srv.Stdout, srv.Stderr = o.progress, o.progress
	start = time.Now()
	if err := srv.Start(); err != nil {
		return nil, err
	}
	var peak atomic.Int64
	stopRSS := make(chan struct{})
	go sampleRSS(srv.Process.Pid, &peak, stopRSS)
	defer func() {
		close(stopRSS)
		srv.Process.Signal(os.Interrupt)
		srv.Wait()
	}()

	// All entities: the generated ones and the generated Location of the registration.
	want := sum.Entities + 1
	client := &http.Client{Timeout: 60 * time.Second}
	probe := probeEntity(catDir)
	lastReport := time.Now()
	for {
		if time.Since(start) > 30*time.Minute {
			return nil, fmt.Errorf("ingestion did not finish within 30 minutes")
		}
		total, err := totalItems(client, base)
		if err == nil && total >= want && hasRelations(client, base, probe) {
			break
		}
		if time.Since(lastReport) > 2*time.Second {
			say("ingesting: %d/%d entities queryable after %.1fs", total, want, time.Since(start).Seconds())
			lastReport = time.Now()
		}
		time.Sleep(50 * time.Millisecond)
	}
	res.IngestSeconds = time.Since(start).Seconds()
	res.IngestPerSecond = float64(sum.Entities) / res.IngestSeconds
	say("all %d entities queryable with relations after %.1fs (%.0f entities/s)", want, res.IngestSeconds, res.IngestPerSecond)

	names, err := componentNames(client, base, 500)
	if err != nil {
		return nil, err
	}
	groups, err := namesOf(client, base, "group", 2000)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(o.seed), 7))
	measures := []struct {
		name string
		url  func() string
	}{
		{"filteredList", func() string {
			return base + "/api/catalog/entities?filter=kind=component,spec.type=service,spec.lifecycle=production&limit=50"
		}},
		{"byQueryPage", func() string {
			return base + "/api/catalog/entities/by-query?filter=kind=component,spec.lifecycle=production&orderField=metadata.name,asc&limit=20"
		}},
		{"facets", func() string {
			return base + "/api/catalog/entity-facets?facet=spec.type&facet=spec.lifecycle&facet=metadata.tags&filter=kind=component"
		}},
		// The same queries with a different owner each time: the read model caches
		// counts and facets until the next write, and these show the uncached cost.
		{"byQueryPageVaried", func() string {
			return base + "/api/catalog/entities/by-query?filter=kind=component,spec.owner=" + url.QueryEscape(groups[rng.IntN(len(groups))]) + "&orderField=metadata.name,asc&limit=20"
		}},
		{"facetsVaried", func() string {
			return base + "/api/catalog/entity-facets?facet=spec.type&facet=spec.lifecycle&facet=metadata.tags&filter=kind=component,spec.owner=" + url.QueryEscape(groups[rng.IntN(len(groups))])
		}},
		{"byName", func() string {
			return base + "/api/catalog/entities/by-name/component/default/" + url.PathEscape(names[rng.IntN(len(names))])
		}},
	}
	for _, m := range measures {
		l, err := measure(client, o.requests, m.url)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.name, err)
		}
		res.Latency[m.name] = l
		say("%-13s p50 %.2fms p95 %.2fms p99 %.2fms", m.name, l.P50, l.P95, l.P99)
	}

	if o.edits > 0 {
		l, err := measureChanges(client, base, catDir, o.seed, o.edits)
		if err != nil {
			return nil, fmt.Errorf("change visibility: %w", err)
		}
		res.ChangeVisibleMs = l
		say("edit+refresh visible p50 %.0fms p95 %.0fms p99 %.0fms", l.P50, l.P95, l.P99)
	}
	if !o.production && o.policyChecks > 0 {
		pb, err := benchPolicies(client, base, catDir, names, o.policyChecks, say)
		if err != nil {
			return nil, fmt.Errorf("policies: %w", err)
		}
		res.Policies = pb
	}
	res.PeakRSSMB = float64(peak.Load()) / 1024
	if v := readHWM(srv.Process.Pid); v > peak.Load() {
		res.PeakRSSMB = float64(v) / 1024
	}
	if prod != nil {
		rate, err := prod.replay(context.Background(), say)
		if err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
		res.RebuildPerSecond = rate
	}
	return res, nil
}

// freePort returns a free loopback port below the kernel's ephemeral range.
func freePort() (int, error) { return temporalsrv.FreePort("127.0.0.1") }

// sampleRSS keeps the peak resident size (KiB) of pid.
func sampleRSS(pid int, peak *atomic.Int64, stop <-chan struct{}) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if v := readHWM(pid); v > peak.Load() {
			peak.Store(v)
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// readHWM returns VmHWM of /proc/pid/status in KiB.
func readHWM(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			v, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return v
		}
	}
	return 0
}

func getJSON(c *http.Client, u string, v any) error {
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("GET %s: %s: %s", u, resp.Status, b)
	}
	if v == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func totalItems(c *http.Client, base string) (int, error) {
	var page struct {
		TotalItems int `json:"totalItems"`
	}
	err := getJSON(c, base+"/api/catalog/entities/by-query?limit=1", &page)
	return page.TotalItems, err
}

// probeEntity names the last component the generator wrote, to check relations.
func probeEntity(catDir string) string {
	var last string
	filepath.WalkDir(catDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		for _, doc := range strings.Split(string(b), "\n---") {
			if strings.Contains(doc, "kind: Component") {
				for _, line := range strings.Split(doc, "\n") {
					if n, ok := strings.CutPrefix(strings.TrimSpace(line), "name: "); ok {
						last = strings.Trim(n, `"'`)
						break
					}
				}
			}
		}
		return nil
	})
	return last
}

func hasRelations(c *http.Client, base, name string) bool {
	if name == "" {
		return true
	}
	var e struct {
		Relations []struct {
			Type string `json:"type"`
		} `json:"relations"`
	}
	if err := getJSON(c, base+"/api/catalog/entities/by-name/component/default/"+url.PathEscape(name), &e); err != nil {
		return false
	}
	for _, r := range e.Relations {
		if r.Type == "ownedBy" {
			return true
		}
	}
	return false
}

func componentNames(c *http.Client, base string, n int) ([]string, error) {
	return namesOf(c, base, "component", n)
}

func namesOf(c *http.Client, base, kind string, n int) ([]string, error) {
	var ents []struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := getJSON(c, fmt.Sprintf("%s/api/catalog/entities?filter=kind=%s&fields=metadata.name&limit=%d", base, kind, n), &ents); err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Metadata.Name)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s entities found", kind)
	}
	return out, nil
}

func measure(c *http.Client, n int, next func() string) (latency, error) {
	// Warm up.
	for i := 0; i < 5; i++ {
		if err := getJSON(c, next(), nil); err != nil {
			return latency{}, err
		}
	}
	ds := make([]float64, 0, n)
	for i := 0; i < n; i++ {
		u := next()
		t := time.Now()
		if err := getJSON(c, u, nil); err != nil {
			return latency{}, err
		}
		ds = append(ds, float64(time.Since(t).Microseconds())/1000)
	}
	return percentiles(ds), nil
}

func percentiles(ds []float64) latency {
	sort.Float64s(ds)
	at := func(p float64) float64 {
		if len(ds) == 0 {
			return 0
		}
		i := int(p*float64(len(ds))+0.5) - 1
		return ds[max(0, min(i, len(ds)-1))]
	}
	return latency{P50: at(0.50), P95: at(0.95), P99: at(0.99), N: len(ds)}
}

// measureChanges edits entities in their files, asks for a refresh of each, and
// measures the time from the refresh request until a reader sees the new version.
func measureChanges(c *http.Client, base, catDir string, seed int64, k int) (latency, error) {
	var ds []float64
	for i := 0; i < k; i++ {
		// One edit at a time: a refresh re-reads the whole location, so edits made
		// together would all become visible with the first refresh.
		refs, err := gen.Edit(catDir, seed+1+int64(i), 1)
		if err != nil {
			return latency{}, err
		}
		ref := refs[0]
		old, err := etagOf(c, base, ref)
		if err != nil {
			return latency{}, err
		}
		t := time.Now()
		body := strings.NewReader(fmt.Sprintf(`{"entityRef":%q}`, ref))
		resp, err := c.Post(base+"/api/catalog/refresh", "application/json", body)
		if err != nil {
			return latency{}, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			return latency{}, fmt.Errorf("refresh %s: %s", ref, resp.Status)
		}
		for {
			cur, err := etagOf(c, base, ref)
			if err != nil {
				return latency{}, err
			}
			if cur != old {
				break
			}
			if time.Since(t) > 30*time.Second {
				return latency{}, fmt.Errorf("the edit of %s was not visible after 30s", ref)
			}
			time.Sleep(5 * time.Millisecond)
		}
		ds = append(ds, float64(time.Since(t).Microseconds())/1000)
	}
	return percentiles(ds), nil
}

func etagOf(c *http.Client, base, ref string) (string, error) {
	kind, rest, _ := strings.Cut(ref, ":")
	ns, name, _ := strings.Cut(rest, "/")
	var e struct {
		Metadata struct {
			Etag string `json:"etag"`
		} `json:"metadata"`
	}
	err := getJSON(c, base+"/api/catalog/entities/by-name/"+url.PathEscape(kind)+"/"+url.PathEscape(ns)+"/"+url.PathEscape(name), &e)
	return e.Metadata.Etag, err
}

func printBench(w io.Writer, r *benchResult) {
	fmt.Fprintf(w, "mode                %s\n", r.Mode)
	fmt.Fprintf(w, "entities            %d in %d files\n", r.Entities, r.Files)
	fmt.Fprintf(w, "ingest              %.1fs until all queryable with relations (%.0f entities/s)\n", r.IngestSeconds, r.IngestPerSecond)
	keys := make([]string, 0, len(r.Latency))
	for k := range r.Latency {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		l := r.Latency[k]
		fmt.Fprintf(w, "%-19s p50 %6.2fms  p95 %6.2fms  p99 %6.2fms  (n=%d)\n", k, l.P50, l.P95, l.P99, l.N)
	}
	if r.ChangeVisibleMs.N > 0 {
		l := r.ChangeVisibleMs
		fmt.Fprintf(w, "%-19s p50 %6.0fms  p95 %6.0fms  p99 %6.0fms  (n=%d)\n", "edit visible", l.P50, l.P95, l.P99, l.N)
	}
	fmt.Fprintf(w, "peak RSS            %.0f MB\n", r.PeakRSSMB)
	if p := r.Policies; p != nil {
		fmt.Fprintf(w, "policies full       %.2fs for %d components x 20 checks until readable (rating %.2fs)\n", p.FullSeconds, p.Components, p.RatingSeconds)
		fmt.Fprintf(w, "policies one fact   p50 %6.1fms  p95 %6.1fms  until re-rated and readable (rating %.2fms)\n", p.IncrementalMs.P50, p.IncrementalMs.P95, p.IncrementalRatingMs)
	}
	if r.RebuildPerSecond > 0 {
		fmt.Fprintf(w, "replay              %.0f events/s into a fresh read model\n", r.RebuildPerSecond)
	}
}
