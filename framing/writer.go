package framing

import (
	"io"
	"sync"
)

// writer serialises writes to w and remembers the first failure: after
// a failed or short Write the peer may have received part of a frame,
// so every later write returns the same error rather than send bytes
// the peer would misread.
type writer struct {
	mu  sync.Mutex
	err error // guarded by mu
}

// write writes p to w with one Write call; the caller holds mu.
func (wr *writer) write(w io.Writer, p []byte) error {
	if wr.err != nil {
		return wr.err
	}
	n, err := w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		wr.err = err
	}
	return err
}
