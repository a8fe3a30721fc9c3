//go:build !race

package event

// raceEnabled is set when the tests run with the race detector, under
// which sync.Pool drops what it is given at random.
const raceEnabled = false
