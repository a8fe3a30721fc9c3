package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL is the environment variable naming the PostgreSQL server tests use: a
// URL of a superuser (or a role that may create databases) on any database.
const EnvURL = "BACKLOT_TEST_POSTGRES_URL"

var shared struct {
	once    sync.Once
	url     string
	err     error
	cluster *Cluster
}

// Server returns the admin URL of the test server: BACKLOT_TEST_POSTGRES_URL
// when set, otherwise the URL of a throwaway cluster started once per test
// binary. It fails the test, with what to do, when there is neither.
func Server(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	shared.once.Do(func() {
		c, err := startCluster()
		if err != nil {
			shared.err = err
			return
		}
		shared.cluster = c
		shared.url = c.URL()
	})
	if shared.err != nil {
		t.Fatalf("pgtest: no PostgreSQL for this test: %s is unset and a throwaway cluster could not be started: %v\n"+
			"Run `make test` (it installs and starts PostgreSQL), or install PostgreSQL (apt-get install postgresql) so initdb is found.", EnvURL, shared.err)
	}
	return shared.url
}

// URL returns the URL of a fresh, empty database on the test server, created
// for this test and dropped (with its connections) when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	return newDatabase(t, Server(t))
}

// newDatabase creates a database on the server at admin and drops it at cleanup.
func newDatabase(t testing.TB, admin string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := databaseName(t.Name())
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("pgtest: connect to the test server %s: %v\nIs it running? `make test` starts one and sets %s.", redact(admin), err, EnvURL)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		t.Fatalf("pgtest: %s: %v", EnvURL, err)
	}
	return withDatabase(admin, cfg.Database, name)
}

// databaseName makes a unique database name from a test name.
func databaseName(test string) string {
	var b strings.Builder
	b.WriteString("backlot_")
	for _, r := range strings.ToLower(test) {
		if b.Len() >= 40 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		panic(err)
	}
	b.WriteByte('_')
	b.WriteString(hex.EncodeToString(rnd[:]))
	return b.String()
}

// withDatabase replaces the database of a postgres URL or keyword/value string.
func withDatabase(conn, old, name string) string {
	if strings.HasPrefix(conn, "postgres://") || strings.HasPrefix(conn, "postgresql://") {
		rest := conn[strings.Index(conn, "://")+3:]
		q := ""
		if i := strings.IndexByte(rest, '?'); i >= 0 {
			rest, q = rest[:i], rest[i:]
		}
		host := rest
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			host = rest[:i]
		}
		return conn[:strings.Index(conn, "://")+3] + host + "/" + name + q
	}
	// keyword=value form
	var parts []string
	for _, f := range strings.Fields(conn) {
		if !strings.HasPrefix(f, "dbname=") {
			parts = append(parts, f)
		}
	}
	return strings.Join(append(parts, "dbname="+name), " ")
}

// redact hides a password in a URL for messages.
func redact(u string) string {
	at := strings.LastIndexByte(u, '@')
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return u
	}
	cred := u[scheme+3 : at]
	if i := strings.IndexByte(cred, ':'); i >= 0 {
		return u[:scheme+3] + cred[:i] + ":***" + u[at:]
	}
	return u
}
