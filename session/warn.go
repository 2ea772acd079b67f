package session

import (
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// warnEvery is the least time between two warnings a peer can trigger
// in one session; those in between are counted and the count is added
// to the next warning.
const warnEvery = time.Second

// warnLimit rate-limits the warnings a peer's messages trigger, so that
// a flood of bad messages cannot flood the log.
type warnLimit struct {
	last       moment
	suppressed atomic.Int64
}

// peerWarn logs msg at warning level unless another peer-triggered
// warning was logged less than warnEvery ago.
func (s *Session) peerWarn(msg string, fields ...zap.Field) {
	now := s.since()
	if last, ok := s.warns.last.get(); ok && now-last < warnEvery {
		s.warns.suppressed.Add(1)
		return
	}
	s.warns.last.set(now)
	if n := s.warns.suppressed.Swap(0); n > 0 {
		fields = append(fields, zap.Int64("suppressed", n))
	}
	s.log.Warn(msg, fields...)
}
