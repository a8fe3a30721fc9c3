package sqlitelog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// This file reads a log file through SQLite's own interface (the library
// under the database/sql driver), for Stream's single query: a row's
// columns are read as views of SQLite's memory and copied once into memory
// shared by the batch, not each into its own allocation behind locks and
// interface values. On the 100k dev log the driver's row cost most of the
// read: its locks, a boxed integer, a string and a byte slice allocated for
// every row, and each event's copy into its batch.

// rawConn is a read-only connection to a SQLite file. It must be used by one
// goroutine, which closes it.
type rawConn struct {
	tls *libc.TLS
	db  uintptr
}

// openRaw opens the file at path read-only and runs pragmas (statements
// such as "PRAGMA query_only=1") on the connection.
func openRaw(path string, pragmas ...string) (*rawConn, error) {
	c := &rawConn{tls: libc.NewTLS()}
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	name, err := libc.CString("file:" + (&url.URL{Path: p}).EscapedPath() + "?mode=ro")
	if err != nil {
		c.tls.Close()
		return nil, err
	}
	defer libc.Xfree(c.tls, name)
	pdb := libc.Xmalloc(c.tls, 8)
	if pdb == 0 {
		c.tls.Close()
		return nil, errors.New("out of memory")
	}
	defer libc.Xfree(c.tls, pdb)
	libc.Xmemset(c.tls, pdb, 0, 8)
	rc := sqlite3.Xsqlite3_open_v2(c.tls, name, pdb, sqlite3.SQLITE_OPEN_READONLY|sqlite3.SQLITE_OPEN_URI|sqlite3.SQLITE_OPEN_FULLMUTEX, 0)
	c.db = uintptr(binary.NativeEndian.Uint64(libc.GoBytes(pdb, 8)))
	if rc != sqlite3.SQLITE_OK {
		err := c.err(rc)
		c.close()
		return nil, err
	}
	for _, q := range pragmas {
		if err := c.exec(q); err != nil {
			c.close()
			return nil, err
		}
	}
	return c, nil
}

// err describes the result code rc with the connection's last message.
func (c *rawConn) err(rc int32) error {
	msg := ""
	if c.db != 0 {
		msg = libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db))
	}
	if msg == "" {
		msg = libc.GoString(sqlite3.Xsqlite3_errstr(c.tls, rc))
	}
	return fmt.Errorf("%s (%d)", msg, rc)
}

// exec runs one statement that returns no rows.
func (c *rawConn) exec(q string) error {
	s, err := c.prepare(q)
	if err != nil {
		return err
	}
	defer s.close()
	for {
		more, err := s.step()
		if err != nil || !more {
			return err
		}
	}
}

// close closes the connection (its statements must be closed).
func (c *rawConn) close() {
	if c.db != 0 {
		sqlite3.Xsqlite3_close_v2(c.tls, c.db)
		c.db = 0
	}
	c.tls.Close()
}

// rawStmt is a prepared statement of a rawConn.
type rawStmt struct {
	c    *rawConn
	stmt uintptr
}

// prepare compiles the statement q.
func (c *rawConn) prepare(q string) (*rawStmt, error) {
	sql, err := libc.CString(q)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(c.tls, sql)
	pstmt := libc.Xmalloc(c.tls, 8)
	if pstmt == 0 {
		return nil, errors.New("out of memory")
	}
	defer libc.Xfree(c.tls, pstmt)
	libc.Xmemset(c.tls, pstmt, 0, 8)
	if rc := sqlite3.Xsqlite3_prepare_v2(c.tls, c.db, sql, -1, pstmt, 0); rc != sqlite3.SQLITE_OK {
		return nil, c.err(rc)
	}
	s := &rawStmt{c: c, stmt: uintptr(binary.NativeEndian.Uint64(libc.GoBytes(pstmt, 8)))}
	if s.stmt == 0 {
		return nil, errors.New("empty statement")
	}
	return s, nil
}

// bind binds args (strings and int64s) to the statement's parameters in
// order.
func (s *rawStmt) bind(args []any) error {
	for i, a := range args {
		var rc int32
		switch v := a.(type) {
		case int64:
			rc = sqlite3.Xsqlite3_bind_int64(s.c.tls, s.stmt, int32(i+1), v)
		case string:
			p, err := libc.CString(v)
			if err != nil {
				return err
			}
			// SQLITE_TRANSIENT: SQLite copies the text before this returns.
			rc = sqlite3.Xsqlite3_bind_text(s.c.tls, s.stmt, int32(i+1), p, int32(len(v)), ^uintptr(0))
			libc.Xfree(s.c.tls, p)
		default:
			return fmt.Errorf("bind %T", a)
		}
		if rc != sqlite3.SQLITE_OK {
			return s.c.err(rc)
		}
	}
	return nil
}

// step moves to the next row and reports whether there is one.
func (s *rawStmt) step() (bool, error) {
	switch rc := sqlite3.Xsqlite3_step(s.c.tls, s.stmt); rc {
	case sqlite3.SQLITE_ROW:
		return true, nil
	case sqlite3.SQLITE_DONE:
		return false, nil
	default:
		return false, s.c.err(rc)
	}
}

// int64 is column i of the current row as an integer.
func (s *rawStmt) int64(i int) int64 {
	return sqlite3.Xsqlite3_column_int64(s.c.tls, s.stmt, int32(i))
}

// bytes is column i of the current row as bytes (text or blob), nil when
// it is NULL or empty: a view of SQLite's memory, valid until the next step.
func (s *rawStmt) bytes(i int) []byte {
	p := sqlite3.Xsqlite3_column_blob(s.c.tls, s.stmt, int32(i))
	n := int(sqlite3.Xsqlite3_column_bytes(s.c.tls, s.stmt, int32(i)))
	if p == 0 || n == 0 {
		return nil
	}
	return libc.GoBytes(p, n)
}

// close finalizes the statement.
func (s *rawStmt) close() {
	if s.stmt != 0 {
		sqlite3.Xsqlite3_finalize(s.c.tls, s.stmt)
		s.stmt = 0
	}
}
