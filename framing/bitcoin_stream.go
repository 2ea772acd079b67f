package framing

import "io"

// BitcoinStream reads and writes [Bitcoin] messages over a byte
// connection, such as a net.Conn. Make one with [NewBitcoinStream].
//
// ReadMessage is for one goroutine at a time; WriteMessage may be called
// from any number of goroutines at once, also while ReadMessage runs;
// Close may be called at any time.
type BitcoinStream struct {
	rwc    io.ReadWriteCloser
	framer Bitcoin
	r      *BitcoinReader
	w      writer
}

// NewBitcoinStream returns a BitcoinStream on conn with the format b. It
// panics if conn is nil.
func NewBitcoinStream(b Bitcoin, conn io.ReadWriteCloser) *BitcoinStream {
	if conn == nil {
		panic("framing: NewBitcoinStream with a nil connection")
	}
	return &BitcoinStream{rwc: conn, framer: b, r: b.NewReader(conn)}
}

// ReadMessage returns the next message; its payload is valid until the
// next call to ReadMessage. Errors are those of
// [BitcoinReader.ReadMessage], and those of the connection. ReadMessage
// must not be called by two goroutines at once.
func (s *BitcoinStream) ReadMessage() (BitcoinMessage, error) { return s.r.ReadMessage() }

// WriteMessage frames the message (command, payload) and writes it with
// one Write call. It returns the error of [Bitcoin.AppendMessage] if the
// message cannot be framed (nothing is written), or the connection's
// error. After a failed Write every later write returns that error,
// since the peer may have received part of a message. WriteMessage is
// safe for concurrent use: messages never interleave.
func (s *BitcoinStream) WriteMessage(command string, payload []byte) error {
	bp := getBuf()
	buf, err := s.framer.AppendMessage(*bp, command, payload)
	if err == nil {
		s.w.mu.Lock()
		err = s.w.write(s.rwc, buf)
		s.w.mu.Unlock()
	}
	putBuf(bp, buf)
	return err
}

// Close closes the connection and returns its error. A ReadMessage
// blocked on the connection then returns an error, as do later writes.
// Close is safe for concurrent use.
func (s *BitcoinStream) Close() error { return s.rwc.Close() }
