//go:build race

package session

// raceEnabled: the race detector makes sync.Pool drop buffers at random,
// so allocation counts are not meaningful under it.
const raceEnabled = true
