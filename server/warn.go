package server

import (
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// warnEvery is the least time between two log lines of the same
// message that peers can trigger (refusals, evictions, failed
// handshakes); those in between are counted, and the count rides on
// the next line as the field "suppressed".
const warnEvery = time.Second

// warnLimiter rate-limits a server's peer-triggered log lines, per
// message. The messages are the server's own constants, so the table
// stays small.
type warnLimiter struct {
	mu    sync.Mutex
	byMsg map[string]*warnState
}

type warnState struct {
	last       time.Time
	suppressed int64
}

// allow reports whether a line of msg may be logged now, and how many
// were suppressed since the last one.
func (w *warnLimiter) allow(msg string, now time.Time) (bool, int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.byMsg == nil {
		w.byMsg = make(map[string]*warnState)
	}
	st := w.byMsg[msg]
	if st == nil {
		st = &warnState{}
		w.byMsg[msg] = st
	} else if now.Sub(st.last) < warnEvery {
		st.suppressed++
		return false, 0
	}
	st.last = now
	n := st.suppressed
	st.suppressed = 0
	return true, n
}

func (s *Server) limitedLog(level zapcore.Level, msg string, fields ...zap.Field) {
	if !s.log.Core().Enabled(level) {
		return
	}
	ok, n := s.warns.allow(msg, time.Now())
	if !ok {
		return
	}
	if n > 0 {
		fields = append(fields, zap.Int64("suppressed", n))
	}
	if ce := s.log.Check(level, msg); ce != nil {
		ce.Write(fields...)
	}
}

// warn logs a peer-triggered warning at a bounded rate.
func (s *Server) warn(msg string, fields ...zap.Field) {
	s.limitedLog(zapcore.WarnLevel, msg, fields...)
}

// limitedInfo logs a peer-triggered line at info level at a bounded rate.
func (s *Server) limitedInfo(msg string, fields ...zap.Field) {
	s.limitedLog(zapcore.InfoLevel, msg, fields...)
}
