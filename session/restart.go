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
// ahead. If it passes while the reader waits, the reading is handed to
// a new goroutine, which starts with the smallest stack, and the old one
// ends; the message being read, if any, is kept by the framing. A busy
// session is restarted at most once per restartAfter (a goroutine and a
// stack copy, about a microsecond), an idle one once. Only a
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
	conn  *framing.Conn // nil: the stream cannot take part
	after time.Duration // restartAfter
	armed bool          // the deadline is set
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
	if s.restart.conn.SetReadDeadline(time.Now().Add(s.restart.after)) == nil {
		s.restart.armed = true
	}
}

// restartReading reports whether err is the restart deadline passing;
// if so, a new goroutine reads on and the caller must end. The
// deadline is cleared first: if that fails (the connection is closing)
// it is not the restart's, and the caller handles err as any other.
func (s *Session) restartReading(err error) bool {
	if !s.restart.armed || !errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	s.restart.armed = false
	if s.restart.conn.SetReadDeadline(time.Time{}) != nil {
		return false
	}
	s.restarts.Add(1)
	s.takeOverReading()
	return true
}
