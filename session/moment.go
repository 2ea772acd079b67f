package session

import (
	"sync/atomic"
	"time"
)

// moment is an instant in a session's life, held as the time since the
// session started (see Session.since), safe for concurrent use. Its
// zero value is "never".
type moment struct {
	v atomic.Int64 // 1 + nanoseconds since start; 0: never
}

// set records the instant d after the start.
func (m *moment) set(d time.Duration) { m.v.Store(int64(d) + 1) }

// clear makes it "never" again.
func (m *moment) clear() { m.v.Store(0) }

// get returns the instant, and false if it is "never".
func (m *moment) get() (time.Duration, bool) {
	v := m.v.Load()
	return time.Duration(v - 1), v != 0
}
