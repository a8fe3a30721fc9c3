package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Follower defaults.
const (
	defaultSaveEvery  = time.Second
	defaultMinBackoff = 250 * time.Millisecond
	defaultMaxBackoff = 30 * time.Second
	// maxEventBytes bounds one SSE line; an entity body with inlined API
	// definitions is far smaller.
	maxEventBytes = 32 << 20
)

// Follower keeps a Mirror up to date from Backlot's Server-Sent Events
// stream (GET /api/events/stream), reconnecting with backoff when the
// connection drops and saving the mirror to StatePath as it goes.
type Follower struct {
	// URL is the Backlot server, such as http://127.0.0.1:7007.
	URL string
	// Mirror receives the events; its cursor is where the stream resumes.
	Mirror *Mirror
	// StatePath is the state file; empty means the mirror is not saved.
	StatePath string
	// Client makes the requests; default a client without a timeout, since
	// the stream stays open.
	Client *http.Client
	// Out receives a line per applied change; nil prints nothing.
	Out io.Writer
	// Logf receives connection problems; nil discards them.
	Logf func(format string, args ...any)
	// SaveEvery is how often a changed mirror is saved; default one second.
	SaveEvery time.Duration
	// MinBackoff and MaxBackoff bound the wait before reconnecting; it
	// doubles after each failed attempt and starts over once an event arrives.
	MinBackoff, MaxBackoff time.Duration
}

func (f *Follower) setDefaults() {
	if f.Client == nil {
		f.Client = &http.Client{}
	}
	if f.Logf == nil {
		f.Logf = func(string, ...any) {}
	}
	if f.SaveEvery <= 0 {
		f.SaveEvery = defaultSaveEvery
	}
	if f.MinBackoff <= 0 {
		f.MinBackoff = defaultMinBackoff
	}
	if f.MaxBackoff < f.MinBackoff {
		f.MaxBackoff = max(defaultMaxBackoff, f.MinBackoff)
	}
}

// Validate reports a missing URL or Mirror.
func (f *Follower) Validate() error {
	switch {
	case f.URL == "":
		return errors.New("follower: URL is required")
	case f.Mirror == nil:
		return errors.New("follower: Mirror is required")
	}
	return nil
}

// errFatal marks an error that reconnecting cannot cure: an event the mirror
// cannot decode.
type errFatal struct{ err error }

func (e errFatal) Error() string { return e.err.Error() }
func (e errFatal) Unwrap() error { return e.err }

// Run follows the stream until ctx is done, then saves the mirror a last
// time and returns nil. A dropped connection or a refused request is retried
// after a backoff; an event the mirror cannot decode stops Run with an error,
// since skipping it would leave the mirror silently wrong.
func (f *Follower) Run(ctx context.Context) error {
	if err := f.Validate(); err != nil {
		return err
	}
	f.setDefaults()
	var wg sync.WaitGroup
	saverCtx, stopSaver := context.WithCancel(context.Background())
	saved := f.Mirror.Version()
	var saveErr error
	var saveMu sync.Mutex
	save := func() {
		saveMu.Lock()
		defer saveMu.Unlock()
		if f.StatePath == "" || f.Mirror.Version() == saved {
			return
		}
		v, err := f.Mirror.Save(f.StatePath)
		if err != nil {
			saveErr = err
			f.Logf("%v", err)
			return
		}
		saved, saveErr = v, nil
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(f.SaveEvery)
		defer t.Stop()
		for {
			select {
			case <-saverCtx.Done():
				return
			case <-t.C:
				save()
			}
		}
	}()
	defer func() {
		stopSaver()
		wg.Wait()
	}()

	backoff := f.MinBackoff
	for {
		n, err := f.stream(ctx)
		if ctx.Err() != nil {
			break
		}
		var fatal errFatal
		if errors.As(err, &fatal) {
			save()
			return fatal.err
		}
		if n > 0 {
			backoff = f.MinBackoff
		}
		f.Logf("stream: %v; reconnecting in %v", err, backoff)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		if ctx.Err() != nil {
			break
		}
		backoff = min(2*backoff, f.MaxBackoff)
	}
	save()
	saveMu.Lock()
	defer saveMu.Unlock()
	return saveErr
}

// stream reads one connection until it ends and returns how many events it
// applied. It always returns an error: why the connection ended.
func (f *Follower) stream(ctx context.Context) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(f.URL, "/")+"/api/events/stream", nil)
	if err != nil {
		return 0, errFatal{err}
	}
	req.Header.Set("Accept", "text/event-stream")
	if c := f.Mirror.Cursor(); c != "" {
		req.Header.Set("Last-Event-ID", c)
	}
	resp, err := f.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return 0, fmt.Errorf("GET %s: %s: %s", req.URL, resp.Status, bytes.TrimSpace(b))
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return 0, fmt.Errorf("GET %s: content type %q, want text/event-stream", req.URL, mt)
	}
	applied := 0
	err = readSSE(resp.Body, func(ev sseEvent) error {
		switch ev.Event {
		case "error":
			return fmt.Errorf("server: %s", ev.Data)
		}
		if ev.Data != "" {
			ch, err := f.Mirror.Apply([]byte(ev.Data))
			if err != nil {
				return errFatal{err}
			}
			if ch.Op != "" && f.Out != nil {
				fmt.Fprintln(f.Out, ch)
			}
			applied++
		}
		if ev.HasID {
			f.Mirror.Advance(ev.ID)
		}
		return nil
	})
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return applied, err
}

// sseEvent is one dispatched Server-Sent Event.
type sseEvent struct {
	ID    string
	HasID bool
	Event string
	Data  string
}

// readSSE parses a text/event-stream body as the HTML standard describes it
// and calls fn for each complete event, in order. An event cut off by the end
// of the body is dropped, never passed on half read. It returns fn's first
// error, the read error, or nil at the end of the body.
func readSSE(r io.Reader, fn func(sseEvent) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxEventBytes)
	var ev sseEvent
	var data strings.Builder
	hasData, first := false, true
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if first {
			line = strings.TrimPrefix(line, "\uFEFF")
			first = false
		}
		if line == "" {
			if hasData || ev.HasID {
				ev.Data = data.String()
				if err := fn(ev); err != nil {
					return err
				}
			}
			ev, hasData = sseEvent{}, false
			data.Reset()
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue // a comment, sent to keep the connection alive
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			if !strings.ContainsRune(value, 0) {
				ev.ID, ev.HasID = value, true
			}
		case "event":
			ev.Event = value
		case "data":
			if hasData {
				data.WriteByte('\n')
			}
			data.WriteString(value)
			hasData = true
		}
		// retry, the server's reconnection hint, is ignored: the follower's
		// own backoff governs.
	}
	return sc.Err()
}
