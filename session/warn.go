package session

import (
	"math"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// peerLogEvery is the least time between two log lines of one kind that
// a peer can trigger in one session; those in between are counted, and
// the count rides on the next line of the kind.
const peerLogEvery = time.Second

// suppressedKey is the field of a peer-triggered line that counts the
// lines of its kind the session held back since the last one written.
// (Not "suppressed": a cap on the whole log, such as internal/logcap,
// may add that field to the same line.)
const suppressedKey = "session_suppressed"

// peerLine is a kind of log line that a peer can make a session write
// again and again. Each kind has its own limit, so that a flood of one
// (parse errors) does not hide another (a handler panic).
type peerLine uint8

const (
	lineUnsent peerLine = iota
	lineLate
	lineDropped
	lineUndecodable
	lineProtocolError
	lineMalformedResponse
	lineRefused
	lineIgnoredClosing
	lineHandlerFailed
	lineMessageHandlerFailed
	linePanic
	lineCannotEncode
	lineTimedOut
	lineTaskConcurrency
	lineOutgoingConcurrency
	lineWriteOverflow
	lineCancel
	peerLineKinds
)

// peerLineSpecs are the level and message of each kind.
var peerLineSpecs = [peerLineKinds]struct {
	level zapcore.Level
	msg   string
}{
	lineUnsent:               {zapcore.WarnLevel, "response to unsent request"},
	lineLate:                 {zapcore.DebugLevel, "dropping late response"},
	lineDropped:              {zapcore.WarnLevel, "dropping message"},
	lineUndecodable:          {zapcore.WarnLevel, "cannot decode message"},
	lineProtocolError:        {zapcore.DebugLevel, "protocol error"},
	lineMalformedResponse:    {zapcore.DebugLevel, "malformed response"},
	lineRefused:              {zapcore.WarnLevel, "incoming budget full while waiting for the peer; refusing request"},
	lineIgnoredClosing:       {zapcore.DebugLevel, "ignoring request while closing"},
	lineHandlerFailed:        {zapcore.WarnLevel, "handler failed"},
	lineMessageHandlerFailed: {zapcore.WarnLevel, "message handler failed"},
	linePanic:                {zapcore.ErrorLevel, "handler panicked"},
	lineCannotEncode:         {zapcore.ErrorLevel, "cannot encode reply"},
	lineTimedOut:             {zapcore.InfoLevel, "incoming request timed out"},
	lineTaskConcurrency:      {zapcore.InfoLevel, "changing task concurrency"},
	lineOutgoingConcurrency:  {zapcore.InfoLevel, "changing outgoing request concurrency"},
	lineWriteOverflow:        {zapcore.WarnLevel, "write buffer limit passed by a peer that does not read, aborting connection"},
	lineCancel:               {zapcore.WarnLevel, "cannot encode cancellation"},
}

// never is the last time of a kind never written.
const never = math.MinInt64

// lineLimit is the state of one kind in one session.
type lineLimit struct {
	last       atomic.Int64 // Clock time of the last line written, in Unix nanoseconds; never
	suppressed atomic.Int64 // held back since the last line written
}

// lineLimits is the state of every kind in one session, made at the first
// line a peer triggers: most sessions trigger none.
type lineLimits [peerLineKinds]lineLimit

// lineLimitState returns the session's lineLimits, making them if need
// be.
func (s *Session) lineLimitState() *lineLimits {
	if p := s.lineLimits.Load(); p != nil {
		return p
	}
	p := new(lineLimits)
	for i := range p {
		p[i].last.Store(never)
	}
	if s.lineLimits.CompareAndSwap(nil, p) {
		return p
	}
	return s.lineLimits.Load()
}

// peerLogBack is how far the clock may seem to go back, between two
// lines of one kind read on different goroutines, before it is taken to
// have really gone back.
const peerLogBack = 10 * peerLogEvery

// peerCheck decides whether a line of kind k is written: it returns the
// entry to write (with Write) and the count of lines of the kind held
// back since the last one, to write with [suppressed], or nil if the
// line is not written. A line is written if the logger enables its
// level and no line of its kind was written in the last peerLogEvery
// (by the session's Clock); otherwise it is counted, unless its level
// is not enabled. Fields are built by the caller only for a line
// written, so a flood costs a clock reading and two atomic operations
// per line.
func (s *Session) peerCheck(k peerLine) (*zapcore.CheckedEntry, int64) {
	spec := &peerLineSpecs[k]
	if !s.baseLog.Core().Enabled(spec.level) {
		return nil, 0
	}
	l := &s.lineLimitState()[k]
	now := s.cfg.clock.Now().UnixNano()
	last := l.last.Load()
	// Lines of one kind reach here from several goroutines, each with
	// its own reading of the clock: one older than the last line's is
	// an ordinary line (suppressed), and never moves the last line's
	// time back; only a clock that went back by more than peerLogBack
	// lets the line through.
	if d := now - last; last != never && d > -int64(peerLogBack) && d < int64(peerLogEvery) {
		l.suppressed.Add(1)
		return nil, 0
	}
	if !l.last.CompareAndSwap(last, now) {
		// Another line of the kind was written just now.
		l.suppressed.Add(1)
		return nil, 0
	}
	n := l.suppressed.Swap(0)
	ce := s.logger().Check(spec.level, spec.msg)
	if ce == nil {
		// Dropped further on (a cap on the whole log counts it there):
		// the count it would have carried waits for the next line.
		if n > 0 {
			l.suppressed.Add(n)
		}
		return nil, 0
	}
	return ce, n
}

// suppressed is the field that reports n lines held back, or no field
// if n is 0.
func suppressed(n int64) zap.Field {
	if n == 0 {
		return zap.Skip()
	}
	return zap.Int64(suppressedKey, n)
}

// flushPeerLogs writes, when the session has ended, the counts of lines
// held back that no later line reported: one line, "log lines
// suppressed", at the highest level among them, with the count of each
// kind under its message.
func (s *Session) flushPeerLogs() {
	p := s.lineLimits.Load()
	if p == nil {
		return
	}
	var counts [peerLineKinds]int64
	level := zapcore.DebugLevel
	held := false
	for k := range p {
		if n := p[k].suppressed.Swap(0); n > 0 {
			counts[k] = n
			level = max(level, peerLineSpecs[k].level)
			held = true
		}
	}
	if !held {
		return
	}
	ce := s.logger().Check(level, "log lines suppressed")
	if ce == nil {
		return
	}
	fields := make([]zap.Field, 0, peerLineKinds)
	for k, n := range counts {
		if n > 0 {
			fields = append(fields, zap.Int64(peerLineSpecs[k].msg, n))
		}
	}
	ce.Write(zap.Dict("lines", fields...))
}

// logger returns the session's logger: Options.Logger with the
// session's name and peer as fields. It is made at the first line
// written, so that a session that never logs (most) holds no logger
// of its own.
func (s *Session) logger() *zap.Logger {
	if l := s.log.Load(); l != nil {
		return l
	}
	fields := []zap.Field{zap.String("session", s.name)}
	if s.peer != "" {
		fields = append(fields, zap.String("peer", s.peer))
	}
	l := s.baseLog.With(fields...)
	if s.log.CompareAndSwap(nil, l) {
		return l
	}
	return s.log.Load()
}

// check is the logger's Check for lines of the session's own, made
// without the session's logger when the level is off.
func (s *Session) check(level zapcore.Level, msg string) *zapcore.CheckedEntry {
	if !s.baseLog.Core().Enabled(level) {
		return nil
	}
	return s.logger().Check(level, msg)
}
