package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/history"
)

// historyRoutes adds the history endpoints of the audit API.
func (s *server) historyRoutes(mux *http.ServeMux) {
	route := func(pattern string, h handlerFunc) { mux.Handle(pattern, s.handle(h)) }
	route("GET "+auditPrefix+"/entities/{kind}/{namespace}/{name}/history", s.entityHistory)
	route("GET "+auditPrefix+"/diff", s.auditDiff)
}

func (s *server) history() (history.Reader, error) {
	if s.cfg.History == nil {
		return nil, notImplemented("this server keeps no history read model")
	}
	return s.cfg.History, nil
}

// readerAt returns the read model a catalog read uses: the live one, or the
// catalog as it was at the request's asOf instant (an RFC 3339 time or a log
// position).
func (s *server) readerAt(r *http.Request) (catalogstore.Reader, error) {
	v := r.URL.Query().Get("asOf")
	if v == "" {
		return s.reader, nil
	}
	if s.cfg.AsOf == nil {
		return nil, notImplemented("this server keeps no history, so it cannot answer asOf")
	}
	at, err := history.ParseInstant(v)
	if err != nil {
		return nil, inputError("asOf: %v", err)
	}
	return s.cfg.AsOf(r.Context(), at)
}

// versionItem is one version in the history answer, with what changed since
// the version before.
type versionItem struct {
	history.Version
	Changes []catalog.FieldChange `json:"changes"`
}

// entityHistory answers GET /api/audit/entities/{kind}/{namespace}/{name}/history?after=&limit=:
// the entity's versions, oldest first, each with its field-level diff to the
// one before.
func (s *server) entityHistory(w http.ResponseWriter, r *http.Request) error {
	h, err := s.history()
	if err != nil {
		return err
	}
	ref := pathRef(r)
	key := ref.Key()
	q := r.URL.Query()
	after, limit := 0, 50
	if v := q.Get("after"); v != "" {
		if after, err = strconv.Atoi(v); err != nil || after < 0 {
			return inputError("after=%q is not a version number", v)
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 500 {
			return inputError("limit=%q: want 1 to 500", v)
		}
	}
	vs, err := h.Versions(r.Context(), key, after, limit+1)
	if err != nil {
		return err
	}
	if len(vs) == 0 && after == 0 {
		return notFoundError("No history of %s", key)
	}
	more := len(vs) > limit
	if more {
		vs = vs[:limit]
	}
	var prev map[string]any
	if len(vs) > 0 && vs[0].Number > 1 {
		p, err := h.Version(r.Context(), key, vs[0].Number-1)
		if err != nil {
			return err
		}
		prev = bodyOf(p)
	}
	out := struct {
		Items      []versionItem `json:"items"`
		NextCursor string        `json:"nextCursor,omitempty"`
		// BadgeChanges are the changes of the entity's badges, in log order
		// (first page only).
		BadgeChanges []badges.Change `json:"badgeChanges,omitempty"`
	}{Items: make([]versionItem, 0, len(vs))}
	if s.cfg.Badges != nil && after == 0 {
		if out.BadgeChanges, err = s.cfg.Badges.EntityChanges(r.Context(), key); err != nil {
			return err
		}
	}
	for _, v := range vs {
		cur := bodyOf(v)
		out.Items = append(out.Items, versionItem{Version: v, Changes: nonNil(catalog.Diff(prev, cur))})
		prev = cur
	}
	if more {
		out.NextCursor = strconv.Itoa(vs[len(vs)-1].Number)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func bodyOf(v history.Version) map[string]any {
	if v.Removed || len(v.Body) == 0 {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(v.Body, &m) != nil {
		return nil
	}
	return m
}

func nonNil(c []catalog.FieldChange) []catalog.FieldChange {
	if c == nil {
		return []catalog.FieldChange{}
	}
	return c
}

// diffItem is one entity that differs between two instants.
type diffItem struct {
	Ref     string                `json:"ref"`
	Changes []catalog.FieldChange `json:"changes,omitempty"`
	From    *versionRef           `json:"from,omitempty"`
	To      *versionRef           `json:"to,omitempty"`
}

type versionRef struct {
	Version int    `json:"version"`
	EventID string `json:"eventId"`
	Actor   string `json:"actor,omitempty"`
}

// auditDiff answers GET /api/audit/diff?from=&to=: the entities added, removed
// and changed between two instants, with field-level changes.
func (s *server) auditDiff(w http.ResponseWriter, r *http.Request) error {
	h, err := s.history()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	from, err := history.ParseInstant(q.Get("from"))
	if err != nil {
		return inputError("from: %v", err)
	}
	to, err := history.ParseInstant(q.Get("to"))
	if err != nil {
		return inputError("to: %v", err)
	}
	out := struct {
		Added   []diffItem `json:"added"`
		Removed []diffItem `json:"removed"`
		Changed []diffItem `json:"changed"`
	}{Added: []diffItem{}, Removed: []diffItem{}, Changed: []diffItem{}}
	err = mergeCurrent(r.Context(), h, from, to, func(a, b *history.Version) {
		switch {
		case a == nil:
			out.Added = append(out.Added, diffItem{Ref: b.Ref, To: refOfVersion(b), Changes: catalog.Diff(nil, bodyOf(*b))})
		case b == nil:
			out.Removed = append(out.Removed, diffItem{Ref: a.Ref, From: refOfVersion(a)})
		case a.Number != b.Number:
			if ch := catalog.Diff(bodyOf(*a), bodyOf(*b)); len(ch) > 0 {
				out.Changed = append(out.Changed, diffItem{Ref: b.Ref, From: refOfVersion(a), To: refOfVersion(b), Changes: ch})
			}
		}
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func refOfVersion(v *history.Version) *versionRef {
	return &versionRef{Version: v.Number, EventID: v.EventID, Actor: v.Actor}
}

// mergeCurrent walks the entities current at two instants in key order and
// calls pair with each key's version at each (nil where it did not exist).
func mergeCurrent(ctx context.Context, h history.Reader, from, to history.Instant, pair func(a, b *history.Version)) error {
	const page = 1000
	type cursor struct {
		at    history.Instant
		buf   []history.Version
		after string
		done  bool
	}
	next := func(c *cursor) (*history.Version, error) {
		if len(c.buf) == 0 && !c.done {
			vs, err := h.Current(ctx, c.at, c.after, page)
			if err != nil {
				return nil, err
			}
			c.buf = vs
			c.done = len(vs) < page
			if len(vs) > 0 {
				c.after = vs[len(vs)-1].Key
			}
		}
		if len(c.buf) == 0 {
			return nil, nil
		}
		v := c.buf[0]
		return &v, nil
	}
	a, b := &cursor{at: from}, &cursor{at: to}
	for {
		va, err := next(a)
		if err != nil {
			return err
		}
		vb, err := next(b)
		if err != nil {
			return err
		}
		switch {
		case va == nil && vb == nil:
			return nil
		case vb == nil || (va != nil && va.Key < vb.Key):
			pair(va, nil)
			a.buf = a.buf[1:]
		case va == nil || vb.Key < va.Key:
			pair(nil, vb)
			b.buf = b.buf[1:]
		default:
			pair(va, vb)
			a.buf, b.buf = a.buf[1:], b.buf[1:]
		}
	}
}

// at is readerAt for handlers that read through one expression: a bad or
// unanswerable asOf becomes a reader whose every query fails with the reason.
func (s *server) at(r *http.Request) catalogstore.Reader {
	rd, err := s.readerAt(r)
	if err != nil {
		return failedReader{err: err}
	}
	return rd
}

// failedReader answers every query with err.
type failedReader struct {
	catalogstore.Reader
	err error
}

func (f failedReader) Query(context.Context, catalogstore.PageQuery) (catalogstore.Page, error) {
	return catalogstore.Page{}, f.err
}

func (f failedReader) ByKeys(context.Context, []string) ([]*catalogstore.EntityView, error) {
	return nil, f.err
}

func (f failedReader) ByUID(context.Context, string) (*catalogstore.EntityView, error) {
	return nil, f.err
}

func (f failedReader) Facets(context.Context, []string, catalogstore.Filter) (map[string][]catalogstore.FacetCount, error) {
	return nil, f.err
}
