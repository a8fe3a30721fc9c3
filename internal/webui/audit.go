package webui

import (
	"net/http"
	"strings"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/internal/audit"
	"backlot.dev/backlot/policies/permission"
	"backlot.dev/backlot/projections/catalogstore"
)

func init() {
	Register(Page{Pattern: "GET /audit", Section: "audit", Template: "audit.html",
		Permission: permission.AuditRead, Load: loadAudit})
	Register(Page{Pattern: "GET /audit/catalog", Section: "audit", Template: "audit_catalog.html",
		Permission: permission.AuditRead, Load: loadAuditCatalog})
	Register(Page{Pattern: "GET /audit/diff", Section: "audit", Template: "audit_diff.html",
		Permission: permission.AuditRead, Load: loadAuditDiff})
	Register(Page{Pattern: "POST /audit/verify", Section: "audit", Template: "audit_verify.html",
		Permission: permission.AuditRead, Method: postAuditVerify})
}

// auditPageSize is how many events a page of the audit log shows.
const auditPageSize = 50

// auditTypes are the event types the filter offers.
var auditTypes = []event.Type{
	event.TypeLocationRegistered, event.TypeLocationRemoved, event.TypeEntityUpserted, event.TypeEntityRemoved,
	event.TypeProcessingErrorRecorded, event.TypeProcessingErrorCleared, event.TypeFactsReported,
	event.TypeFactSourceDeclared, event.TypeBadgeAwarded, event.TypeBadgeRevoked, event.TypeCheckChanged,
	event.TypeTaskStarted, event.TypeTaskFinished, event.TypeMigrationChanged, event.TypeMigrationTargetChanged,
}

// auditEvent is one row of the audit log.
type auditEvent struct {
	audit.EventItem
	SubjectURL string
	Data       string
}

// typeChoice is one type of the filter.
type typeChoice struct {
	Type     string
	Selected bool
}

// auditData is what audit.html shows.
type auditData struct {
	State                                 State
	Subject, Actor, Correlation, From, To string
	Types                                 []typeChoice
	Items                                 []auditEvent
	Next                                  string
	Live                                  bool
	TaskID, MigrationID                   string
}

// loadAudit answers the audit log: the events, filtered by subject, types,
// actor, correlation and time range, a page at a time (newest pages follow
// the stream live).
func loadAudit(s *Server, r *Request) (any, string, error) {
	if s.cfg.Audit == nil {
		return nil, "", fault.New(fault.Unavailable, "audit", "this server has no audit log")
	}
	st := StateOf(r)
	d := &auditData{State: st, Subject: strings.TrimSpace(st.Get("subject")), Actor: strings.TrimSpace(st.Get("actor")),
		Correlation: strings.TrimSpace(st.Get("correlation")), From: st.Get("from"), To: st.Get("to")}
	q := audit.EventQuery{Subject: strings.ToLower(d.Subject), Actor: d.Actor, Correlation: d.Correlation, Limit: auditPageSize}
	for _, t := range st.All("type") {
		for _, one := range strings.Split(t, ",") {
			if one = strings.TrimSpace(one); one != "" {
				q.Types = append(q.Types, one)
			}
		}
	}
	for _, t := range auditTypes {
		d.Types = append(d.Types, typeChoice{Type: string(t), Selected: st.Has("type", string(t))})
	}
	var err error
	if q.From, err = instantTime("from", d.From); err != nil {
		return nil, "", err
	}
	if q.To, err = instantTime("to", d.To); err != nil {
		return nil, "", err
	}
	if v := st.Get("after"); v != "" {
		if q.After, err = event.ParsePositions(v); err != nil {
			return nil, "", fault.New(fault.Invalid, "after", "after=%q is not a cursor of this log; start again from the first page", v)
		}
	}
	d.Live = q.After == nil
	page, err := audit.Service{Log: s.cfg.Audit}.Events(r.Context(), q)
	if err != nil {
		return nil, "", err
	}
	for _, it := range page.Items {
		d.Items = append(d.Items, auditEvent{EventItem: it, SubjectURL: subjectURL(it.Event.Subject), Data: prettyJSON(it.Event.Data)})
	}
	if page.NextCursor != "" {
		d.Next = st.Page("after", page.NextCursor)
	}
	if d.Correlation != "" {
		for _, it := range page.Items {
			switch it.Event.Type {
			case string(event.TypeTaskStarted), string(event.TypeTaskFinished):
				d.TaskID = strings.TrimPrefix(it.Event.Subject, "task:")
			case string(event.TypeMigrationChanged):
				d.MigrationID = strings.TrimPrefix(it.Event.Subject, "migration:")
			}
		}
	}
	return d, "Audit", nil
}

// instantTime reads a time filter: "" is none; a log position is refused,
// as events are filtered by their time.
func instantTime(param, v string) (time.Time, error) {
	if strings.TrimSpace(v) == "" {
		return time.Time{}, nil
	}
	_, t, err := ParseInstant(param, v)
	if err != nil {
		return time.Time{}, err
	}
	if t.IsZero() {
		return time.Time{}, fault.New(fault.Invalid, param, "%s=%q: give a time (2026-11-25T10:00Z), not a log position", param, v)
	}
	return t, nil
}

// subjectURL is the page of an event's subject: an entity, a task or a
// migration.
func subjectURL(subject string) string {
	switch {
	case subject == "":
		return ""
	case strings.HasPrefix(subject, "task:"):
		return "/create/tasks/" + strings.TrimPrefix(subject, "task:")
	case strings.HasPrefix(subject, "migration:"):
		return "/migrations/" + strings.TrimPrefix(subject, "migration:")
	case strings.HasPrefix(subject, "location:"):
		return ""
	case strings.Contains(subject, ":"):
		return entityURL(subject)
	}
	return ""
}

// auditCatalogData is what audit_catalog.html shows.
type auditCatalogData struct {
	State State
	At    string
	Query string
	Items []Summary
	Pager Pager
}

// loadAuditCatalog answers the catalog as it was at an instant (?at=): a
// page of its entities, searched.
func loadAuditCatalog(s *Server, r *Request) (any, string, error) {
	st := StateOf(r)
	d := &auditCatalogData{State: st, At: strings.TrimSpace(st.Get("at")), Query: strings.TrimSpace(st.Get("q"))}
	if d.At == "" {
		return d, "The catalog as of an instant", nil
	}
	reader, err := s.catalogAt(r.Context(), d.At)
	if err != nil {
		return nil, "", err
	}
	q := catalogstore.PageQuery{Order: []catalogstore.Order{{Field: "metadata.name"}}, Limit: CatalogPageSize, CountTotal: true}
	if d.Query != "" {
		q.FullText = catalogstore.FullText{Term: d.Query}
	}
	if q.After, err = DecodeCursor("after", st.Get("after")); err != nil {
		return nil, "", err
	}
	if q.Before, err = DecodeCursor("before", st.Get("before")); err != nil {
		return nil, "", err
	}
	page, lag, err := queryNoted(r.Context(), reader, q)
	if err != nil {
		return nil, "", err
	}
	for i := range page.Items {
		d.Items = append(d.Items, Summarize(&page.Items[i]))
	}
	d.Pager = PagerOf(st, page, lag)
	return d, "The catalog as of " + d.At, nil
}

// auditDiffData is what audit_diff.html shows.
type auditDiffData struct {
	From, To string
	Diff     *audit.Diff
}

// loadAuditDiff answers what changed between two instants (?from=&to=):
// the entities added, removed and changed, field by field.
func loadAuditDiff(s *Server, r *Request) (any, string, error) {
	st := StateOf(r)
	d := &auditDiffData{From: strings.TrimSpace(st.Get("from")), To: strings.TrimSpace(st.Get("to"))}
	if d.From == "" || d.To == "" {
		return d, "What changed between two instants", nil
	}
	if s.cfg.History == nil {
		return nil, "", fault.New(fault.Unavailable, "history", "this server keeps no history")
	}
	from, _, err := ParseInstant("from", d.From)
	if err != nil {
		return nil, "", err
	}
	to, _, err := ParseInstant("to", d.To)
	if err != nil {
		return nil, "", err
	}
	diff, err := audit.Service{History: s.cfg.History}.Diff(r.Context(), from, to)
	if err != nil {
		return nil, "", err
	}
	d.Diff = &diff
	return d, "What changed from " + d.From + " to " + d.To, nil
}

// auditVerifyData is what audit_verify.html shows.
type auditVerifyData struct {
	Report event.VerifyReport
	Took   time.Duration
}

// postAuditVerify recomputes the log's hash chain and shows the result:
// how many events, the head link to keep as a checkpoint, and every
// problem found.
func postAuditVerify(s *Server, w http.ResponseWriter, r *Request) error {
	if err := checkWrite(r.Request); err != nil {
		return err
	}
	if s.cfg.Audit == nil {
		return fault.New(fault.Unavailable, "audit", "this server has no audit log")
	}
	start := time.Now()
	rep, err := audit.Service{Log: s.cfg.Audit}.Verify(r.Context(), nil, nil)
	if err != nil {
		return err
	}
	d := &auditVerifyData{Report: rep, Took: time.Since(start).Round(time.Millisecond)}
	title := "The log verifies"
	if !rep.OK() {
		title = "The log does not verify"
	}
	s.render(w, r.Request, r, Page{Section: "audit", Template: "audit_verify.html"}, http.StatusOK, title, d, 0)
	return nil
}
