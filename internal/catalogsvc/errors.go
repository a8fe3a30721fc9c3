package catalogsvc

import (
	"backlot.dev/backlot/domain/fault"
)

// UnavailableError is a write that could not complete because a store did not answer.
type UnavailableError struct{ Err error }

// Error says what did not answer.
func (e *UnavailableError) Error() string { return "service unavailable: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *UnavailableError) Unwrap() error { return e.Err }

// Is reports whether target is fault.Unavailable.
func (e *UnavailableError) Is(target error) bool { return target == fault.Unavailable }

// ConflictError is a write that clashes with the catalog's state: Location is
// the location (type:target) concerned.
type ConflictError struct {
	Location string
	Msg      string
}

// Error returns the message.
func (e *ConflictError) Error() string { return e.Msg }

// Is reports whether target is fault.Conflict.
func (e *ConflictError) Is(target error) bool { return target == fault.Conflict }
