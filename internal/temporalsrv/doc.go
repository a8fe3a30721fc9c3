// Package temporalsrv runs a Temporal server inside the Backlot process, on a
// SQLite file, for `backlot dev` and `backlot temporal dev`: the frontend on
// a fixed address the stock temporal CLI can reach, the history, matching and
// worker services on free local ports, and Backlot's namespace created on the
// first start. The services of the one process find one another by static
// hosts (no membership protocol, so no membership ports), and a port chosen
// free but taken by another process before the server binds it makes Start
// pick others rather than end the process. It is the only package that imports go.temporal.io/server, and
// only the binary imports it, so the other packages' tests stay quick to link.
package temporalsrv
