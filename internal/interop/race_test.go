//go:build race

package interop

// raceEnabled builds the example programs with the race detector too
// when the tests run under it, so that a race in a process fails its
// exit status check.
const raceEnabled = true
