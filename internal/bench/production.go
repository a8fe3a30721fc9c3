package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// prodBench is the Kafka+PostgreSQL set-up of `bench catalog --production`: the
// brokers (the in-process Kafka-protocol broker helper when none are given), a fresh
// database on the PostgreSQL server, and a topic prefix of its own.
type prodBench struct {
	brokers     []string
	adminURL    string
	dbURL       string
	dbName      string
	topicPrefix string
	broker      *brokerProcess
	// keep leaves the database in place at close, for a look at its plans.
	keep bool
	say  func(string, ...any)
}

// startProdBench prepares the stores; close drops the database.
func startProdBench(ctx context.Context, o CatalogOptions, say func(string, ...any)) (*prodBench, error) {
	adminURL := o.PostgresURL
	if adminURL == "" {
		return nil, fmt.Errorf("--production needs a PostgreSQL server: --postgres-url or BACKLOT_POSTGRES_URL (a database is created on it and dropped after)")
	}
	p := &prodBench{adminURL: adminURL, brokers: o.KafkaBrokers, keep: o.Keep, say: say}
	if len(p.brokers) == 0 {
		b, err := startBroker(o.KafkaBrokerHelper, o.Backlot, o.Progress, say)
		if err != nil {
			return nil, fmt.Errorf("in-process broker: %w", err)
		}
		p.broker = b
		p.brokers = b.addrs
		say("no --kafka-brokers: serving the Kafka protocol in-process (kfake, in the helper program) at %v", p.brokers)
	}
	suffix := strconv.FormatUint(rand.Uint64()%1e9, 36)
	p.topicPrefix = "bench-" + suffix + "."
	p.dbName = "backlot_bench_" + suffix
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		p.close()
		return nil, fmt.Errorf("postgresql %s: %w", redactURL(adminURL), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{p.dbName}.Sanitize()); err != nil {
		p.close()
		return nil, fmt.Errorf("create database %s: %w", p.dbName, err)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		p.close()
		return nil, err
	}
	u.Path = "/" + p.dbName
	p.dbURL = u.String()
	return p, nil
}

// serveRoles are the roles the production bench runs: every role but the
// worker, which needs Temporal and takes no part in ingestion or queries.
const serveRoles = "api,projector,ingester"

// serveArgs are the arguments of a server process under test running roles;
// rootFile, when set, is the catalog it registers.
func (p *prodBench) serveArgs(roles, addr, dataDir, rootFile string) []string {
	args := []string{"serve", "--roles", roles, "--addr", addr, "--postgres-url", p.dbURL,
		"--topic-prefix", p.topicPrefix, "--partitions", "12", "--replication-factor", "1",
		"--refresh-interval", "1h", "--data", dataDir,
		// On loopback, for the bench's clients, which carry no tokens: serve
		// refuses to start without an authenticator otherwise.
		"--insecure-no-auth"}
	if rootFile != "" {
		args = append(args, "--catalog", rootFile)
	}
	for _, b := range p.brokers {
		args = append(args, "--kafka-brokers", b)
	}
	return args
}

// startSplitRoles starts one `backlot serve` process per role: the projector
// first, which creates the topics and migrates the database, and once it is
// ready the ingester (which registers the catalog) and the api (which may
// read files under catDir, for the refreshes the edit phase asks for). It
// answers the api's base URL.
func startSplitRoles(c *http.Client, procs *catalogProcs, prod *prodBench, server, dataDir, catDir, rootFile string, out io.Writer) (string, error) {
	var base string
	// The role names of `backlot serve --roles` (internal/app's, not imported
	// here: it links the Temporal server).
	for _, role := range []string{"projector", "ingester", "api"} {
		port, err := freePort()
		if err != nil {
			return "", err
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		var args []string
		switch role {
		case "ingester":
			args = prod.serveArgs(role, addr, filepath.Join(dataDir, role), rootFile)
		case "api":
			args = append(prod.serveArgs(role, addr, filepath.Join(dataDir, role), ""), "--root", catDir)
			base = "http://" + addr
		default:
			args = prod.serveArgs(role, addr, filepath.Join(dataDir, role), "")
		}
		p, err := procs.start(server, role, role, args, out)
		if err != nil {
			return "", err
		}
		if role == "projector" {
			if err := waitProcReady(c, procs, p, "http://"+addr, 2*time.Minute); err != nil {
				return "", err
			}
		}
	}
	return base, nil
}

// waitProcReady waits until the process p of procs answers /readyz at base.
func waitProcReady(c *http.Client, procs *catalogProcs, p *catalogProc, base string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		if err := procs.ended(); err != nil {
			return err
		}
		err := GetJSON(c, base+"/readyz", nil)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the %s process is not ready after %s: %w", p.name, within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// replay folds the whole event topic into a fresh database with one projector
// (rebuild.PostgresCatalog, as `backlot projections rebuild --postgres-url`
// replays: in bulk, the indexes built once at the end) and measures it, index
// builds included.
func (p *prodBench) replay(ctx context.Context, say func(string, ...any)) (ReplayRun, error) {
	run, err := p.replayWith(ctx, 1, ReplayOptions{}, false, say)
	if err != nil {
		return run, err
	}
	run.perEvent()
	say("replayed %d events from Kafka into a fresh PostgreSQL read model in %.1fs: %.0f events/s; CPU per event: projector %.1fµs, PostgreSQL %.1fµs, broker %.1fµs (load %.1f)",
		run.Events, run.Seconds, run.EventsPerSec, run.ProjectorCPUMicros, run.PostgresCPUMicros, run.BrokerCPUMicros, run.Load1)
	return run, nil
}

func (p *prodBench) close() {
	if p.dbURL != "" && p.keep {
		p.say("kept the database %s (drop it when done)", redactURL(p.dbURL))
	} else if p.dbURL != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, p.adminURL); err == nil {
			conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{p.dbName}.Sanitize()+" WITH (FORCE)")
			conn.Close(ctx)
		}
	}
	if p.broker != nil {
		p.broker.close()
	}
}

// redactURL hides a URL's password.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
