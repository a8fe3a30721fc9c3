package bench

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/internal/bench/gen"
	"backlot.dev/backlot/internal/eventlog/kafkalog"
	"backlot.dev/backlot/internal/rebuild"
)

// ReplayOptions configures Replay.
type ReplayOptions struct {
	// Backlot is the path of the backlot binary, beside which the broker
	// helper is looked for.
	Backlot string
	// Entities is how many components are written to the topic; Seed selects them.
	Entities int
	Seed     int64
	// Partitions is the topic's partition count; default 12.
	Partitions int
	// Projectors lists the projector counts to measure, one fresh read model
	// each; default 1, 2 and 4.
	Projectors []int
	// BatchSize is the events a projector applies per transaction; 0 is the
	// projector's default.
	BatchSize int
	// BulkMin is rebuild.PostgresOptions.BulkMin: 0 its default, negative
	// keeps every index while folding.
	BulkMin int64
	// Keep leaves the last run's database in place, for a look at its queries.
	Keep bool
	// Progress receives progress lines; nil discards them.
	Progress io.Writer
	// KafkaBrokers, KafkaBrokerHelper and PostgresURL are those of
	// CatalogOptions' production mode.
	KafkaBrokers      []string
	KafkaBrokerHelper string
	PostgresURL       string
}

func (o *ReplayOptions) setDefaults() {
	if o.Entities <= 0 {
		o.Entities = 100000
	}
	if o.Partitions <= 0 {
		o.Partitions = 12
	}
	if len(o.Projectors) == 0 {
		o.Projectors = []int{1, 2, 4}
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

// ReplayResult is what Replay measured.
type ReplayResult struct {
	Entities   int         `json:"entities"`
	Events     int64       `json:"events"`
	Partitions int         `json:"partitions"`
	Runs       []ReplayRun `json:"runs"`
}

// ReplayRun is the replay of the whole topic into a fresh read model by one
// number of projectors.
type ReplayRun struct {
	Projectors int `json:"projectors"`
	// Events is how many events the run folded.
	Events       int64   `json:"events"`
	Seconds      float64 `json:"seconds"`
	EventsPerSec float64 `json:"events_per_sec"`
	// ProjectorCPUMicros is the CPU time of the projectors (this process) per
	// event; PostgresCPUMicros that of the PostgreSQL backends serving them,
	// BrokerCPUMicros that of the in-process broker helper (0 with external
	// brokers).
	ProjectorCPUMicros float64 `json:"projector_cpu_us_per_event"`
	PostgresCPUMicros  float64 `json:"postgres_cpu_us_per_event"`
	BrokerCPUMicros    float64 `json:"broker_cpu_us_per_event"`
	// Load1 is the machine's load average over the minute the run ended in.
	Load1 float64 `json:"load1"`
}

// WriteText prints the result as a table.
func (r *ReplayResult) WriteText(w io.Writer) {
	fmt.Fprintf(w, "replay of %d events (%d components) from a %d-partition Kafka topic into PostgreSQL\n", r.Events, r.Entities, r.Partitions)
	fmt.Fprintf(w, "%-11s %9s %12s %18s %18s %15s %6s\n", "projectors", "seconds", "events/s", "projector cpu µs/ev", "postgres cpu µs/ev", "broker cpu µs/ev", "load1")
	for _, run := range r.Runs {
		fmt.Fprintf(w, "%-11d %9.1f %12.0f %18.1f %18.1f %15.1f %6.1f\n", run.Projectors, run.Seconds, run.EventsPerSec,
			run.ProjectorCPUMicros, run.PostgresCPUMicros, run.BrokerCPUMicros, run.Load1)
	}
}

// Replay writes o.Entities components to a fresh Kafka topic, then for each
// count of o.Projectors replays the topic into a fresh PostgreSQL catalog read
// model with that many projectors in one consumer group (rebuild.PostgresCatalog)
// and measures events per second and the CPU time per event of the projectors,
// the PostgreSQL backends and the broker. The databases are dropped after.
func Replay(ctx context.Context, o ReplayOptions) (*ReplayResult, error) {
	o.setDefaults()
	say := func(format string, args ...any) { fmt.Fprintf(o.Progress, format+"\n", args...) }
	p, err := startProdBench(ctx, CatalogOptions{Backlot: o.Backlot, Progress: o.Progress, KafkaBrokers: o.KafkaBrokers,
		KafkaBrokerHelper: o.KafkaBrokerHelper, PostgresURL: o.PostgresURL}, say)
	if err != nil {
		return nil, err
	}
	defer p.close()

	log, err := kafkalog.Open(ctx, kafkalog.Options{Brokers: p.brokers, TopicPrefix: p.topicPrefix, Partitions: o.Partitions, ReplicationFactor: 1})
	if err != nil {
		return nil, err
	}
	evs, err := gen.ComponentUpserts(o.Seed, o.Entities, 1)
	if err != nil {
		log.Close()
		return nil, err
	}
	start := time.Now()
	for i := 0; i < len(evs); i += 2000 {
		if _, err := log.Append(ctx, evs[i:min(i+2000, len(evs))]); err != nil {
			log.Close()
			return nil, err
		}
	}
	heads, err := log.Heads(ctx)
	log.Close()
	if err != nil {
		return nil, err
	}
	res := &ReplayResult{Entities: o.Entities, Partitions: o.Partitions}
	for _, h := range heads {
		res.Events += h
	}
	say("wrote %d events to %d partitions in %.1fs", res.Events, o.Partitions, time.Since(start).Seconds())

	for i, n := range o.Projectors {
		run, err := p.replayWith(ctx, n, o, o.Keep && i == len(o.Projectors)-1, say)
		if err != nil {
			return nil, fmt.Errorf("replay with %d projectors: %w", n, err)
		}
		run.perEvent()
		say("%d projectors: %.0f events/s", n, run.EventsPerSec)
		res.Runs = append(res.Runs, run)
	}
	return res, nil
}

// replayWith folds the topic into a fresh database with n projectors; the CPU
// fields are totals in µs.
func (p *prodBench) replayWith(ctx context.Context, n int, o ReplayOptions, keep bool, say func(string, ...any)) (ReplayRun, error) {
	run := ReplayRun{Projectors: n}
	name := p.dbName + "_replay" + strconv.Itoa(n)
	if err := adminExec(ctx, p.adminURL, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return run, err
	}
	if keep {
		defer say("kept the database %s (drop it when done)", name)
	} else {
		defer adminExec(context.Background(), p.adminURL, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}
	// The sampler's own connection: a query it has in flight when sampling
	// stops is cancelled, which closes the connection.
	conn, err := pgx.Connect(ctx, p.adminURL)
	if err != nil {
		return run, err
	}
	defer conn.Close(context.Background())
	u, err := url.Parse(p.adminURL)
	if err != nil {
		return run, err
	}
	u.Path = "/" + name

	// The PostgreSQL backends of the database, sampled while they work: a
	// backend's CPU time is read from /proc while it lives.
	backends := &backendCPU{last: map[int]int64{}}
	sampleCtx, stopSampling := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { backends.sample(sampleCtx, conn, name) })
	brokerBefore := p.brokerCPU()
	selfBefore := selfCPU()
	say("replaying with %d projectors", n)
	stats, err := rebuild.PostgresCatalog(ctx, rebuild.PostgresOptions{Brokers: p.brokers, TopicPrefix: p.topicPrefix,
		PostgresURL: u.String(), Group: p.topicPrefix + "replay" + strconv.Itoa(n), Members: n, BatchSize: o.BatchSize, BulkMin: o.BulkMin, Progress: o.Progress})
	stopSampling()
	wg.Wait()
	if err != nil {
		return run, err
	}
	run.Events, run.Seconds = stats.Events, stats.Took.Seconds()
	run.ProjectorCPUMicros = float64(selfCPU() - selfBefore)
	run.BrokerCPUMicros = float64(p.brokerCPU() - brokerBefore)
	run.PostgresCPUMicros = float64(backends.total())
	run.Load1 = load1()
	return run, nil
}

// perEvent turns the run's CPU totals (µs) into CPU per event, and sets its
// rate.
func (run *ReplayRun) perEvent() {
	if run.Events <= 0 || run.Seconds <= 0 {
		return
	}
	n := float64(run.Events)
	run.EventsPerSec = n / run.Seconds
	run.ProjectorCPUMicros /= n
	run.PostgresCPUMicros /= n
	run.BrokerCPUMicros /= n
}

// adminExec runs one statement on a connection of its own to the server.
func adminExec(ctx context.Context, adminURL, stmt string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, stmt)
	return err
}

// brokerCPU is the CPU time of the broker helper in µs, 0 without one.
func (p *prodBench) brokerCPU() int64 {
	if p.broker == nil || p.broker.cmd == nil || p.broker.cmd.Process == nil {
		return 0
	}
	return procCPU(p.broker.cmd.Process.Pid)
}

// backendCPU keeps the last CPU time seen of each backend of a database, and
// the client port of its connection.
type backendCPU struct {
	mu   sync.Mutex
	last map[int]int64
	port map[int]int
}

// sample reads the CPU time of the database's backends every 100ms until ctx ends.
func (b *backendCPU) sample(ctx context.Context, conn *pgx.Conn, db string) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		rows, err := conn.Query(ctx, `SELECT pid, coalesce(client_port, -1) FROM pg_stat_activity WHERE datname = $1`, db)
		if err == nil {
			type backend struct {
				PID  int32
				Port int32
			}
			bs, _ := pgx.CollectRows(rows, pgx.RowToStructByPos[backend])
			b.mu.Lock()
			if b.port == nil {
				b.port = map[int]int{}
			}
			for _, be := range bs {
				pid := int(be.PID)
				if v := procCPU(pid); v > b.last[pid] {
					b.last[pid] = v
				}
				b.port[pid] = int(be.Port)
			}
			b.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// byPID refreshes and answers the CPU time of each backend seen, in µs; nil
// on a nil b.
func (b *backendCPU) byPID() map[int]int64 {
	if b == nil {
		return nil
	}
	b.refresh()
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[int]int64, len(b.last))
	for pid, v := range b.last {
		out[pid] = v
	}
	return out
}

// clientOf answers the CPU time in µs that the backends whose client port is
// one of ports spent between the readings before and after (byPID).
func (b *backendCPU) clientOf(ports map[int]bool, before, after map[int]int64) int64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var s int64
	for pid, v := range after {
		if ports[b.port[pid]] {
			s += v - before[pid]
		}
	}
	return s
}

// refresh reads the CPU time of every backend seen so far once more, now:
// the sampler's last reading may be 100 ms old.
func (b *backendCPU) refresh() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for pid, v := range b.last {
		if now := procCPU(pid); now > v {
			b.last[pid] = now
		}
	}
}

// refreshedTotal refreshes and answers the total; 0 on a nil b (no
// PostgreSQL to sample).
func (b *backendCPU) refreshedTotal() int64 {
	if b == nil {
		return 0
	}
	b.refresh()
	return b.total()
}

// total is the sum of the CPU times seen, in µs.
func (b *backendCPU) total() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	var s int64
	for _, v := range b.last {
		s += v
	}
	return s
}

// clockTicks is the unit of the CPU times of /proc/PID/stat (USER_HZ), 100 on
// Linux on every architecture Backlot builds for.
const clockTicks = 100

// procCPU returns the user and system CPU time of pid in µs, 0 when it cannot
// be read (another user's process, or one that ended).
func procCPU(pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name, field 2, may hold spaces: the fields after it follow its ')'.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return (utime + stime) * (1e6 / clockTicks)
}

// selfCPU returns this process's user and system CPU time in µs.
func selfCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano()/1e3 + ru.Stime.Nano()/1e3
}

// load1 returns the load average over the last minute, 0 when unknown.
func load1() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
