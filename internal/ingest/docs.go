package ingest

import "backlot.dev/backlot/domain/catalog"

// parsedFile is a descriptor file cut into its documents, those that
// changed since its last clean read decoded.
type parsedFile struct {
	docs []catalog.Document
	// chunks are the documents' texts, texts their hashes (Reader.textHash)
	// and nodes the YAML nodes each expanded to.
	chunks []catalog.DocumentChunk
	texts  []uint64
	nodes  []int
	// skip marks the documents not decoded: their text is that of the
	// same document at the file's last clean read (prev), which yielded a
	// plain entity. Their docs hold only Index and Line.
	skip    []bool
	skipped int
}

// parse cuts f into documents and decodes them as catalog.ParseDocuments
// does, with the same limits and errors, except that a document whose text
// is that of the same document at the file's last clean read (prev: none
// when nil) and which yielded a plain entity then is not decoded (skip).
// Such a document counts against the file's limit of YAML nodes with what
// it expanded to then. An error refuses the whole file.
func (r *Reader) parse(f *file, prev []docMemo) (parsedFile, error) {
	lim := r.cfg.Limits
	fallback := func() (parsedFile, error) {
		// A file over a limit: ParseDocuments says which, as it would.
		docs, err := catalog.ParseDocuments(f.managedBy, f.content, lim)
		if err != nil {
			return parsedFile{}, err
		}
		n := len(docs)
		r.docsParsed.Add(int64(n))
		return parsedFile{docs: docs, chunks: make([]catalog.DocumentChunk, n), texts: make([]uint64, n),
			nodes: make([]int, n), skip: make([]bool, n)}, nil
	}
	if int64(len(f.content)) > lim.MaxFileBytes {
		return fallback()
	}
	chunks := catalog.SplitDocuments(f.content)
	if len(chunks) > lim.MaxDocuments {
		return fallback()
	}
	n := len(chunks)
	pf := parsedFile{docs: make([]catalog.Document, n), chunks: chunks, texts: make([]uint64, n),
		nodes: make([]int, n), skip: make([]bool, n)}
	budget := lim.MaxFileNodes
	for i, c := range chunks {
		pf.texts[i] = r.textHash(c.Text)
		if i < len(prev) && prev[i].plain && prev[i].text == pf.texts[i] {
			pf.skip[i] = true
			pf.skipped++
			pf.nodes[i] = int(prev[i].nodes)
			pf.docs[i] = catalog.Document{Index: i, Line: c.Line}
		} else {
			pf.docs[i], pf.nodes[i] = catalog.DecodeDocument(f.managedBy, c, i, lim)
			r.docsParsed.Add(1)
		}
		if budget -= pf.nodes[i]; budget < 0 {
			return fallback()
		}
	}
	return pf, nil
}
