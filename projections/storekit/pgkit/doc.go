// Package pgkit is what every PostgreSQL store of Backlot shares: connection
// pools (NewPool), transactions retried on serialization failures, deadlocks
// and unique keys taken by concurrent transactions (RetryTx), the embedded
// migrations applied once under one advisory lock (Migrate), and the per
// partition positions a read model records with its data, with the advisory
// locks that make concurrent applies of one partition take turns
// (LockPositions, ReadPositions, WritePositions).
package pgkit
