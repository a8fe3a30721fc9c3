package messagingtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"backlot.dev/backlot/internal/messaging"
)

var _ messaging.CursorStore = (*FileCursors)(nil)

// FileCursors is a messaging.CursorStore in one JSON file, replaced
// atomically on each save, so a subscriber the test reopens resumes where the
// last one left off. The product keeps its cursors in the webhook store.
type FileCursors struct {
	path string
	mu   sync.Mutex
	m    map[string]int64
}

// NewFileCursors reads (or starts) the cursor file at path.
func NewFileCursors(path string) (*FileCursors, error) {
	c := &FileCursors{path: path, m: map[string]int64{}}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return c, nil
	case err != nil:
		return nil, fmt.Errorf("cursors: %w", err)
	}
	if err := json.Unmarshal(b, &c.m); err != nil {
		return nil, fmt.Errorf("cursors %s: %w", path, err)
	}
	return c, nil
}

// Path returns the file the cursors are kept in.
func (c *FileCursors) Path() string { return c.path }

// Load returns the consumer's position.
func (c *FileCursors) Load(_ context.Context, consumer string) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[consumer], nil
}

// Save records the consumer's position and writes the file.
func (c *FileCursors) Save(_ context.Context, consumer string, pos int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[consumer] = pos
	b, err := json.Marshal(c.m)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path), ".cursors-*")
	if err != nil {
		return fmt.Errorf("cursors: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("cursors: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cursors: %w", err)
	}
	return os.Rename(tmp.Name(), c.path)
}
