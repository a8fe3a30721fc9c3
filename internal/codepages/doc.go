// Package codepages releases the pages of the running binary's code and
// read-only data that the process holds mapped, so that only those it goes
// on using come back.
//
// A Go binary maps its code and read-only data (function tables, type data,
// strings) from its file, and every page the process ever touched stays in
// its resident set for the life of the process. Backlot's binary has about
// 110 MB of them, and backlot dev's start (every package's init, the
// in-process Temporal server's construction, the template engine's
// compilation, the CEL environments, the stores' migrations) touches most:
// dev idles at 84-97 MB of file-backed resident memory, against 33-55 MB
// for what it keeps using afterwards (60-78 MB at the peak of the
// 100,000-entity bench, when ingestion, the API and the badges have run).
// The spread is the kernel's: Linux 6.18 maps a whole cached folio of the
// file on a fault, and the page cache may hold the binary in folios of up to
// 2 MiB, depending on how its file was written and read. Release drops the mappings of those pages
// (madvise MADV_DONTNEED); they stay in the operating system's page cache,
// shared and reclaimable like any cached file, and the ones the process still
// runs are mapped again by a minor fault on their next use, 64 KiB or one
// cached folio at a time. Nothing the process wrote is dropped: writable
// mappings and pages a debugger patched are left alone.
package codepages
