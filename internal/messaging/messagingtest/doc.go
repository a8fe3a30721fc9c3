// Package messagingtest holds what the tests of the Watermill pub/subs over
// Backlot's logs share: a cursor store kept in a file. The product never
// imports it.
package messagingtest
