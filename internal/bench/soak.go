package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/internal/bench/gen"
)

// SoakOptions say what Soak runs and for how long.
type SoakOptions struct {
	// Backlot is the path of the backlot binary to start; required.
	Backlot string
	// Server, when set, is the backlot binary started as the servers instead
	// of Backlot (e.g. a build of an earlier commit, to compare under the
	// same load); Backlot still starts the broker helper.
	Server string
	// Duration is how long the load runs (default 10 minutes).
	Duration time.Duration
	// Readers, Writers and Followers are the concurrent clients (defaults 200,
	// 20 and 20). WriterPause is each writer's pause between two writes
	// (default 250ms).
	Readers, Writers, Followers int
	WriterPause                 time.Duration
	// Entities is the size of the generated catalog loaded before the load
	// starts (default 2000); Seed selects it.
	Entities int
	Seed     int64
	// SampleEvery is the interval of the memory samples (default 1s).
	SampleEvery time.Duration
	// Production soaks `backlot serve` on Kafka and PostgreSQL: one process
	// with the projector and ingester roles and APIProcesses (default 2)
	// processes with the api role, the clients spread over them.
	Production   bool
	APIProcesses int
	// KafkaBrokers, KafkaBrokerHelper and PostgresURL are the production
	// stores, as in CatalogOptions.
	KafkaBrokers      []string
	KafkaBrokerHelper string
	PostgresURL       string
	// Keep keeps the work folder; Dir is the work folder (a new temporary
	// folder when empty).
	Keep bool
	Dir  string
	// CPUProfile, when set, is the file backlot dev writes its CPU profile of
	// the whole run to (its --cpuprofile); dev then also serves Go's profiler
	// under /debug/pprof/ (--pprof), for goroutine dumps during the load.
	// With Production, each serve process writes its own, named after the
	// process: cpu.pprof becomes cpu-core.pprof, cpu-api-1.pprof, ...
	CPUProfile string
	// Progress receives progress lines and the servers' output; nil discards them.
	Progress io.Writer
}

func (o *SoakOptions) setDefaults() {
	setDefault(&o.Duration, 10*time.Minute)
	setDefault(&o.Readers, 200)
	setDefault(&o.Writers, 20)
	setDefault(&o.Followers, 20)
	setDefault(&o.WriterPause, 250*time.Millisecond)
	setDefault(&o.Entities, 2000)
	setDefault(&o.Seed, 1)
	setDefault(&o.SampleEvery, time.Second)
	setDefault(&o.APIProcesses, 2)
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

// Validate reports options Soak cannot run with.
func (o *SoakOptions) Validate() error {
	switch {
	case o.Backlot == "":
		return fmt.Errorf("bench soak: SoakOptions.Backlot names no backlot binary")
	case o.Duration < time.Second:
		return fmt.Errorf("bench soak: --duration %s: want at least 1s", o.Duration)
	case o.Readers < 1 || o.Writers < 1 || o.Followers < 1:
		return fmt.Errorf("bench soak: --readers %d, --writers %d, --followers %d: want at least 1 of each", o.Readers, o.Writers, o.Followers)
	case o.APIProcesses < 1:
		return fmt.Errorf("bench soak: --api-processes %d: want at least 1", o.APIProcesses)
	}
	return nil
}

// SoakResult is what Soak measured; `backlot bench soak -o json` prints it as is.
type SoakResult struct {
	// Mode names the servers under test and their stores.
	Mode string `json:"mode"`
	// Entities is the size of the catalog loaded before the load.
	Entities  int `json:"entities"`
	Readers   int `json:"readers"`
	Writers   int `json:"writers"`
	Followers int `json:"followers"`
	// Seconds is how long the load ran.
	Seconds float64 `json:"seconds"`
	// LoadAverage is the machine's 1, 5 and 15 minute load average when the
	// load started and when it ended: the machine may be shared.
	LoadAverageStart [3]float64 `json:"loadAverageStart"`
	LoadAverageEnd   [3]float64 `json:"loadAverageEnd"`
	// Requests is every request answered, RequestsPerSecond their rate;
	// Writes the writers' completed writes.
	Requests          int64   `json:"requests"`
	RequestsPerSecond float64 `json:"requestsPerSecond"`
	Writes            int64   `json:"writes"`
	// VisibilityPolls counts the GETs by name the writers sent until each
	// entity they registered was readable (one registerVisible request is
	// one or more of them, 20 ms apart): load the servers answered that
	// Requests does not count, and that grows with the writes.
	VisibilityPolls int64 `json:"visibilityPolls"`
	// Errors counts failed requests and broken streams (it must be zero);
	// ErrorSamples are the first few; ErrorsByServer counts them by the
	// process whose API they were sent to.
	Errors         int64            `json:"errors"`
	ErrorSamples   []string         `json:"errorSamples,omitempty"`
	ErrorsByServer map[string]int64 `json:"errorsByServer,omitempty"`
	// Endpoints are the requests' figures by endpoint.
	Endpoints map[string]SoakEndpoint `json:"endpoints"`
	// Events is the followers' check against the log.
	Events SoakEvents `json:"events"`
	// Memory is each server process's resident memory over the load, and the
	// load generator's own.
	Memory []SoakMemory `json:"memory"`
	// CPU is the CPU time each server process (and, with Production, the
	// database's PostgreSQL backends and the broker helper) spent during the
	// load, and per request answered: on a shared machine the throughput
	// follows the load of the others, the CPU a request costs much less.
	CPU []SoakCPU `json:"cpu"`
	// CPUPerRequestMs is the CPU time of every process of CPU per request
	// answered, in ms.
	CPUPerRequestMs float64 `json:"cpuPerRequestMs"`
	// LoadGeneratorCPUSeconds is the soak's own CPU time during the load
	// (its clients; not in CPU): on 2 cores it competes with the servers.
	LoadGeneratorCPUSeconds float64 `json:"loadGeneratorCPUSeconds"`
}

// SoakCPU is one process's (or PostgreSQL's) CPU time during the load: in
// all, and per request answered.
type SoakCPU struct {
	Process      string  `json:"process"`
	Seconds      float64 `json:"seconds"`
	PerRequestMs float64 `json:"perRequestMs"`
}

// SoakEndpoint is one endpoint's figures: answered requests, their rate and
// latencies, and errors.
type SoakEndpoint struct {
	Requests  int64   `json:"requests"`
	PerSecond float64 `json:"perSecond"`
	P50Ms     float64 `json:"p50Ms"`
	P99Ms     float64 `json:"p99Ms"`
	MaxMs     float64 `json:"maxMs"`
	Errors    int64   `json:"errors"`
}

// SoakEvents is the followers' check: each must have seen every event of the
// log from the load's start to its end exactly once, in the log's order per
// subject.
type SoakEvents struct {
	// Logged is the events the log holds after the load's start cursor;
	// Subjects their subjects; WriterRefs the entities the writers wrote,
	// and WriterRefsMissing those of them with no event in the log.
	Logged            int `json:"logged"`
	Subjects          int `json:"subjects"`
	WriterRefs        int `json:"writerRefs"`
	WriterRefsMissing int `json:"writerRefsMissing"`
	// Followers and Received are the followers and the events they got in all.
	Followers int   `json:"followers"`
	Received  int64 `json:"received"`
	// Lost, Doubled, Extra and OutOfOrder sum the followers' differences from
	// the log (see seqDiff); Reconnects counts broken streams.
	Lost       int   `json:"lost"`
	Doubled    int   `json:"doubled"`
	Extra      int   `json:"extra"`
	OutOfOrder int   `json:"outOfOrder"`
	Reconnects int64 `json:"reconnects"`
	// DrainSeconds is how long after the load the followers took to receive
	// the log's last event.
	DrainSeconds float64 `json:"drainSeconds"`
}

// SoakMemory is one process's resident memory (MB) sampled over the load:
// the first and last samples, the largest, and a series of samples every 10.
type SoakMemory struct {
	Process  string    `json:"process"`
	PID      int       `json:"pid"`
	FirstMB  float64   `json:"firstMB"`
	LastMB   float64   `json:"lastMB"`
	MaxMB    float64   `json:"maxMB"`
	SeriesMB []float64 `json:"seriesMB,omitempty"`
}

// Clean reports whether the soak saw no error and every follower saw every
// event exactly once in order.
func (r *SoakResult) Clean() bool {
	e := r.Events
	return r.Errors == 0 && e.Lost == 0 && e.Doubled == 0 && e.Extra == 0 && e.OutOfOrder == 0 &&
		e.WriterRefsMissing == 0 && e.Logged > 0
}

// drainWait bounds the wait for the followers to catch up after the load.
const drainWait = 2 * time.Minute

// Soak generates a catalog, starts `backlot dev` (or with o.Production,
// `backlot serve` as one projector-and-ingester process and o.APIProcesses
// api processes on Kafka and PostgreSQL) on it, and runs o.Readers readers
// of lists, by-query pages and facets, o.Writers writers registering and
// editing file locations and reporting facts, and o.Followers followers of
// the change feed's Server-Sent Events, for o.Duration. It reports
// throughput, latencies and errors per endpoint, checks that every follower
// saw every event of the log exactly once and in order per subject, and
// samples every process's resident memory. The servers are stopped and the
// work folder removed (unless o.Keep) before Soak returns. An error is
// returned when the soak could not run; failures under load are counted in
// the result (see Clean).
func Soak(ctx context.Context, o SoakOptions) (*SoakResult, error) {
	o.setDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	dir, cleanup, err := workDir(o.Dir, "backlot-soak-", o.Keep)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	say := func(format string, args ...any) { fmt.Fprintf(o.Progress, format+"\n", args...) }
	server := o.Backlot
	if o.Server != "" {
		server = o.Server
	}
	catDir := filepath.Join(dir, "catalog")
	sum, err := gen.Generate(catDir, gen.Config{Entities: o.Entities, Seed: o.Seed})
	if err != nil {
		return nil, err
	}
	say("generated %d entities in %d files", sum.Entities, sum.Files)
	res := &SoakResult{Entities: sum.Entities, Readers: o.Readers, Writers: o.Writers, Followers: o.Followers, Endpoints: map[string]SoakEndpoint{}}

	// Streams: the followers share one principal (the loopback address), so the
	// servers' cap per principal is raised above their count.
	maxStreams := strconv.Itoa(o.Followers + 8)
	var procs []*soakProc
	var prod *prodBench
	var broker *soakProc
	defer func() {
		// The servers first, then their stores.
		for i := len(procs) - 1; i >= 0; i-- {
			procs[i].stop()
		}
		if prod != nil {
			prod.close()
		}
	}()
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 2 * (o.Readers + o.Writers), MaxIdleConnsPerHost: o.Readers + o.Writers, IdleConnTimeout: time.Minute}}
	want := sum.Entities + 1 // and the root Location
	var bases []string
	if !o.Production {
		res.Mode = "dev (embedded SQLite, one process)"
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		args := []string{"dev", "--quiet", "--data", filepath.Join(dir, "data"), "--addr", addr,
			"--catalog", sum.RootFile, "--refresh-interval", "1h", "--temporal-address", "127.0.0.1:0", "--max-streams", maxStreams}
		if o.CPUProfile != "" {
			args = append(args, "--pprof", "--cpuprofile", o.CPUProfile)
		}
		p, err := startSoakProc(server, "dev", "http://"+addr, args, o.Progress)
		if err != nil {
			return nil, err
		}
		procs = append(procs, p)
		bases = append(bases, p.base)
	} else {
		res.Mode = fmt.Sprintf("serve (Kafka + PostgreSQL): projector+ingester process, %d api processes", o.APIProcesses)
		prod, err = startProdBench(ctx, CatalogOptions{Backlot: o.Backlot, Progress: o.Progress, KafkaBrokers: o.KafkaBrokers,
			KafkaBrokerHelper: o.KafkaBrokerHelper, PostgresURL: o.PostgresURL}, say)
		if err != nil {
			return nil, err
		}
		if prod.broker != nil {
			// Sampled for memory only: prod.close stops it.
			broker = &soakProc{name: "kafka broker (kfake)", cmd: prod.broker.cmd}
		}
		common := func(addr, data string) []string {
			args := []string{"serve", "--addr", addr, "--postgres-url", prod.dbURL, "--topic-prefix", prod.topicPrefix,
				"--partitions", "12", "--replication-factor", "1", "--refresh-interval", "1h", "--data", data, "--log-format", "json",
				// Loopback only, and the load's clients carry no tokens.
				"--insecure-no-auth"}
			for _, b := range prod.brokers {
				args = append(args, "--kafka-brokers", b)
			}
			return args
		}
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		core, err := startSoakProc(server, "projector+ingester", "", append(common(addr, filepath.Join(dir, "core")),
			append(serveProfile(o.CPUProfile, "core"), "--roles", "projector,ingester", "--catalog", sum.RootFile)...), o.Progress)
		if err != nil {
			return nil, err
		}
		procs = append(procs, core)
		if err := waitReady(ctx, client, core, "http://"+addr, 2*time.Minute); err != nil {
			return nil, fmt.Errorf("the projector+ingester process: %w", err)
		}
		for i := 0; i < o.APIProcesses; i++ {
			port, err := freePort()
			if err != nil {
				return nil, err
			}
			addr := "127.0.0.1:" + strconv.Itoa(port)
			name := "api-" + strconv.Itoa(i+1)
			p, err := startSoakProc(server, name, "http://"+addr, append(common(addr, filepath.Join(dir, "api"+strconv.Itoa(i+1))),
				append(serveProfile(o.CPUProfile, name), "--roles", "api", "--root", catDir, "--max-streams", maxStreams)...), o.Progress)
			if err != nil {
				return nil, err
			}
			procs = append(procs, p)
			bases = append(bases, p.base)
		}
	}
	start := time.Now()
	for _, b := range bases {
		for {
			total, err := TotalItems(client, b)
			if err == nil && total >= want {
				break
			}
			for _, p := range procs {
				if err := p.ended(); err != nil {
					return nil, err
				}
			}
			if time.Since(start) > 30*time.Minute {
				return nil, fmt.Errorf("%s: %d of %d entities queryable after 30 minutes (%v)", b, total, want, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	say("all %d entities queryable at %s after %.1fs", want, strings.Join(bases, ", "), time.Since(start).Seconds())
	groups, err := namesOf(client, bases[0], "group", 2000)
	if err != nil {
		return nil, err
	}
	for i := range groups {
		groups[i] = "group:default/" + groups[i]
	}

	// The load's start: every follower and the final log read begin here.
	var head struct {
		NextCursor string `json:"nextCursor"`
	}
	if err := GetJSON(client, bases[0]+"/api/events?after=now&wait=0&limit=1", &head); err != nil {
		return nil, err
	}
	servers := map[string]string{}
	for _, p := range procs {
		if p.base != "" {
			servers[p.base] = p.name
		}
	}
	st := newSoakStats(servers)
	followCtx, stopFollowers := context.WithCancel(ctx)
	defer stopFollowers()
	streamClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Followers}}
	var followers []*follower
	var fwg sync.WaitGroup
	for i := 0; i < o.Followers; i++ {
		f := &follower{id: i, base: bases[i%len(bases)], cursor: head.NextCursor, c: streamClient, st: st, seq: newEventSeq(), connected: make(chan struct{})}
		followers = append(followers, f)
		fwg.Add(1)
		go func() { defer fwg.Done(); f.run(followCtx) }()
	}
	for _, f := range followers {
		select {
		case <-f.connected:
		case <-time.After(time.Minute):
			return nil, fmt.Errorf("follower %d could not open %s/api/events/stream within a minute", f.id, f.base)
		}
	}
	say("%d followers connected; load: %d readers, %d writers for %s", o.Followers, o.Readers, o.Writers, o.Duration)

	// Memory, sampled from the load's start.
	self := &soakProc{name: "load generator"}
	sampleStop := make(chan struct{})
	var swg sync.WaitGroup
	swg.Add(1)
	go func() {
		defer swg.Done()
		t := time.NewTicker(o.SampleEvery)
		defer t.Stop()
		for {
			for _, p := range procs {
				p.sample()
			}
			if broker != nil {
				broker.sample()
			}
			self.mu.Lock()
			self.rss = append(self.rss, float64(readStatusKB(os.Getpid(), "VmRSS:"))/1024)
			self.mu.Unlock()
			select {
			case <-sampleStop:
				return
			case <-t.C:
			}
		}
	}()

	// CPU, read at the load's start and end: the server processes, and with
	// Production the database's backends (sampled from now on a connection of
	// the sampler's own) and the broker helper.
	cpuProcs := append([]*soakProc{}, procs...)
	if broker != nil {
		cpuProcs = append(cpuProcs, broker)
	}
	var backends *backendCPU
	if prod != nil {
		conn, err := pgx.Connect(ctx, prod.adminURL)
		if err != nil {
			return nil, err
		}
		defer conn.Close(context.Background())
		backends = &backendCPU{last: map[int]int64{}}
		sampleCtx, stopSampling := context.WithCancel(ctx)
		var bwg sync.WaitGroup
		bwg.Go(func() { backends.sample(sampleCtx, conn, prod.dbName) })
		defer bwg.Wait()
		defer stopSampling()
	}
	cpuStart, selfStart := soakCPUNow(cpuProcs, backends), selfCPU()

	res.LoadAverageStart = loadAverage()
	loadCtx, stopLoad := context.WithTimeout(ctx, o.Duration)
	defer stopLoad()
	var writerRefsMu sync.Mutex
	writerRefs := map[string]bool{}
	var writes atomic.Int64
	var wg sync.WaitGroup
	loadStart := time.Now()
	for i := 0; i < o.Readers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reader(ctx, loadCtx, client, bases, groups, uint64(o.Seed)*1000+uint64(i), st)
		}()
	}
	for i := 0; i < o.Writers; i++ {
		wdir := filepath.Join(catDir, "soak", "w"+strconv.Itoa(i))
		if err := os.MkdirAll(wdir, 0o755); err != nil {
			return nil, err
		}
		w := &soakWriter{id: i, dir: wdir, bases: rotate(bases, i), owner: groups[i%len(groups)], pause: o.WriterPause, c: client, st: st,
			rng: rand.New(rand.NewPCG(uint64(o.Seed), uint64(i))), edits: map[string]int{}, writes: &writes,
			refs: func(ref string) { writerRefsMu.Lock(); writerRefs[ref] = true; writerRefsMu.Unlock() }}
		wg.Add(1)
		go func() { defer wg.Done(); w.run(ctx, loadCtx) }()
	}
	progressDone := make(chan struct{})
	go func() {
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-progressDone:
				return
			case <-t.C:
				var n int64
				for _, e := range st.snapshot() {
					n += e.hist.n.Load()
				}
				say("soak: %.0fs, %d requests, %d writes, %d errors, load average %v", time.Since(loadStart).Seconds(), n, writes.Load(), st.errors.Load(), loadAverage())
			}
		}
	}()
	wg.Wait()
	close(progressDone)
	res.Seconds = time.Since(loadStart).Seconds()
	res.LoadAverageEnd = loadAverage()
	res.Writes = writes.Load()
	res.VisibilityPolls = st.polls.Load()
	cpuEnd := soakCPUNow(cpuProcs, backends)
	res.LoadGeneratorCPUSeconds = float64(selfCPU()-selfStart) / 1e6
	say("load ended after %.1fs; waiting for the followers to drain", res.Seconds)

	// The log's truth, read until it stops growing and the followers hold as
	// many events as it does.
	truth := newEventSeq()
	cursor := head.NextCursor
	drainStart := time.Now()
	stableSince := time.Now()
	for {
		before := truth.len()
		if cursor, err = readLog(client, bases[0], cursor, truth); err != nil {
			return nil, fmt.Errorf("read the log: %w", err)
		}
		if truth.len() != before {
			stableSince = time.Now()
		}
		caught := true
		for _, f := range followers {
			caught = caught && f.seq.len() >= truth.len()
		}
		if (caught && time.Since(stableSince) > 2*time.Second) || time.Since(drainStart) > drainWait {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	res.Events.DrainSeconds = time.Since(drainStart).Seconds()
	stopFollowers()
	fwg.Wait()
	close(sampleStop)
	swg.Wait()

	res.Events.Logged = truth.len()
	res.Events.Subjects = len(truth.bySubject)
	res.Events.Followers = len(followers)
	for ref := range writerRefs {
		res.Events.WriterRefs++
		if !truth.has(ref) {
			res.Events.WriterRefsMissing++
		}
	}
	for _, f := range followers {
		d := compareSeq(truth, f.seq)
		res.Events.Received += int64(f.seq.len())
		res.Events.Lost += d.Lost
		res.Events.Doubled += d.Doubled
		res.Events.Extra += d.Extra
		res.Events.OutOfOrder += d.OutOfOrder
		res.Events.Reconnects += f.reconnects.Load()
	}
	for name, e := range st.snapshot() {
		n := e.hist.n.Load()
		res.Requests += n
		res.Endpoints[name] = SoakEndpoint{Requests: n, PerSecond: float64(n) / res.Seconds, Errors: e.errors.Load(),
			P50Ms: ms(e.hist.quantile(0.50)), P99Ms: ms(e.hist.quantile(0.99)), MaxMs: ms(time.Duration(e.hist.max.Load()))}
	}
	res.RequestsPerSecond = float64(res.Requests) / res.Seconds
	res.CPU, res.CPUPerRequestMs = soakCPUSpent(cpuStart, cpuEnd, res.Requests)
	res.Errors = st.errors.Load()
	st.mu.Lock()
	res.ErrorSamples = append(res.ErrorSamples, st.samples...)
	st.mu.Unlock()
	if by := st.errorsByServer(); len(by) > 0 {
		res.ErrorsByServer = by
	}
	every := max(1, int(10*time.Second/o.SampleEvery))
	for _, p := range procs {
		res.Memory = append(res.Memory, p.memory(every))
	}
	if broker != nil {
		res.Memory = append(res.Memory, broker.memory(every))
	}
	m := self.memory(every)
	m.PID = os.Getpid()
	res.Memory = append(res.Memory, m)
	return res, nil
}

// soakCPUPostgres names the database's PostgreSQL backends in SoakResult.CPU.
const soakCPUPostgres = "postgresql"

// soakCPUNow reads the CPU time in µs of each of procs and, with backends,
// of the database's backends together, by name.
func soakCPUNow(procs []*soakProc, backends *backendCPU) map[string]int64 {
	out := make(map[string]int64, len(procs)+1)
	for _, p := range procs {
		if p.cmd != nil && p.cmd.Process != nil {
			out[p.name] = procCPU(p.cmd.Process.Pid)
		}
	}
	if backends != nil {
		out[soakCPUPostgres] = backends.refreshedTotal()
	}
	return out
}

// soakCPUSpent is the CPU time each process spent between the readings
// start and end (soakCPUNow), in all and per request of requests, sorted
// by name, and the sum's per request in ms.
func soakCPUSpent(start, end map[string]int64, requests int64) ([]SoakCPU, float64) {
	names := make([]string, 0, len(end))
	for name := range end {
		names = append(names, name)
	}
	sort.Strings(names)
	per := func(us int64) float64 {
		if requests <= 0 {
			return 0
		}
		return float64(us) / 1e3 / float64(requests)
	}
	var out []SoakCPU
	var all int64
	for _, name := range names {
		us := max(end[name]-start[name], 0)
		all += us
		out = append(out, SoakCPU{Process: name, Seconds: float64(us) / 1e6, PerRequestMs: per(us)})
	}
	return out, per(all)
}

// serveProfile is the global flag that has the serve process name write its
// CPU profile beside profile (cpu.pprof: cpu-name.pprof); none when profile
// is empty.
func serveProfile(profile, name string) []string {
	if profile == "" {
		return nil
	}
	ext := filepath.Ext(profile)
	return []string{"--cpuprofile", strings.TrimSuffix(profile, ext) + "-" + name + ext}
}

// snapshot answers the endpoints counted so far.
func (s *soakStats) snapshot() map[string]*endpointStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]*endpointStats, len(s.endpoints))
	for k, v := range s.endpoints {
		out[k] = v
	}
	return out
}

// rotate answers s turned left by i, so that clients spread their first
// requests over the servers.
func rotate(s []string, i int) []string {
	i %= len(s)
	return append(append([]string{}, s[i:]...), s[:i]...)
}

// waitReady waits until base answers /readyz with 200.
func waitReady(ctx context.Context, c *http.Client, p *soakProc, base string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		if err := p.ended(); err != nil {
			return err
		}
		err := getCtx(ctx, c, base+"/readyz")
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s: %w", within, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// WriteText writes r as the lines `backlot bench soak` prints.
func (r *SoakResult) WriteText(w io.Writer) {
	fmt.Fprintf(w, "mode                %s\n", r.Mode)
	fmt.Fprintf(w, "load                %d readers, %d writers, %d followers for %.0fs on %d entities\n", r.Readers, r.Writers, r.Followers, r.Seconds, r.Entities)
	fmt.Fprintf(w, "load average        %.2f %.2f %.2f at the start, %.2f %.2f %.2f at the end\n",
		r.LoadAverageStart[0], r.LoadAverageStart[1], r.LoadAverageStart[2], r.LoadAverageEnd[0], r.LoadAverageEnd[1], r.LoadAverageEnd[2])
	fmt.Fprintf(w, "throughput          %.0f requests/s (%d requests, %d writes; and %d GETs by name polling for the registered entities)\n",
		r.RequestsPerSecond, r.Requests, r.Writes, r.VisibilityPolls)
	keys := make([]string, 0, len(r.Endpoints))
	for k := range r.Endpoints {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		e := r.Endpoints[k]
		fmt.Fprintf(w, "%-19s %7.1f/s  p50 %7.2fms  p99 %7.2fms  max %7.0fms  (n=%d, errors %d)\n", k, e.PerSecond, e.P50Ms, e.P99Ms, e.MaxMs, e.Requests, e.Errors)
	}
	fmt.Fprintf(w, "errors              %d\n", r.Errors)
	servers := make([]string, 0, len(r.ErrorsByServer))
	for k := range r.ErrorsByServer {
		servers = append(servers, k)
	}
	sort.Strings(servers)
	for _, k := range servers {
		fmt.Fprintf(w, "  %d sent to %s\n", r.ErrorsByServer[k], k)
	}
	for _, s := range r.ErrorSamples {
		fmt.Fprintf(w, "  %s\n", s)
	}
	e := r.Events
	fmt.Fprintf(w, "events              %d logged on %d subjects (%d of %d writer entities missing); %d followers received %d\n",
		e.Logged, e.Subjects, e.WriterRefsMissing, e.WriterRefs, e.Followers, e.Received)
	fmt.Fprintf(w, "followers           lost %d, doubled %d, extra %d, out of order %d, reconnects %d; drained %.1fs after the load\n",
		e.Lost, e.Doubled, e.Extra, e.OutOfOrder, e.Reconnects, e.DrainSeconds)
	for _, c := range r.CPU {
		fmt.Fprintf(w, "CPU %-15s %7.1f s  %6.2f ms a request\n", c.Process, c.Seconds, c.PerRequestMs)
	}
	if len(r.CPU) > 0 {
		fmt.Fprintf(w, "CPU in all          %6.2f ms a request; the load generator %.1f s\n", r.CPUPerRequestMs, r.LoadGeneratorCPUSeconds)
	}
	for _, m := range r.Memory {
		fmt.Fprintf(w, "RSS %-15s first %4.0f MB  last %4.0f MB  max %4.0f MB  every 10s:", m.Process, m.FirstMB, m.LastMB, m.MaxMB)
		for _, v := range m.SeriesMB {
			fmt.Fprintf(w, " %.0f", v)
		}
		fmt.Fprintln(w)
	}
	if r.Clean() {
		fmt.Fprintf(w, "verdict             clean: no errors, every follower saw every event once, in order\n")
	} else {
		fmt.Fprintf(w, "verdict             NOT CLEAN\n")
	}
}
