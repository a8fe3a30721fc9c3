package catalog

import (
	"errors"
	"fmt"
	"strings"

	"backlot.dev/backlot/domain/fault"
)

// ErrNotAllowed marks a target outside what Backlot was configured to read. It
// belongs to fault.Forbidden.
var ErrNotAllowed = fault.Sentinel(fault.Forbidden, "not allowed")

// FieldError is one validation failure: the field path (metadata.name,
// spec.dependsOn[1]) and what is wrong with it.
type FieldError struct {
	Field   string
	Message string
}

// Error returns "field: message".
func (e FieldError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// ValidationError lists every field error of one entity.
type ValidationError struct {
	// Entity is the entity's ref when its kind and name could be read, else empty.
	Entity string
	// Fields holds the failures in the order they were found; never empty.
	Fields []FieldError
}

// Error joins the field errors, prefixed with the entity's ref when known.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Error()
	}
	msg := strings.Join(parts, "; ")
	if e.Entity != "" {
		return e.Entity + ": " + msg
	}
	return msg
}

// Is reports whether target is fault.Invalid: an entity that fails validation
// is invalid input.
func (e *ValidationError) Is(target error) bool { return target == fault.Invalid }

// DocumentError is a problem with one document of a descriptor file.
type DocumentError struct {
	// File is the file or URL the document was read from.
	File string
	// Document is the zero-based index of the document in File; -1 for the file.
	Document int
	// Line is the 1-based line in File where the document or field starts, if known.
	Line int
	// Entity is the ref of the entity the document describes, when known.
	Entity string
	// Field is the offending field path, when known.
	Field string
	// Err is the underlying problem.
	Err error
}

// Error names the file, the document index, the entity and the field.
func (e *DocumentError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Document >= 0 {
		fmt.Fprintf(&b, ": document %d", e.Document)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", e.Line)
	}
	if e.Entity != "" {
		fmt.Fprintf(&b, ": entity %s", e.Entity)
	}
	var ve *ValidationError
	if errors.As(e.Err, &ve) {
		parts := make([]string, len(ve.Fields))
		for i, f := range ve.Fields {
			parts[i] = f.Error()
		}
		b.WriteString(": ")
		b.WriteString(strings.Join(parts, "; "))
		return b.String()
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying problem.
func (e *DocumentError) Unwrap() error { return e.Err }
