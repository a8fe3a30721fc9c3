package pgtest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Querier runs statements: a *pgxpool.Pool or a *pgx.Conn.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Vacuum runs vacuum, a VACUUM of tables, until every page of tables is
// marked all-visible, as a vacuum with no older snapshot open leaves them,
// so that a plan test of vacuumed tables reads the plan the planner gives
// them. A snapshot another session holds (an autovacuum's ANALYZE of the
// freshly loaded tables) keeps a vacuum from marking the pages it took rows
// from, and the planner then prices each index-only scan as a heap read
// too: a capped count hash-joined a whole kind in about half the runs.
func Vacuum(t testing.TB, q Querier, vacuum string, tables ...string) {
	t.Helper()
	ctx := context.Background()
	var notVisible []string
	for range 100 {
		if _, err := q.Exec(ctx, vacuum); err != nil {
			t.Fatal(err)
		}
		notVisible = notVisible[:0]
		rows, err := q.Query(ctx, `SELECT relname || ': ' || relallvisible || ' of ' || relpages || ' pages all-visible'
			FROM pg_class WHERE relname = ANY($1) AND relkind = 'r' AND relallvisible < relpages`, tables)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			notVisible = append(notVisible, n)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if len(notVisible) == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("after 100 runs of %q: %v", vacuum, notVisible)
}

// planNode is the part of EXPLAIN (ANALYZE, FORMAT JSON)'s nodes RowsRead
// reads.
type planNode struct {
	NodeType      string     `json:"Node Type"`
	Relation      string     `json:"Relation Name"`
	Index         string     `json:"Index Name"`
	ActualRows    float64    `json:"Actual Rows"`
	ActualLoops   float64    `json:"Actual Loops"`
	RemovedFilter float64    `json:"Rows Removed by Filter"`
	Plans         []planNode `json:"Plans"`
}

// RowsRead runs stmt under EXPLAIN (ANALYZE, FORMAT JSON) and returns the
// rows its scans of tables read (those they returned and those their
// filters removed), with a line describing each scan. A node's Actual Rows
// is an average per loop, rounded: exact for a scan that walks an index
// once, close enough for the per-row probes of a nested loop.
func RowsRead(t testing.TB, q Querier, stmt string, args []any, tables ...string) (float64, []string) {
	t.Helper()
	var raw []byte
	if err := q.QueryRow(context.Background(), `EXPLAIN (ANALYZE, FORMAT JSON) `+stmt, args...).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var plans []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal(raw, &plans); err != nil || len(plans) != 1 {
		t.Fatalf("plan %s: %v", raw, err)
	}
	var scans []string
	var sum func(n planNode) float64
	sum = func(n planNode) float64 {
		var s float64
		if slices.Contains(tables, n.Relation) {
			read := n.ActualRows*n.ActualLoops + n.RemovedFilter
			scans = append(scans, fmt.Sprintf("%s on %s %s: %.0f rows read", n.NodeType, n.Relation, n.Index, read))
			s += read
		}
		for _, c := range n.Plans {
			s += sum(c)
		}
		return s
	}
	return sum(plans[0].Plan), scans
}

// ExplainText is the plan of stmt, as EXPLAIN ANALYZE prints it, for a
// failing plan test's message.
func ExplainText(t testing.TB, q Querier, stmt string, args []any) string {
	t.Helper()
	rows, err := q.Query(context.Background(), `EXPLAIN (ANALYZE) `+stmt, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}
