package framing

import (
	"errors"
	"io"
)

const (
	// readSize is the size of one read buffer: a reader asks the
	// underlying reader for at least this much when it has room, and
	// holds at most the limit plus this much.
	readSize = 4096

	// minRead is the least free space a read is attempted with; below
	// it the buffer is compacted or grown first.
	minRead = 128

	// firstSize is the size of a reader's first buffer, made when the
	// first byte arrives: small, since a connection that goes quiet
	// keeps it until its reader lets it go (Conn.ReleaseBuffer). A read
	// that fills the buffer doubles it for the next read, up to
	// burstSize, so that a busy connection reads many messages at once.
	firstSize = 512
	burstSize = 64 << 10

	// shrinkSize: a buffer grown past this size for one large message
	// is released before the next message, so that a connection does
	// not keep a big buffer after one big message.
	shrinkSize = 1 << 20

	// maxEmptyReads is how many (0, nil) reads in a row are tolerated
	// before io.ErrNoProgress is returned.
	maxEmptyReads = 100
)

// errBadRead is returned when the underlying reader reports an
// impossible byte count.
var errBadRead = errors.New("framing: underlying reader returned an invalid count")

// inbuf is the input buffer every reader of this package is built on:
// buf[r:w] holds the bytes read from rd and not consumed yet. It grows
// only as bytes arrive, never from a size announced by the peer.
//
// A reader that holds nothing has no buffer: it waits for the
// connection with one byte of room, in one, and makes its buffer when
// that byte arrives (the rest of what arrived is read at once, without
// waiting). So a connection that never sends, or one whose buffer was
// let go while it was idle (shed), holds no read buffer at all.
type inbuf struct {
	rd   io.Reader
	buf  []byte
	r, w int
	err  error   // read error to return once buffered bytes are used
	full bool    // the last read filled the buffer: more may be waiting
	one  [1]byte // room of the read that waits with no buffer
}

func (b *inbuf) buffered() int { return b.w - b.r }

// release drops a buffer grown past shrinkSize, keeping the unread
// bytes, when they are few. It is called between messages, when no
// returned slice is valid any more.
func (b *inbuf) release() {
	if cap(b.buf) > shrinkSize && b.buffered() <= readSize {
		nb := make([]byte, readSize)
		b.w = copy(nb, b.buf[b.r:b.w])
		b.r = 0
		b.buf = nb
	}
}

// fill reads once from rd, appending at least one byte to the unread
// bytes or returning an error. ceiling bounds the capacity the buffer
// may grow to (negative: no bound); callers pass a ceiling at least
// minRead above the unread bytes they need to keep, so compaction alone
// makes room once the ceiling is reached.
func (b *inbuf) fill(ceiling int) error {
	if b.err != nil {
		err := b.err
		b.err = nil
		return err
	}
	if b.r == b.w {
		b.r, b.w = 0, 0
	}
	if cap(b.buf) == 0 {
		return b.fillFirst()
	}
	// The last read filled the buffer: more is probably waiting, so the
	// buffer doubles (up to burstSize, and within the ceiling) to read
	// more at once.
	burst := b.full && cap(b.buf) < burstSize && (ceiling < 0 || cap(b.buf) < ceiling)
	if cap(b.buf)-b.w < minRead || burst {
		if b.r > 0 {
			b.w = copy(b.buf, b.buf[b.r:b.w])
			b.r = 0
		}
		if cap(b.buf)-b.w < minRead || burst {
			b.grow(ceiling)
		}
	}
	b.buf = b.buf[:cap(b.buf)]
	for range maxEmptyReads {
		n, err := b.rd.Read(b.buf[b.w:])
		if n < 0 || n > len(b.buf)-b.w {
			return errBadRead
		}
		b.full = n == len(b.buf)-b.w
		b.w += n
		if err != nil {
			if n > 0 {
				b.err = err
				return nil
			}
			return err
		}
		if n > 0 {
			return nil
		}
	}
	return io.ErrNoProgress
}

// fillFirst is fill with no buffer: it reads one byte into one, then
// makes the buffer for it and what follows.
func (b *inbuf) fillFirst() error {
	for range maxEmptyReads {
		n, err := b.rd.Read(b.one[:])
		switch {
		case n < 0 || n > 1:
			return errBadRead
		case n == 1:
			b.buf = make([]byte, firstSize)
			b.buf[0] = b.one[0]
			b.r, b.w, b.full = 0, 1, false
			b.err = err
			return nil
		case err != nil:
			return err
		}
	}
	return io.ErrNoProgress
}

// shed lets the buffer go if it holds no unread bytes (and no error to
// return), so that a reader about to wait on an idle connection holds
// none; it reports whether it did.
func (b *inbuf) shed() bool {
	if b.r != b.w || b.err != nil {
		return false
	}
	b.buf, b.r, b.w, b.full = nil, 0, 0, false
	return true
}

// grow enlarges the buffer, doubling it, to at most ceiling.
func (b *inbuf) grow(ceiling int) {
	n := max(2*cap(b.buf), b.w+minRead, firstSize)
	if ceiling >= 0 && n > ceiling {
		n = max(ceiling, b.w+1)
	}
	if n <= cap(b.buf) {
		return // at the ceiling already: the compaction made the room
	}
	nb := make([]byte, n)
	copy(nb, b.buf[:b.w])
	b.buf = nb
}

// frameCeiling is the capacity ceiling while a frame of n bytes is
// assembled: the frame plus one read buffer, and at least burstSize, so
// that small frames arriving fast are read many at a time, as newline
// messages are.
func frameCeiling(n int) int { return max(max(n, readSize)+readSize, burstSize) }

// need reads until at least n bytes are unread. At the end of the
// stream it returns io.EOF if nothing at all was buffered and
// io.ErrUnexpectedEOF otherwise.
func (b *inbuf) need(n int) error {
	for b.buffered() < n {
		if err := b.fill(frameCeiling(n)); err != nil {
			return eofIn(err, b.buffered() > 0)
		}
	}
	return nil
}

// eofIn turns io.EOF into io.ErrUnexpectedEOF when it cuts a message.
func eofIn(err error, inMessage bool) error {
	if err == io.EOF && inMessage {
		return io.ErrUnexpectedEOF
	}
	return err
}
