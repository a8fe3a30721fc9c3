package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/internal/bench/gen"
)

// CatalogResult is what Catalog measured; `backlot bench catalog -o json`
// prints it as is.
type CatalogResult struct {
	// Mode names the server under test and its stores.
	Mode string `json:"mode"`
	// Entities and Files are the generated catalog's size, the root Location
	// included.
	Entities int `json:"entities"`
	Files    int `json:"files"`
	// GenerateSeconds is the generator's time; IngestSeconds the time from
	// starting the server until every entity is queryable with its relations.
	GenerateSeconds float64 `json:"generateSeconds"`
	IngestSeconds   float64 `json:"ingestSeconds"`
	IngestPerSecond float64 `json:"ingestEntitiesPerSecond"`
	// Latency holds each query's latencies by name (filteredList, byQueryPage,
	// facets, byQueryPageVaried, facetsVaried, byName).
	Latency map[string]Latency `json:"latencyMs"`
	// CatchUp is when the history and the badges had caught up on the
	// ingestion (production mode).
	CatchUp *CatchUpResult `json:"catchUp,omitempty"`
	// SteadyLatency and SteadyRequestCPU are Latency's and RequestCPU's
	// requests sent again once the history and the badges have caught up
	// (production mode, after the edit phase): Latency's overlap that
	// catch-up, which starts when the ingestion ends.
	SteadyLatency    map[string]Latency    `json:"steadyLatencyMs,omitempty"`
	SteadyRequestCPU map[string]RequestCPU `json:"steadyRequestCpuMs,omitempty"`
	// ChangeVisibleMs is the time from an edit of a file until a reader sees
	// the new version; the server reads the file by itself (it watches file
	// locations), a refresh is asked for only after 5 s without the change.
	ChangeVisibleMs Latency `json:"changeVisibleMs"`
	RestartSeconds  float64 `json:"restartSeconds,omitempty"`
	// PeakRSSMB is the server's peak resident memory.
	PeakRSSMB float64 `json:"peakRssMB"`
	// PeakAnonMB and PeakFileMB split the sampled peak of the resident set
	// (/proc/PID/status, every 100 ms) into its anonymous pages (Go's heap,
	// SQLite's caches, stacks) and its file-backed pages (the binary's code
	// and read-only data, mostly), at the moment of the peak.
	PeakAnonMB float64 `json:"peakRssAnonMB,omitempty"`
	PeakFileMB float64 `json:"peakRssFileMB,omitempty"`
	// IngestRSSMB is the resident set's sampled peak until every entity was
	// queryable, IngestAnonMB its anonymous part then.
	IngestRSSMB float64 `json:"ingestPeakRssMB,omitempty"`
	// IngestCPUSeconds is the server's CPU time (user and system) from its
	// start until every entity was queryable.
	IngestCPUSeconds float64 `json:"ingestCpuSeconds,omitempty"`
	IngestAnonMB     float64 `json:"ingestPeakRssAnonMB,omitempty"`
	// RebuildPerSecond is the replay rate into a fresh read model (production
	// mode only).
	RebuildPerSecond float64 `json:"rebuildEventsPerSecond,omitempty"`
	// Replay is that replay's measurement: its events, time, and the CPU per
	// event of the projector, PostgreSQL and the broker (production mode).
	Replay *ReplayRun `json:"replay,omitempty"`
	// Policies is the policies phase (dev mode with PolicyFacts > 0).
	Policies *PolicyResult `json:"policies,omitempty"`
	// Processes is what each server process used, by name: "dev", "serve",
	// or with SplitRoles one per role ("api", "projector", "ingester"), and
	// "kafkaBroker", the in-process broker helper, when it runs. With more
	// than one server process, the peaks above are the highest sum of their
	// samples taken at one moment, and IngestCPUSeconds their sum.
	Processes map[string]ProcessUsage `json:"processes,omitempty"`
	// PostgresIngestCPUSeconds and PostgresCPUSeconds are the CPU time of the
	// PostgreSQL backends serving the bench's database (production mode),
	// until every entity was queryable and until the end of the edit phase.
	PostgresIngestCPUSeconds float64 `json:"postgresIngestCpuSeconds,omitempty"`
	PostgresCPUSeconds       float64 `json:"postgresCpuSeconds,omitempty"`
	// FirstRequestMs is, per latency measurement, the time of its first
	// request (not among Latency's), which computes a count or facets the
	// read model has not cached yet.
	FirstRequestMs map[string]float64 `json:"firstRequestMs,omitempty"`
	// RequestCPU is, per latency measurement, the CPU time the server
	// processes and the PostgreSQL backends spent per request.
	RequestCPU map[string]RequestCPU `json:"requestCpuMs,omitempty"`
	// LoadAtIngest and LoadAtEnd are the machine's load averages once every
	// entity was queryable and at the end of the edit phase: on a shared
	// machine, what the wall times were measured beside.
	LoadAtIngest LoadAverage `json:"loadAtIngest"`
	LoadAtEnd    LoadAverage `json:"loadAtEnd"`
}

// RequestCPU is the CPU time per request of one latency measurement, in
// milliseconds. API is that of the process serving the requests (dev, serve,
// or the api process), Server that of every server process (with the
// projector catching up its history and badges, more than API); Postgres
// that of every backend of the database (sampled every 100 ms), APIPostgres
// that of the backends connected to the API's process (production mode: by
// the client ports of pg_stat_activity and the process's sockets).
type RequestCPU struct {
	API         float64 `json:"apiPerRequest"`
	Server      float64 `json:"serverPerRequest"`
	APIPostgres float64 `json:"apiPostgresPerRequest"`
	Postgres    float64 `json:"postgresPerRequest"`
}

// LoadAverage is /proc/loadavg's load averages over 1, 5 and 15 minutes.
type LoadAverage struct {
	M1  float64 `json:"m1"`
	M5  float64 `json:"m5"`
	M15 float64 `json:"m15"`
}

func loadNow() LoadAverage {
	l := loadAverage()
	return LoadAverage{M1: l[0], M5: l[1], M15: l[2]}
}

// Latency is a distribution of durations in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	N   int     `json:"n"`
}

// CatalogOptions say what Catalog generates and measures.
type CatalogOptions struct {
	// Backlot is the path of the backlot binary to start; required.
	Backlot string
	// Server, when set, is the backlot binary started as the server instead
	// of Backlot: a "before" build measured by the same bench.
	Server string
	// Entities is the size of the generated catalog; Seed selects it.
	Entities int
	Seed     int64
	// Requests is the number of requests per latency measurement; Edits the
	// number of edited entities for the change-visibility measurement;
	// PolicyFacts the number of facts reports of the policies phase (dev mode;
	// 0 skips the phase).
	Requests, Edits, PolicyFacts int
	// Keep keeps the generated catalog and the data folder (in production mode
	// also the database); Dir is the work folder (a new temporary folder when
	// empty).
	Keep bool
	Dir  string
	// Progress receives progress lines and the server's output; nil discards them.
	Progress io.Writer
	// Production measures `backlot serve` (every role in one process) on Kafka
	// and PostgreSQL instead of `backlot dev`.
	Production bool
	// SplitRoles (with Production) runs each role in a `backlot serve` process
	// of its own: the projector first, then the ingester and the api, which
	// the bench's requests go to.
	SplitRoles bool
	// NoReplay (with Production) skips the replay of the event topic into a
	// fresh read model at the end.
	NoReplay bool
	// KafkaBrokers are the production bench's Kafka brokers; when empty it
	// starts the in-process broker helper (KafkaBrokerHelper).
	KafkaBrokers []string
	// KafkaBrokerHelper is the path of the kafkabroker helper program; when
	// empty, backlot-kafkabroker beside Backlot, else one built with `go build`
	// from the module in the working directory.
	KafkaBrokerHelper string
	// PostgresURL is the production bench's PostgreSQL server: a database is
	// created on it and dropped after.
	PostgresURL string
	// ProfileDir, when set, profiles the server: its CPU profile of the whole
	// run goes to cpu.pprof (the server's --cpuprofile), and its Go heap is
	// fetched from /debug/pprof/heap (the server's --pprof) once every entity
	// is queryable (heap-ingested.pprof) and at the end (heap-end.pprof).
	ProfileDir string
}

// Catalog generates a synthetic catalog of o.Entities entities, starts
// `backlot dev` (or, with o.Production, `backlot serve`) on a fresh data
// folder with it, and measures from outside: the time until every entity is
// queryable with its relations, the latencies of a filtered list, a by-query
// page, facets and by-name lookups, the time until an edited file's change is
// visible after a refresh, the policies phase, the server's peak resident
// memory and, in production mode, the replay rate. The server is stopped and
// the work folder removed (unless o.Keep) before Catalog returns.
func Catalog(o CatalogOptions) (*CatalogResult, error) {
	if o.Backlot == "" {
		return nil, fmt.Errorf("bench: CatalogOptions.Backlot names no backlot binary")
	}
	if o.SplitRoles && !o.Production {
		return nil, fmt.Errorf("bench: SplitRoles (--split-roles) splits backlot serve's roles: it needs Production (--production)")
	}
	if o.ProfileDir != "" && o.Production {
		return nil, fmt.Errorf("bench: ProfileDir profiles backlot dev only")
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	dir, cleanup, err := workDir(o.Dir, "backlot-bench-", o.Keep)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	say := func(format string, args ...any) { fmt.Fprintf(o.Progress, format+"\n", args...) }
	catDir := filepath.Join(dir, "catalog")
	start := time.Now()
	sum, err := gen.Generate(catDir, gen.Config{Entities: o.Entities, Seed: o.Seed})
	if err != nil {
		return nil, err
	}
	res := &CatalogResult{Mode: "dev (embedded SQLite)", Entities: sum.Entities, Files: sum.Files, GenerateSeconds: time.Since(start).Seconds(), Latency: map[string]Latency{}}
	say("generated %d entities in %d files in %.1fs", sum.Entities, sum.Files, res.GenerateSeconds)

	dataDir := filepath.Join(dir, "data")
	var prod *prodBench
	if o.Production {
		prod, err = startProdBench(context.Background(), o, say)
		if err != nil {
			return nil, err
		}
		defer prod.close()
		res.Mode = "serve (Kafka + PostgreSQL)"
	}
	server := o.Backlot
	if o.Server != "" {
		server = o.Server
	}
	procs := newCatalogProcs()
	defer procs.close()
	var backends *backendCPU
	if prod != nil {
		procs.watchBroker(prod.broker)
		// The PostgreSQL backends of the database, sampled from the start on
		// a connection of the sampler's own (to the admin database).
		conn, err := pgx.Connect(context.Background(), prod.adminURL)
		if err != nil {
			return nil, err
		}
		defer conn.Close(context.Background())
		backends = &backendCPU{last: map[int]int64{}}
		sampleCtx, stopSampling := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { backends.sample(sampleCtx, conn, prod.dbName) })
		defer wg.Wait()
		defer stopSampling()
	}

	client := &http.Client{Timeout: 60 * time.Second}
	start = time.Now()
	var base string
	switch {
	case o.SplitRoles:
		base, err = startSplitRoles(client, procs, prod, server, dataDir, catDir, sum.RootFile, o.Progress)
		if err != nil {
			return nil, err
		}
		res.Mode = "serve (Kafka + PostgreSQL), one process per role: projector, ingester, api"
	default:
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		base = "http://" + addr
		name := "dev"
		args := []string{"dev", "--quiet", "--data", dataDir, "--addr", addr,
			"--catalog", sum.RootFile, "--refresh-interval", "1h", "--temporal-addr", "127.0.0.1:0"}
		if prod != nil {
			name = "serve"
			args = prod.serveArgs(serveRoles, addr, dataDir, sum.RootFile)
		}
		if o.ProfileDir != "" {
			if err := os.MkdirAll(o.ProfileDir, 0o755); err != nil {
				return nil, err
			}
			args = append(args, "--pprof", "--cpuprofile", filepath.Join(o.ProfileDir, "cpu.pprof"))
		}
		roles := name
		if prod != nil {
			roles = serveRoles
		}
		if _, err := procs.start(server, name, roles, args, o.Progress); err != nil {
			return nil, err
		}
	}

	// All entities: the generated ones and the generated Location of the registration.
	want := sum.Entities + 1
	probe := probeEntity(catDir)
	lastReport := time.Now()
	for {
		if within := ingestWithin(sum.Entities); time.Since(start) > within {
			return nil, fmt.Errorf("ingestion did not finish within %s", within)
		}
		if err := procs.ended(); err != nil {
			return nil, err
		}
		total, err := TotalItems(client, base)
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
	procs.markIngested()
	res.LoadAtIngest = loadNow()
	say("all %d entities queryable with relations after %.1fs (%.0f entities/s; load average %.1f %.1f %.1f)", want, res.IngestSeconds, res.IngestPerSecond,
		res.LoadAtIngest.M1, res.LoadAtIngest.M5, res.LoadAtIngest.M15)
	if cpu := procs.serverCPU(); cpu > 0 {
		res.IngestCPUSeconds = float64(cpu) / 1e6
		say("server CPU until then %.1fs", res.IngestCPUSeconds)
	}
	if backends != nil {
		backends.refresh()
		res.PostgresIngestCPUSeconds = float64(backends.total()) / 1e6
		say("PostgreSQL backends' CPU until then %.1fs", res.PostgresIngestCPUSeconds)
	}
	if _, p := procs.totals(); p.RSS > 0 {
		res.IngestRSSMB, res.IngestAnonMB = mb(p.RSS), mb(p.Anon)
		say("peak RSS while ingesting %.0f MB (anonymous %.0f MB, file-backed %.0f MB)", res.IngestRSSMB, res.IngestAnonMB, mb(p.File))
	}
	if o.ProfileDir != "" {
		if err := fetchHeap(client, base, filepath.Join(o.ProfileDir, "heap-ingested.pprof")); err != nil {
			return nil, err
		}
		defer fetchHeap(client, base, filepath.Join(o.ProfileDir, "heap-end.pprof"))
	}

	names, err := componentNames(client, base, 500)
	if err != nil {
		return nil, err
	}
	groups, err := namesOf(client, base, "group", 2000)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 7))
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
	res.RequestCPU, res.FirstRequestMs = map[string]RequestCPU{}, map[string]float64{}
	apiPID := procs.api().cmd.Process.Pid
	// runMeasures sends each measurement's requests and records their
	// latencies and CPU per request in lat and cpu, labelled with phase;
	// with first, also its first request (FirstRequestMs).
	runMeasures := func(phase string, lat map[string]Latency, cpus map[string]RequestCPU, first bool) error {
		for _, m := range measures {
			if first {
				f, err := firstRequest(client, m.url)
				if err != nil {
					return fmt.Errorf("%s, first request: %w", m.name, err)
				}
				res.FirstRequestMs[m.name] = f
			}
			cpu, api, pg := procs.serverCPU(), procCPU(apiPID), backends.byPID()
			l, err := measure(client, o.Requests, m.url)
			if err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			lat[m.name] = l
			// The warm-up's requests count too.
			n := 1e3 * float64(l.N+warmUps)
			rc := RequestCPU{API: float64(procCPU(apiPID)-api) / n, Server: float64(procs.serverCPU()-cpu) / n}
			if pgNow := backends.byPID(); pgNow != nil {
				var sum int64
				for pid, v := range pgNow {
					sum += v - pg[pid]
				}
				rc.Postgres = float64(sum) / n
				if ports, err := localPorts(apiPID); err == nil {
					rc.APIPostgres = float64(backends.clientOf(ports, pg, pgNow)) / n
				}
			}
			cpus[m.name] = rc
			if first {
				say("%-17s first %.0fms, then p50 %.2fms p95 %.2fms p99 %.2fms; CPU per request: api %.2fms (servers %.2fms), PostgreSQL for the api %.2fms (all %.2fms)",
					m.name, res.FirstRequestMs[m.name], l.P50, l.P95, l.P99, rc.API, rc.Server, rc.APIPostgres, rc.Postgres)
			} else {
				say("%-17s %s: p50 %.2fms p95 %.2fms p99 %.2fms; CPU per request: api %.2fms (servers %.2fms), PostgreSQL for the api %.2fms (all %.2fms)",
					m.name, phase, l.P50, l.P95, l.P99, rc.API, rc.Server, rc.APIPostgres, rc.Postgres)
			}
		}
		return nil
	}
	// The history, the badges and the evaluator catch up on the ingestion
	// after the catalog (production mode: watched in the database).
	var watch *catchUpWatch
	if prod != nil {
		if watch, err = watchCatchUp(prod.dbURL); err != nil {
			return nil, err
		}
		defer watch.stop()
	}
	if err := runMeasures("during the catch-up", res.Latency, res.RequestCPU, true); err != nil {
		return nil, err
	}
	phaseEnd := time.Now()

	if o.Edits > 0 {
		l, err := measureChanges(client, base, catDir, o.Seed, o.Edits)
		if err != nil {
			return nil, fmt.Errorf("change visibility: %w", err)
		}
		res.ChangeVisibleMs = l
		say("edit visible p50 %.0fms p95 %.0fms p99 %.0fms", l.P50, l.P95, l.P99)
	}
	if watch != nil {
		// The same requests once the history and the badges have caught up.
		watch.wait(catchUpWait)
		c, err := watch.result(phaseEnd)
		if err != nil {
			return nil, err
		}
		res.CatchUp = c
		say("history caught up %.1fs after ingestion, badges %.1fs (0: not within %s); the latency phase during the catch-up ended at %.1fs",
			c.HistorySeconds, c.BadgesSeconds, catchUpWait, c.LatencyPhaseSeconds)
		res.SteadyLatency, res.SteadyRequestCPU = map[string]Latency{}, map[string]RequestCPU{}
		if err := runMeasures("steady", res.SteadyLatency, res.SteadyRequestCPU, false); err != nil {
			return nil, fmt.Errorf("steady: %w", err)
		}
	}
	if !o.Production && o.PolicyFacts > 0 {
		pb, err := benchPolicies(client, base, catDir, names, o.PolicyFacts, say)
		if err != nil {
			return nil, fmt.Errorf("policies: %w", err)
		}
		res.Policies = pb
	}
	procs.markEnd()
	res.LoadAtEnd = loadNow()
	p, _ := procs.totals()
	res.PeakRSSMB, res.PeakAnonMB, res.PeakFileMB = mb(p.RSS), mb(p.Anon), mb(p.File)
	res.Processes = procs.usage()
	if backends != nil {
		res.PostgresCPUSeconds = float64(backends.refreshedTotal()) / 1e6
	}
	if prod != nil && !o.NoReplay {
		// The server is stopped first: the replay alone works on the
		// machine, as `backlot projections rebuild` does, and its CPU per
		// event is the projector's and PostgreSQL's own.
		procs.close()
		run, err := prod.replay(context.Background(), say)
		if err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
		res.RebuildPerSecond = run.EventsPerSec
		res.Replay = &run
	}
	return res, nil
}

// ingestWithin bounds the wait until n entities are queryable: 30 minutes
// per 100,000 entities, and at least 30 minutes.
func ingestWithin(n int) time.Duration {
	return time.Duration(max(1, (n+99999)/100000)) * 30 * time.Minute
}

// fetchHeap writes the server's Go heap profile (served with --pprof) to path.
func fetchHeap(c *http.Client, base, path string) error {
	resp, err := c.Get(base + "/debug/pprof/heap")
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("heap profile: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
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
	if err := GetJSON(c, base+"/api/catalog/entities/by-name/component/default/"+url.PathEscape(name), &e); err != nil {
		return false
	}
	for _, r := range e.Relations {
		if r.Type == "ownedBy" {
			return true
		}
	}
	return false
}

// WriteText writes r as the lines `backlot bench catalog` prints.
func (r *CatalogResult) WriteText(w io.Writer) {
	fmt.Fprintf(w, "mode                %s\n", r.Mode)
	fmt.Fprintf(w, "entities            %d in %d files\n", r.Entities, r.Files)
	fmt.Fprintf(w, "ingest              %.1fs until all queryable with relations (%.0f entities/s)\n", r.IngestSeconds, r.IngestPerSecond)
	if r.IngestCPUSeconds > 0 {
		fmt.Fprintf(w, "  server CPU        %.1fs until then\n", r.IngestCPUSeconds)
	}
	keys := make([]string, 0, len(r.Latency))
	for k := range r.Latency {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		l := r.Latency[k]
		fmt.Fprintf(w, "%-19s p50 %6.2fms  p95 %6.2fms  p99 %6.2fms  (n=%d)", k, l.P50, l.P95, l.P99, l.N)
		if f, ok := r.FirstRequestMs[k]; ok {
			fmt.Fprintf(w, "  first %.0fms", f)
		}
		if c, ok := r.RequestCPU[k]; ok {
			fmt.Fprintf(w, "  CPU/request api %.2fms (servers %.2fms), PostgreSQL for it %.2fms (all %.2fms)", c.API, c.Server, c.APIPostgres, c.Postgres)
		}
		fmt.Fprintln(w)
	}
	if c := r.CatchUp; c != nil {
		fmt.Fprintf(w, "caught up           history %.1fs, badges %.1fs after ingestion (0: not seen); the latencies above were measured until %.1fs\n",
			c.HistorySeconds, c.BadgesSeconds, c.LatencyPhaseSeconds)
	}
	keys = keys[:0]
	for k := range r.SteadyLatency {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		l := r.SteadyLatency[k]
		fmt.Fprintf(w, "%-19s p50 %6.2fms  p95 %6.2fms  p99 %6.2fms  (n=%d)", "steady "+k, l.P50, l.P95, l.P99, l.N)
		if c, ok := r.SteadyRequestCPU[k]; ok {
			fmt.Fprintf(w, "  CPU/request api %.2fms (servers %.2fms), PostgreSQL for it %.2fms (all %.2fms)", c.API, c.Server, c.APIPostgres, c.Postgres)
		}
		fmt.Fprintln(w)
	}
	if r.ChangeVisibleMs.N > 0 {
		l := r.ChangeVisibleMs
		fmt.Fprintf(w, "%-19s p50 %6.0fms  p95 %6.0fms  p99 %6.0fms  (n=%d)\n", "edit visible", l.P50, l.P95, l.P99, l.N)
	}
	fmt.Fprintf(w, "peak RSS            %.0f MB\n", r.PeakRSSMB)
	if r.PeakAnonMB > 0 {
		fmt.Fprintf(w, "  at the peak       %.0f MB anonymous (heap, caches), %.0f MB file-backed (code)\n", r.PeakAnonMB, r.PeakFileMB)
	}
	if r.IngestRSSMB > 0 {
		fmt.Fprintf(w, "  while ingesting   %.0f MB (%.0f MB anonymous)\n", r.IngestRSSMB, r.IngestAnonMB)
	}
	if len(r.Processes) > 0 {
		names := make([]string, 0, len(r.Processes))
		for n := range r.Processes {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(w, "%-12s %-24s %22s %22s %22s %14s %10s\n", "process", "roles", "peak MB (anon+file)", "ingested MB (anon)", "end MB (anon+file)", "CPU s ingest", "CPU s all")
		for _, n := range names {
			u := r.Processes[n]
			fmt.Fprintf(w, "%-12s %-24s %22s %22s %22s %14.1f %10.1f\n", n, u.Roles,
				fmt.Sprintf("%.0f (%.0f+%.0f)", u.PeakRSSMB, u.PeakAnonMB, u.PeakFileMB),
				fmt.Sprintf("%.0f (%.0f)", u.IngestRSSMB, u.IngestAnonMB),
				fmt.Sprintf("%.0f (%.0f+%.0f)", u.EndRSSMB, u.EndAnonMB, u.EndFileMB),
				u.IngestCPUSeconds, u.CPUSeconds)
		}
	}
	if r.PostgresCPUSeconds > 0 {
		fmt.Fprintf(w, "PostgreSQL CPU      %.1fs until all queryable, %.1fs in all (the database's backends)\n", r.PostgresIngestCPUSeconds, r.PostgresCPUSeconds)
	}
	fmt.Fprintf(w, "load average        %.2f %.2f %.2f once ingested, %.2f %.2f %.2f at the end\n",
		r.LoadAtIngest.M1, r.LoadAtIngest.M5, r.LoadAtIngest.M15, r.LoadAtEnd.M1, r.LoadAtEnd.M5, r.LoadAtEnd.M15)
	if p := r.Policies; p != nil {
		fmt.Fprintf(w, "policies full       %.2fs for %d components x 20 checks until readable (rating %.2fs)\n", p.FullSeconds, p.Components, p.RatingSeconds)
		fmt.Fprintf(w, "policies one fact   p50 %6.1fms  p95 %6.1fms  until re-rated and readable (rating %.2fms)\n", p.IncrementalMs.P50, p.IncrementalMs.P95, p.IncrementalRatingMs)
	}
	if r.RebuildPerSecond > 0 {
		fmt.Fprintf(w, "replay              %.0f events/s into a fresh read model\n", r.RebuildPerSecond)
	}
	if p := r.Replay; p != nil {
		fmt.Fprintf(w, "  CPU per event     projector %.1fµs, PostgreSQL %.1fµs, broker %.1fµs (%d events in %.1fs, load %.1f)\n",
			p.ProjectorCPUMicros, p.PostgresCPUMicros, p.BrokerCPUMicros, p.Events, p.Seconds, p.Load1)
	}
}
