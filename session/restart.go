package session

import (
	"errors"
	"os"
	"time"

	"github.com/gorpcx/gorpcx/framing"
)

// A fresh reader for an idle session.
//
// A request served inline (inline.go) runs its handler, encodes its
// reply and writes it on the reader goroutine, whose stack grows past
// the runtime's smallest (2 KiB) to 4 KiB or more. The runtime shrinks a
// stack only while less than a quarter of it is in use, counting a fixed
// reserve for system calls, and a reader waiting on the connection uses
// more than that of a 4 KiB stack: an idle session would keep the stack
// its busiest request grew, for as long as it lives (4 KiB more than
// it needs, per session, on a server holding 10,000 idle ones).
//
// So after serving inline the reader sets a read deadline restartAfter
// ahead. If it passes while the reader waits and nothing was received
// since it was set, the reading is handed to a new goroutine, which
// starts with the smallest stack, and the old one ends; the message
// being read, if any, is kept by the framing. If something was received
// meanwhile, the session is busy and its stack in use: the deadline is
// only set again, restartAfter ahead (a wake-up and a timer, about a
// microsecond, once per restartAfter). So a busy session keeps its
// reader, and one gone idle gets a new one within two restartAfter,
// and lets its read buffer go (it waits with none until bytes come).
// Only a
// *framing.Conn whose framer keeps a partly read message across a failed
// read (framing.Conn.SetReadDeadline) takes part; other streams keep
// their reader.

// restartAfter is how long after serving a request inline the reader
// is replaced if it waits on the connection (a variable for the tests,
// read when a session is made).
var restartAfter = time.Second

// readerRestart is the reader's own state of the restart: only the
// goroutine reading touches it.
type readerRestart struct {
	conn     *framing.Conn // nil: the stream cannot take part
	after    time.Duration // restartAfter
	armed    bool          // the deadline is set
	received uint64        // messages received when it was set
}

// initRestart sets the session up for restarts if its stream can take
// part: clearing the deadline tells.
func (s *Session) initRestart(stream framing.Stream) {
	if fc, ok := stream.(*framing.Conn); ok && fc.SetReadDeadline(time.Time{}) == nil {
		s.restart.conn = fc
		s.restart.after = restartAfter
	}
}

// armRestart sets the deadline after a request served inline, unless
// it is set already.
func (s *Session) armRestart() {
	if s.restart.conn == nil || s.restart.armed {
		return
	}
	s.restart.armed = s.setRestartDeadline()
}

// setRestartDeadline sets the deadline restartAfter ahead and notes the
// messages received so far; it reports whether the deadline was set.
func (s *Session) setRestartDeadline() bool {
	s.restart.received = s.stats.recvCount.Load()
	return s.restart.conn.SetReadDeadline(time.Now().Add(s.restart.after)) == nil
}

// restartReading handles err if it is the restart deadline passing: it
// reports whether the caller must end (a new goroutine reads on), and
// sets resume if the caller must read on itself (the session was busy:
// the deadline is set again). If the deadline cannot be moved (the
// connection is closing) err is not the restart's, and the caller
// handles it as any other.
func (s *Session) restartReading(err error) (end, resume bool) {
	if !s.restart.armed || !errors.Is(err, os.ErrDeadlineExceeded) {
		return false, false
	}
	if s.stats.recvCount.Load() != s.restart.received {
		s.restart.armed = s.setRestartDeadline()
		return false, s.restart.armed
	}
	s.restart.armed = false
	if s.restart.conn.SetReadDeadline(time.Time{}) != nil {
		return false, false
	}
	// Idle: the read buffer goes too (framing.Conn.ReleaseBuffer), if
	// it holds nothing.
	s.restart.conn.ReleaseBuffer()
	s.restarts.Add(1)
	s.takeOverReading()
	return true, false
}
