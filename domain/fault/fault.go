package fault

import (
	"errors"
	"fmt"
)

// Category is one kind of failure. The set is fixed: the package's variables
// are every category there is, and they compare by identity.
type Category struct{ name string }

// Error returns the category's name, so a Category is itself an error that
// errors.Is can look for.
func (c *Category) Error() string { return c.name }

// String returns the category's name.
func (c *Category) String() string { return c.name }

// The categories.
var (
	// NotFound is a thing that does not exist: an entity, a location, a task,
	// a migration, a subscription, a repository.
	NotFound = &Category{"not found"}
	// Conflict is a change that clashes with the current state: a location
	// registered already, an entity another location owns, a task that can no
	// longer be cancelled.
	Conflict = &Category{"conflict"}
	// Invalid is input that cannot be accepted as sent: a malformed body,
	// parameter, descriptor, filter or report.
	Invalid = &Category{"invalid input"}
	// Unauthenticated is a request whose caller could not be identified, or
	// whose signature does not match.
	Unauthenticated = &Category{"unauthenticated"}
	// Forbidden is a caller or a target outside what was granted: a file
	// outside the configured roots, a host not allowed.
	Forbidden = &Category{"forbidden"}
	// Unavailable is a dependency that did not answer in time (the event log, a
	// read model, the workflow engine); the same request may succeed later.
	Unavailable = &Category{"unavailable"}
	// Upstream is a remote system this one called on the caller's behalf that
	// refused or failed, such as a webhook target.
	Upstream = &Category{"upstream"}
)

// categories lists every category, most specific first, for Of.
var categories = []*Category{NotFound, Conflict, Invalid, Unauthenticated, Forbidden, Unavailable, Upstream}

// Error is a failure of a category about one value (a ref, an id, a target, a
// field), with a message for people. It wraps its cause, if any.
type Error struct {
	// Category is what kind of failure this is.
	Category *Category
	// Value is the offending value: the ref, id, target or field concerned. It
	// may be empty.
	Value string
	// Message says what went wrong, for people.
	Message string
	// Err is the cause, or nil.
	Err error
}

// New returns an error of category c about value, its message formatted from
// format and args. An args value that is an error is not unwrapped; use Wrap to
// keep a cause.
func New(c *Category, value, format string, args ...any) *Error {
	return &Error{Category: c, Value: value, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of category c about value whose message is err's and
// that unwraps to err. It returns nil when err is nil.
func Wrap(c *Category, value string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Category: c, Value: value, Message: err.Error(), Err: err}
}

// Sentinel returns a fixed error of category c with the message msg, for a
// package's exported sentinel (var ErrNotFound = fault.Sentinel(fault.NotFound,
// "history: not found")): errors.Is matches both the sentinel itself and c.
func Sentinel(c *Category, msg string) error {
	return &Error{Category: c, Message: msg}
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause, or nil.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is e's category.
func (e *Error) Is(target error) bool {
	c, ok := target.(*Category)
	return ok && c == e.Category
}

// Of returns the category err belongs to, or nil when it belongs to none. When
// err's chain holds errors of several categories, the outermost one wins.
func Of(err error) *Category {
	for err != nil {
		if c, ok := err.(*Category); ok {
			return c
		}
		for _, c := range categories {
			if is, ok := err.(interface{ Is(error) bool }); ok && is.Is(c) {
				return c
			}
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if c := Of(e); c != nil {
					return c
				}
			}
			return nil
		default:
			return nil
		}
	}
	return nil
}

// ValueOf returns the offending value of the outermost *Error in err's chain,
// or "" when there is none.
func ValueOf(err error) string {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Value
	}
	return ""
}
