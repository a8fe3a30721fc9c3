package pgtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/internal/testenv/pgtest"
)

func TestURLGivesEachTestAnEmptyDatabase(t *testing.T) {
	ctx := context.Background()
	var names []string
	for i := 0; i < 2; i++ {
		conn, err := pgx.Connect(ctx, pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var name string
		var tables int
		if err := conn.QueryRow(ctx, `SELECT current_database(), (SELECT count(*) FROM pg_tables WHERE schemaname = 'public')`).Scan(&name, &tables); err != nil {
			t.Fatal(err)
		}
		if tables != 0 {
			t.Fatalf("database %s has %d tables, want none", name, tables)
		}
		if _, err := conn.Exec(ctx, `CREATE TABLE t (x int)`); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	if names[0] == names[1] {
		t.Fatalf("two calls gave the same database %s", names[0])
	}
}

func TestClusterStopsAndStarts(t *testing.T) {
	ctx := context.Background()
	c := pgtest.StartCluster(t)
	url := c.NewDatabase(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)`); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := conn.Ping(ctx); err == nil {
		t.Fatal("a connection still answers after Stop")
	}
	if _, err := pgx.Connect(ctx, url); err == nil {
		t.Fatal("a new connection succeeded while the cluster is stopped")
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	conn2, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close(ctx)
	var x int
	if err := conn2.QueryRow(ctx, `SELECT x FROM kept`).Scan(&x); err != nil || x != 7 {
		t.Fatalf("after a restart: %d, %v; want the row written before", x, err)
	}
}
