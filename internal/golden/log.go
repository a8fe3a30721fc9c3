package golden

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"backlot.dev/backlot/domain/event"
)

// Line is one line of a golden log: an event as the log stored it and where.
// It is the shape `backlot audit export --format jsonl` writes.
type Line struct {
	// Position is the event's position in its partition.
	Position int64 `json:"position"`
	// Partition is the event's partition; zero on the embedded log.
	Partition int32 `json:"partition"`
	// Event is the CloudEvents envelope as stored, data verbatim.
	Event event.Envelope `json:"event"`
}

// WriteLog writes the events as JSON lines, one Line each, in the order given.
func WriteLog(w io.Writer, events []event.Envelope) error {
	bw := bufio.NewWriter(w)
	for i := range events {
		b, err := json.Marshal(Line{Position: events[i].Position, Partition: events[i].Partition, Event: events[i]})
		if err != nil {
			return fmt.Errorf("golden log: event %s at %d: %w", events[i].ID, events[i].Position, err)
		}
		bw.Write(b)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// ReadLog reads a golden log written by WriteLog (gzip-compressed when the
// file name ends in .gz). Every line must be a complete, valid envelope with
// positions that increase within each partition; an error names the file and
// the line.
func ReadLog(path string) ([]event.Envelope, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	return decodeLog(path, r)
}

func decodeLog(name string, r io.Reader) ([]event.Envelope, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var out []event.Envelope
	last := map[int32]int64{}
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l Line
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		if err := l.Event.Validate(); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		if l.Position <= last[l.Partition] {
			return nil, fmt.Errorf("%s:%d: event %s: position %d of partition %d does not follow %d", name, n, l.Event.ID, l.Position, l.Partition, last[l.Partition])
		}
		last[l.Partition] = l.Position
		l.Event.Position, l.Event.Partition = l.Position, l.Partition
		out = append(out, l.Event)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}
