package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventschema"
	"backlot.dev/backlot/internal/feed"
	"backlot.dev/backlot/policies/permission"
)

// Feed is what the event feed reads: the event log.
type Feed interface {
	// Read returns up to limit events after the cursor that match the filter,
	// waiting up to wait for the first one to arrive, and the cursor to continue
	// from. Events of one subject come in log order.
	Read(ctx context.Context, after event.Positions, f FeedFilter, limit int, wait time.Duration) ([]event.Envelope, event.Positions, error)
	// Heads returns the cursor of the log's present end.
	Heads(ctx context.Context) (event.Positions, error)
}

// FeedFilter selects events of the feed (package feed's Filter, which also
// says which events match it).
type FeedFilter = feed.Filter

// Feed limits.
const (
	feedDefaultWait = 25 * time.Second
	feedMaxWait     = 60 * time.Second
	feedMaxLimit    = 1000
)

func (s *server) feedRoutes(mux *http.ServeMux) {
	route := func(pattern string, a access, h handlerFunc) { s.route(mux, pattern, a, h) }
	route("GET /api/events", needEach(permission.EventsRead), s.feedPoll)
	route("GET /api/events/stream", needEach(permission.EventsRead), s.feedStream)
	route("GET /api/events/asyncapi.json", need(permission.EventsRead, nil), func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		_, err := w.Write(eventschema.AsyncAPI())
		return err
	})
	route("GET /api/events/schemas/{name}", need(permission.EventsRead, nil), func(w http.ResponseWriter, r *http.Request) error {
		raw, ok := eventschema.Schema(r.PathValue("name"))
		if !ok {
			return notFoundError("No event schema named %q; the schemas are %s", r.PathValue("name"), strings.Join(eventschema.Names(), ", "))
		}
		w.Header().Set("Content-Type", "application/schema+json")
		_, err := w.Write(raw)
		return err
	})
}

func (s *server) feed() (Feed, error) {
	if s.cfg.Feed == nil {
		return nil, notImplemented("this server has no event feed")
	}
	return s.cfg.Feed, nil
}

// feedParams reads the filter and the start of a feed request: after=CURSOR
// (a cursor from an earlier answer, "now" for the present end, empty for the
// beginning), types (repeatable or comma separated) and subject.
func (s *server) feedParams(r *http.Request, f Feed, after string) (event.Positions, FeedFilter, error) {
	q := r.URL.Query()
	var filter FeedFilter
	for _, t := range q["types"] {
		for _, one := range strings.Split(t, ",") {
			if one = strings.TrimSpace(one); one != "" {
				filter.Types = append(filter.Types, one)
			}
		}
	}
	filter.Subject = strings.ToLower(q.Get("subject"))
	switch after {
	case "":
		return event.Positions{}, filter, nil
	case "now":
		heads, err := f.Heads(r.Context())
		return heads, filter, err
	}
	p, err := event.ParsePositions(after)
	if err != nil {
		return nil, filter, inputError("cursor %q: %v", after, err)
	}
	return p, filter, nil
}

// feedItem is one event of the long-poll answer.
type feedItem struct {
	Position  int64          `json:"position"`
	Partition int32          `json:"partition"`
	Event     event.Envelope `json:"event"`
}

// feedPoll answers GET /api/events?after=&types=&subject=&limit=&wait=: the
// events after the cursor, waiting (wait seconds, default 25, at most 60) when
// there are none yet. nextCursor always continues where the answer ends.
func (s *server) feedPoll(w http.ResponseWriter, r *http.Request) error {
	f, err := s.feed()
	if err != nil {
		return err
	}
	after, filter, err := s.feedParams(r, f, r.URL.Query().Get("after"))
	if err != nil {
		return err
	}
	limit, wait := 100, feedDefaultWait
	if v := r.URL.Query().Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > feedMaxLimit {
			return inputError("limit=%q: want 1 to %d", v, feedMaxLimit)
		}
	}
	if v := r.URL.Query().Get("wait"); v != "" {
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || secs < 0 || time.Duration(secs*float64(time.Second)) > feedMaxWait {
			return inputError("wait=%q: want 0 to %d seconds", v, int(feedMaxWait.Seconds()))
		}
		wait = time.Duration(secs * float64(time.Second))
	}
	evs, next, err := f.Read(r.Context(), after, filter, limit, wait)
	if err != nil {
		return err
	}
	out := struct {
		Items      []feedItem `json:"items"`
		NextCursor string     `json:"nextCursor"`
	}{Items: make([]feedItem, 0, len(evs)), NextCursor: next.String()}
	keep := s.readable(r, permission.EventsRead)
	for _, ev := range evs {
		if keep != nil && !keep(eventResource(ev)) {
			continue
		}
		out.Items = append(out.Items, feedItem{Position: ev.Position, Partition: ev.Partition, Event: ev})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// feedStream answers GET /api/events/stream with Server-Sent Events: each
// event's id is the cursor after it, its event name the CloudEvent type and
// its data the CloudEvent JSON. A client that reconnects with Last-Event-ID
// (or after=) continues exactly after the last event it received.
func (s *server) feedStream(w http.ResponseWriter, r *http.Request) error {
	f, err := s.feed()
	if err != nil {
		return err
	}
	start := r.Header.Get("Last-Event-ID")
	if start == "" {
		start = r.URL.Query().Get("after")
	}
	cursor, filter, err := s.feedParams(r, f, start)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	fmt.Fprintf(w, "retry: 2000\n\n")
	rc.Flush()
	ctx := r.Context()
	keep := s.readable(r, permission.EventsRead)
	for ctx.Err() == nil {
		evs, next, err := f.Read(ctx, cursor, filter, 500, 15*time.Second)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			fmt.Fprintf(w, "event: error\ndata: %s\n\n", jsonString(err.Error()))
			rc.Flush()
			return nil
		}
		if len(evs) == 0 {
			// A comment keeps proxies from closing an idle stream.
			if _, err := fmt.Fprintf(w, ": waiting\n\n"); err != nil {
				return nil
			}
			rc.Flush()
			cursor = next
			continue
		}
		for i := range evs {
			cursor.Merge(event.Positions{evs[i].Partition: evs[i].Position})
			if keep != nil && !keep(eventResource(evs[i])) {
				continue
			}
			raw, err := json.Marshal(evs[i])
			if err != nil {
				return nil
			}
			if _, err := fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", cursor.String(), evs[i].Type, raw); err != nil {
				return nil
			}
		}
		cursor.Merge(next)
		rc.Flush()
	}
	return nil
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
