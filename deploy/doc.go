// Package deploy holds what runs Backlot's production mode, `backlot serve --roles
// ...` as separate processes on Kafka, PostgreSQL and Temporal: the container image
// (Dockerfile), a Docker Compose file for one machine (compose.yaml) and plain
// Kubernetes manifests (kubernetes/, applied with `kubectl apply -k`). It has no Go
// code of its own; its tests parse every file and check it against the flags,
// roles and environment variables that the real binary's `serve --help` lists.
package deploy
