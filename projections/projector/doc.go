// Package projector tails the event log into read models: a Projector reads
// each partition in batches after the position its Target recorded and applies
// each batch in one transaction, so it resumes after a restart with nothing
// lost or applied twice; far behind a log of one partition it lets a
// BulkLoader fold without some indexes. A Gate admits the batches of the
// projectors that share it (a SizingGate also bounds each batch's size), so a
// background fold can give way to requests. With Options.ReadAhead it reads
// the next batch while the store applies the current one, and a Preparer
// store prepares it (decodes it, say) meanwhile, off the applying goroutine.
// Waiter is the read half of
// read-your-writes: the Projector itself in the process that projects, a
// PollWaiter in one that only reads a store another process projects into.
package projector
