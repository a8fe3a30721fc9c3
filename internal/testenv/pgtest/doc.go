// Package pgtest gives tests a real PostgreSQL: URL returns a fresh, empty
// database for one test and drops it when the test ends.
//
// The server is the one named by BACKLOT_TEST_POSTGRES_URL (scripts/test.sh
// starts a throwaway cluster and sets it). When the variable is unset, pgtest
// starts a throwaway cluster of its own, once per test binary, from the initdb
// and postgres binaries of a PostgreSQL installation (PATH or
// /usr/lib/postgresql/*/bin); as root it runs the server as the postgres user,
// since PostgreSQL refuses to run as root. The cluster lives in a temporary
// folder, listens on a free port of 127.0.0.1 with trust authentication, and is
// stopped when the test binary exits. A test that finds neither fails and says
// how to get one: run `make test`, or install PostgreSQL.
//
// StartCluster starts a private cluster for a test that needs to stop and start
// the server itself (a restart under load).
package pgtest
