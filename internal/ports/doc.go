// Package ports picks free TCP ports for servers Backlot starts on the
// loopback: the embedded Temporal server's services, and the servers the
// benches and process tests start.
package ports
