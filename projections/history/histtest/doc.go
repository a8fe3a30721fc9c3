// Package histtest is the contract suite of history.Store: Run checks an
// adapter's versions, provenance, idempotence, batchings, partitions and its
// answers as of every recorded instant against a plain map fold of random
// histories (Generate, Model). Every adapter's tests call Run.
package histtest
