// Package projections holds the folds from catalog events to read models and the
// stores that keep them. Every read model records the log position it has applied
// in the same transaction as its data, and can be dropped and rebuilt by replaying
// the log with an identical result.
package projections
