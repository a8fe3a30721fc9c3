package pgcatalog

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// copyBuf is the body of a COPY ... FROM STDIN (FORMAT binary): rows appended
// field by field, without pgx's per-value type lookups.
type copyBuf struct {
	b    []byte
	rows int
}

// copySignature opens every binary COPY stream: the signature, flags and the
// length of the header extension.
var copySignature = []byte("PGCOPY\n\377\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

func newCopyBuf(size int) *copyBuf {
	b := make([]byte, 0, size+len(copySignature)+2)
	return &copyBuf{b: append(b, copySignature...)}
}

// row starts a row of n fields.
func (c *copyBuf) row(n int) {
	c.b = binary.BigEndian.AppendUint16(c.b, uint16(n))
	c.rows++
}

func (c *copyBuf) int8(v int64) {
	c.b = binary.BigEndian.AppendUint32(c.b, 8)
	c.b = binary.BigEndian.AppendUint64(c.b, uint64(v))
}

func (c *copyBuf) int4(v int32) {
	c.b = binary.BigEndian.AppendUint32(c.b, 4)
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(v))
}

// text appends a text field; its binary form is its UTF-8 bytes.
func (c *copyBuf) text(s string) {
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(len(s)))
	c.b = append(c.b, s...)
}

// textOrNull appends s, or NULL when s is nil.
func (c *copyBuf) textOrNull(s *string) {
	if s == nil {
		c.b = binary.BigEndian.AppendUint32(c.b, 0xFFFFFFFF)
		return
	}
	c.text(*s)
}

// bool appends a boolean field; its binary form is one byte, 1 or 0.
func (c *copyBuf) bool(v bool) {
	c.b = binary.BigEndian.AppendUint32(c.b, 1)
	if v {
		c.b = append(c.b, 1)
	} else {
		c.b = append(c.b, 0)
	}
}

// bytea appends a bytea field; its binary form is the bytes themselves.
func (c *copyBuf) bytea(v []byte) {
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(len(v)))
	c.b = append(c.b, v...)
}

// copyInto sends the rows of c into table's columns; it does nothing for no rows.
func copyInto(ctx context.Context, tx pgx.Tx, table, cols string, c *copyBuf) error {
	if c.rows == 0 {
		return nil
	}
	c.b = binary.BigEndian.AppendUint16(c.b, 0xFFFF) // the trailer
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(c.b), `COPY `+table+`(`+cols+`) FROM STDIN (FORMAT binary)`)
	if err != nil {
		return fmt.Errorf("copy into %s: %w", table, err)
	}
	if tag.RowsAffected() != int64(c.rows) {
		return fmt.Errorf("copy into %s: %d rows written of %d", table, tag.RowsAffected(), c.rows)
	}
	return nil
}
