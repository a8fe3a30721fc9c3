package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"backlot.dev/backlot/domain/event"
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

// auditRoutes adds the audit endpoints.
func (s *server) auditRoutes(mux *http.ServeMux) {
	route := func(pattern string, h handlerFunc) { mux.Handle(pattern, s.handle(h)) }
	route("GET "+auditPrefix+"/events", s.auditEvents)
	route("POST "+auditPrefix+"/verify", s.auditVerify)
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
