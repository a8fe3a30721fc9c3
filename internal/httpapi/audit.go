package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/history"
)

// auditPrefix is where the audit API lives.
const auditPrefix = "/api/audit"

// EventQuery selects events of the raw log for GET /api/audit/events.
type EventQuery struct {
	// Subject, Actor, Correlation: exact matches when set.
	Subject, Actor, Correlation string
	// Types matches any of these types when not empty.
	Types []string
	// From and To bound the event time: at or after From, before To.
	From, To time.Time
	// After is where to continue (the previous page's cursor): the last
	// position read in each partition.
	After event.Positions
	// Limit caps the page.
	Limit int
}

// AuditLog is what the audit endpoints read: the event log itself.
type AuditLog interface {
	// Events returns up to q.Limit events matching q after q.After: in log
	// order on a single-partition log, by time across partitions.
	Events(ctx context.Context, q EventQuery) ([]event.Envelope, error)
	// Verify recomputes the log's hash chain, calling progress as it goes.
	Verify(ctx context.Context, checkpoints map[int64]string, progress func(done, total int64)) (event.VerifyReport, error)
}

// auditRoutes adds the audit endpoints: the raw log, its verification, and
// the entity history and diff.
func (s *server) auditRoutes(mux *http.ServeMux) {
	route := func(pattern string, h handlerFunc) { mux.Handle(pattern, s.handle(h)) }
	route("GET "+auditPrefix+"/events", s.auditEvents)
	route("POST "+auditPrefix+"/verify", s.auditVerify)
	route("GET "+auditPrefix+"/entities/{kind}/{namespace}/{name}/history", s.entityHistory)
	route("GET "+auditPrefix+"/diff", s.auditDiff)
}

func (s *server) auditLog() (AuditLog, error) {
	if s.cfg.Audit == nil {
		return nil, notImplemented("this server has no audit log: the audit endpoints run on the embedded event log (backlot dev)")
	}
	return s.cfg.Audit, nil
}

// auditEventItem is one event of GET /api/audit/events: the CloudEvent and
// where the log holds it.
type auditEventItem struct {
	Position  int64          `json:"position"`
	Partition int32          `json:"partition"`
	Event     event.Envelope `json:"event"`
}

// auditEvents answers GET /api/audit/events?subject=&type=&actor=&from=&to=&after=&limit=.
func (s *server) auditEvents(w http.ResponseWriter, r *http.Request) error {
	al, err := s.auditLog()
	if err != nil {
		return err
	}
	qv := r.URL.Query()
	q := EventQuery{Subject: strings.ToLower(qv.Get("subject")), Actor: qv.Get("actor"), Correlation: qv.Get("correlation"), Limit: 100}
	for _, t := range qv["type"] {
		for _, one := range strings.Split(t, ",") {
			if one = strings.TrimSpace(one); one != "" {
				q.Types = append(q.Types, one)
			}
		}
	}
	for name, dst := range map[string]*time.Time{"from": &q.From, "to": &q.To} {
		if v := qv.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return inputError("%s=%q is not an RFC 3339 time", name, v)
			}
			*dst = t
		}
	}
	if v := qv.Get("after"); v != "" {
		p, err := event.ParsePositions(v)
		if err != nil {
			return inputError("after=%q is not a cursor: %v", v, err)
		}
		q.After = p
	}
	if v := qv.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return inputError("limit=%q: want 1 to 1000", v)
		}
		q.Limit = n
	}
	evs, err := al.Events(r.Context(), q)
	if err != nil {
		return err
	}
	out := struct {
		Items      []auditEventItem `json:"items"`
		NextCursor string           `json:"nextCursor,omitempty"`
	}{Items: make([]auditEventItem, 0, len(evs))}
	for _, ev := range evs {
		out.Items = append(out.Items, auditEventItem{Position: ev.Position, Partition: ev.Partition, Event: ev})
	}
	if len(evs) == q.Limit {
		next := q.After.Clone()
		if next == nil {
			next = event.Positions{}
		}
		next.Merge(event.PositionsOf(evs))
		out.NextCursor = next.String()
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// verifyLine is one line of POST /api/audit/verify's answer: progress while
// the chain is recomputed, then the report.
type verifyLine struct {
	Progress *verifyProgress     `json:"progress,omitempty"`
	Report   *event.VerifyReport `json:"report,omitempty"`
	Error    string              `json:"error,omitempty"`
}

type verifyProgress struct {
	Done  int64 `json:"done"`
	Total int64 `json:"total"`
}

// auditVerify answers POST /api/audit/verify with newline-delimited JSON:
// progress lines, then the report. The body may name checkpoints recorded
// earlier: {"checkpoints": {"POSITION": "LINK"}}.
func (s *server) auditVerify(w http.ResponseWriter, r *http.Request) error {
	al, err := s.auditLog()
	if err != nil {
		return err
	}
	var in struct {
		Checkpoints map[string]string `json:"checkpoints"`
	}
	if r.ContentLength != 0 {
		if err := s.decodeBody(w, r, &in, true); err != nil {
			return err
		}
	}
	cps := map[int64]string{}
	for k, v := range in.Checkpoints {
		n, err := strconv.ParseInt(k, 10, 64)
		if err != nil || n < 1 {
			return inputError("checkpoint %q: the key must be a log position", k)
		}
		cps[n] = v
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	rc := http.NewResponseController(w)
	last := time.Time{}
	rep, err := al.Verify(r.Context(), cps, func(done, total int64) {
		if time.Since(last) < 200*time.Millisecond && done < total {
			return
		}
		last = time.Now()
		enc.Encode(verifyLine{Progress: &verifyProgress{Done: done, Total: total}})
		rc.Flush()
	})
	if err != nil {
		enc.Encode(verifyLine{Error: err.Error()})
		return nil
	}
	enc.Encode(verifyLine{Report: &rep})
	return nil
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
