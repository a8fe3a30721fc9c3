package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/audit"
	"backlot.dev/backlot/policies/permission"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/history"
)

// auditPrefix is where the audit API lives.
const auditPrefix = "/api/audit"

// AuditLog is what the audit endpoints read: the event log itself (package
// audit's Embedded and Kafka).
type AuditLog interface {
	// Events returns up to q.Limit events matching q after q.After: in log
	// order on a single-partition log, by time across partitions.
	Events(ctx context.Context, q audit.EventQuery) ([]event.Envelope, error)
	// Verify recomputes the log's hash chain, calling progress as it goes.
	Verify(ctx context.Context, checkpoints map[int64]string, progress func(done, total int64)) (event.VerifyReport, error)
}

// auditRoutes adds the audit endpoints: the raw log, its verification, and
// the entity history and diff.
func (s *server) auditRoutes(mux *http.ServeMux) {
	route := func(pattern string, a access, h handlerFunc) { s.route(mux, pattern, a, h) }
	route("GET "+auditPrefix+"/events", needEach(permission.AuditRead), s.auditEvents)
	route("POST "+auditPrefix+"/verify", need(permission.AuditRead, nil), s.auditVerify)
	route("GET "+auditPrefix+"/entities/{kind}/{namespace}/{name}/history", need(permission.AuditRead, s.entityByPath), s.entityHistory)
	route("GET "+auditPrefix+"/diff", need(permission.AuditRead, nil), s.auditDiff)
}

// auditService is the audit service over the server's event log, history
// and badges.
func (s *server) auditService() audit.Service {
	return audit.Service{Log: s.cfg.Audit, History: s.cfg.History, Badges: s.cfg.Badges}
}

// auditLog is the audit service, or 501 when the server has no audit log.
func (s *server) auditLog() (audit.Service, error) {
	if s.cfg.Audit == nil {
		return audit.Service{}, notImplemented("this server has no audit log: the audit endpoints run on the embedded event log (backlot dev)")
	}
	return s.auditService(), nil
}

// auditEvents answers GET /api/audit/events?subject=&type=&actor=&from=&to=&after=&limit=.
func (s *server) auditEvents(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.auditLog()
	if err != nil {
		return err
	}
	qv := r.URL.Query()
	q := audit.EventQuery{Subject: strings.ToLower(qv.Get("subject")), Actor: qv.Get("actor"), Correlation: qv.Get("correlation"), Limit: 100}
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
	page, err := svc.Events(r.Context(), q)
	if err != nil {
		return err
	}
	if keep := s.readable(r, permission.AuditRead); keep != nil {
		// The cursor stays where the log page ends: a page may hold fewer
		// items than the limit, and the next one continues after it.
		page.Items = slices.DeleteFunc(page.Items, func(it audit.EventItem) bool { return !keep(eventResource(it.Event)) })
	}
	writeJSON(w, http.StatusOK, page)
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
	svc, err := s.auditLog()
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
	rep, err := svc.Verify(r.Context(), cps, func(done, total int64) {
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

// history is the audit service for the history endpoints, or 501 when the
// server keeps no history.
func (s *server) history() (audit.Service, error) {
	if s.cfg.History == nil {
		return audit.Service{}, notImplemented("this server keeps no history read model")
	}
	return s.auditService(), nil
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

// entityHistory answers GET /api/audit/entities/{kind}/{namespace}/{name}/history?after=&limit=:
// the entity's versions, oldest first, each with its field-level diff to the
// one before.
func (s *server) entityHistory(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.history()
	if err != nil {
		return err
	}
	key := pathRef(r).Key()
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
	out, err := svc.EntityHistory(r.Context(), key, after, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// auditDiff answers GET /api/audit/diff?from=&to=: the entities added, removed
// and changed between two instants, with field-level changes.
func (s *server) auditDiff(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.history()
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
	out, err := svc.Diff(r.Context(), from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
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
