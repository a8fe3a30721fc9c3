// Package fault is Backlot's small, fixed set of error categories: not found,
// conflict, invalid input, unauthenticated, forbidden, unavailable and upstream.
// Services and stores say what went wrong by category; they never say how a
// transport reports it. The HTTP server maps each category, in one function, to
// a status code and Backstage's error name; the CLI and other callers test
// categories with errors.Is.
//
// An error belongs to a category when errors.Is(err, category) is true. Three
// shapes do that:
//
//   - an *Error made by New or Wrap, which also carries the offending value;
//   - a sentinel made by Sentinel, for stores that compare with errors.Is
//     against their own ErrNotFound while the edge matches the category;
//   - a package's own typed error whose Is method answers true for its
//     category (a type that carries more than one value, such as a list of
//     problems).
//
// It imports only the standard library.
package fault
