package framing

import (
	"errors"
	"io"
	"os"
	"time"
)

// Conn is a [Stream] that frames messages over a byte connection, such as
// a net.Conn, with a [Framer]. It also implements [BatchWriter]. Make one
// with [NewStream].
//
// ReadMessage is for one goroutine at a time; WriteMessage and
// WriteMessages may be called from any number of goroutines at once,
// also while ReadMessage runs; Close may be called at any time.
type Conn struct {
	rwc    io.ReadWriteCloser
	framer Framer
	r      Reader
	w      writer
}

// NewStream returns a Conn that reads and writes messages on conn framed
// by f. It panics if f or conn is nil.
func NewStream(f Framer, conn io.ReadWriteCloser) *Conn {
	if f == nil || conn == nil {
		panic("framing: NewStream with a nil Framer or connection")
	}
	return &Conn{rwc: conn, framer: f, r: f.NewReader(conn)}
}

var (
	_ Stream      = (*Conn)(nil)
	_ BatchWriter = (*Conn)(nil)
)

// ReadMessage returns the next message. It is valid until the next call
// to ReadMessage. Errors are those of the framer's reader, and those of
// the connection. ReadMessage must not be called by two goroutines at
// once.
func (c *Conn) ReadMessage() ([]byte, error) { return c.r.ReadMessage() }

// Buffered returns the number of bytes read from the connection and not
// yet returned as messages: when it is 0, the next ReadMessage will wait
// for the connection. A session uses it to hold its replies while a
// burst of pipelined requests is still being read, and write them
// together. Like ReadMessage, it is for the reading goroutine.
func (c *Conn) Buffered() int {
	if b, ok := c.r.(interface{ Buffered() int }); ok {
		return b.Buffered()
	}
	return 0
}

// SetReadDeadline sets the read deadline of the connection, as
// net.Conn.SetReadDeadline does: a ReadMessage waiting when it passes
// returns an error that wraps os.ErrDeadlineExceeded, and the message it
// was reading is kept, so that the next ReadMessage goes on with it. A
// zero t means no deadline. It returns os.ErrNoDeadline, and changes
// nothing, if the connection has no read deadline or the framer's reader
// is not one known to go on after one (those of [Newline],
// [LengthPrefixed] and [VarintPrefixed] are); else the connection's
// error.
func (c *Conn) SetReadDeadline(t time.Time) error {
	d, ok := c.rwc.(interface{ SetReadDeadline(time.Time) error })
	if _, resumes := c.r.(resumer); !ok || !resumes {
		return os.ErrNoDeadline
	}
	return d.SetReadDeadline(t)
}

// resumer is a Reader of this package that keeps what it has read of a
// message when a read fails, and goes on with it at the next call, and
// can let its buffer go between messages.
type resumer interface {
	resumesAfterError()
	shed() bool
}

// ReleaseBuffer lets the read buffer go if it holds no unread bytes, so
// that a connection about to wait idle holds none: the next ReadMessage
// waits for the connection with no buffer, and makes one (of 512 bytes,
// growing as messages need) when bytes arrive. A reader that waits
// for the first message of a connection holds none either. Like
// ReadMessage, it is for the reading goroutine. It reports whether the
// buffer was let go: false if bytes are buffered, or the framer's reader
// is not one of [Newline], [LengthPrefixed] and [VarintPrefixed].
func (c *Conn) ReleaseBuffer() bool {
	r, ok := c.r.(resumer)
	return ok && r.shed()
}

// WriteMessage frames msg and writes it with one Write call. It returns
// the framer's error if msg cannot be framed (nothing is written), or
// the connection's error. After a failed Write every later write returns
// that error, since the peer may have received part of a frame.
// WriteMessage is safe for concurrent use: messages never interleave.
func (c *Conn) WriteMessage(msg []byte) error {
	bp := getBuf()
	buf, err := c.framer.AppendFrame(*bp, msg)
	if err == nil {
		c.w.mu.Lock()
		err = c.w.write(c.rwc, buf)
		c.w.mu.Unlock()
	}
	putBuf(bp, buf)
	return err
}

// WriteMessages frames msgs in order and writes them with as few Write
// calls as possible: one for all of them when their frames fit in
// 64 KiB, otherwise one per 64 KiB or so. No other write comes between
// them. If a message cannot be framed, the messages before it are
// written and the framer's error is returned; the messages from it on
// are not written. WriteMessages is safe for concurrent use.
func (c *Conn) WriteMessages(msgs [][]byte) error {
	bp := getBuf()
	buf := *bp
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	for _, msg := range msgs {
		var err error
		buf, err = c.framer.AppendFrame(buf, msg)
		if err != nil {
			if len(buf) > 0 {
				if werr := c.w.write(c.rwc, buf); werr != nil {
					err = errors.Join(werr, err)
				}
			}
			putBuf(bp, buf)
			return err
		}
		if len(buf) >= batchSize {
			if err := c.w.write(c.rwc, buf); err != nil {
				putBuf(bp, buf)
				return err
			}
			buf = buf[:0]
		}
	}
	var err error
	if len(buf) > 0 {
		err = c.w.write(c.rwc, buf)
	}
	putBuf(bp, buf)
	return err
}

// Close closes the connection and returns its error. A ReadMessage
// blocked on the connection then returns an error, as do later writes.
// Close is safe for concurrent use.
func (c *Conn) Close() error { return c.rwc.Close() }
