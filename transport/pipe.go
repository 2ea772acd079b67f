package transport

import (
	"errors"
	"io"
	"sync"
)

// Pipe joins a reader and a writer into one byte stream, an
// io.ReadWriteCloser that a session can run over
// (framing.NewStream(framer, pipe)): reads come from one side and writes
// go to the other, as with a program's standard input and output
// ([Stdio]) or two pipes of the program's own ([NewPipe]).
//
// One goroutine may read while others write, as the reader and writer
// beneath allow; Close and CloseWrite may be called from any goroutine,
// any number of times.
type Pipe struct {
	r io.ReadCloser
	w io.WriteCloser

	rOnce, wOnce, hookOnce sync.Once
	// hook, if not nil, runs once after both sides are closed (Stdio:
	// gives the program's standard descriptors back).
	hook func() error
}

// NewPipe returns a Pipe that reads from r and writes to w. Close
// closes w, then r. It panics if r or w is nil.
func NewPipe(r io.ReadCloser, w io.WriteCloser) *Pipe {
	if r == nil || w == nil {
		panic("transport: NewPipe with a nil reader or writer")
	}
	return &Pipe{r: r, w: w}
}

// Read reads from the reading side, as its Read does; at its end it
// returns io.EOF. After Close it returns the reader's error for a read
// after close (os.ErrClosed for an *os.File).
func (p *Pipe) Read(b []byte) (int, error) { return p.r.Read(b) }

// Write writes to the writing side, as its Write does. After Close or
// CloseWrite it returns the writer's error for a write after close
// (os.ErrClosed for an *os.File).
func (p *Pipe) Write(b []byte) (int, error) { return p.w.Write(b) }

// CloseWrite closes the writing side only, so that the peer reads the
// end of the stream while this side can still read its answer
// (half-close). It returns the writer's Close error the first time, and
// nil afterwards.
func (p *Pipe) CloseWrite() error {
	var err error
	p.wOnce.Do(func() { err = p.w.Close() })
	return err
}

// Close closes the writing side (the peer reads the end of the stream),
// then the reading side, and returns the errors of those closes not
// already reported (by an earlier Close or CloseWrite), joined. Whether
// a Read or Write blocked at that moment returns depends on the reader
// and writer: for a pipe made by os.Pipe it does at once; see [Stdio]
// for the program's standard input and output.
func (p *Pipe) Close() error {
	errW := p.CloseWrite()
	var errR, errH error
	p.rOnce.Do(func() { errR = p.r.Close() })
	if p.hook != nil {
		p.hookOnce.Do(func() { errH = p.hook() })
	}
	return errors.Join(errW, errR, errH)
}
