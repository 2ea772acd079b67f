package framing

import "io"

// Reader reads whole messages from a byte stream.
type Reader interface {
	// ReadMessage returns the next whole message, without its framing.
	// The returned slice is valid only until the next call to
	// ReadMessage; copy it to keep it. A framing violation is reported
	// as an error that implements [Error]; whether the reader can go
	// on after it is given by Error.Fatal. At the end of the stream it
	// returns io.EOF (io.ErrUnexpectedEOF inside a message).
	ReadMessage() ([]byte, error)
}

// Writer writes whole messages to a byte stream.
type Writer interface {
	// WriteMessage frames msg and writes it with a single Write call,
	// so that concurrent writers never interleave their bytes. It
	// returns an error if msg cannot be framed (for example it is over
	// the framer's limit) or the write fails.
	WriteMessage(msg []byte) error
}

// BatchWriter is implemented by writers that can write several
// messages with as few Write calls as possible (one where the
// messages fit in one buffer). A session uses it to coalesce replies
// that are ready at the same time.
type BatchWriter interface {
	// WriteMessages frames each message and writes them in order,
	// without interleaving with other writers. It returns the first
	// error met; messages after it are not written.
	WriteMessages(msgs [][]byte) error
}

// Stream is a two-way message stream: the abstraction the session
// layer consumes. A [Conn] made by [NewStream] satisfies it, and
// so does a WebSocket connection, whose own frames delimit messages.
type Stream interface {
	Reader
	Writer
	// Close closes the underlying connection; a blocked ReadMessage
	// returns an error.
	Close() error
}

// Framer describes one wire format that cuts a byte stream into
// messages: [Newline], [ContentLength], [RawJSON], [LengthPrefixed] and
// [VarintPrefixed] implement it, and so can a type of a program's own
// (see the package documentation for what its reader's errors must
// be). Framers are configuration values, safe for concurrent use; the
// readers they make are not.
type Framer interface {
	// AppendFrame appends msg, framed, to dst and returns the extended
	// buffer. It returns an error, and dst unchanged, if msg cannot be
	// framed (over the limit, or containing a newline for Newline).
	AppendFrame(dst, msg []byte) ([]byte, error)
	// NewReader returns a Reader of framed messages from r.
	NewReader(r io.Reader) Reader
}

// Error is implemented by every error a Reader returns because of what
// the peer sent (as opposed to I/O errors from the underlying reader).
// It is a contract, not only a type of this package: the Reader of a
// Framer written elsewhere returns an Error (made by [NewError] or
// [WrapError], or of its own type) to have a session treat it as it
// treats the errors of the built-in framers.
type Error interface {
	error
	// Fatal reports whether the stream cannot be read any further: a
	// reader that returned a fatal error keeps returning it.
	Fatal() bool
	// CostHint is the resource cost the session layer charges the peer
	// for this error, on top of the base cost of any error (aiorpcX
	// charges 1000 for bad magic, 500 for an oversized payload and 100
	// for a bad checksum). A session counts a negative or NaN hint as 0.
	CostHint() float64
}
