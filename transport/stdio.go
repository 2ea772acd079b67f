package transport

import (
	"errors"
	"sync"
)

// ErrStdioInUse is returned by [Stdio] while a Pipe it returned is
// still open: the program has one standard input and output.
var ErrStdioInUse = errors.New("transport: standard input and output already in use by a Pipe from Stdio")

var stdio struct {
	mu   sync.Mutex
	open bool
}

// Stdio returns a [*Pipe] over the program's own standard input (read)
// and standard output (written), for a program that serves a peer
// which started it: a language server, a tool server in the style of
// MCP, or the child end of [Command]. Run a session over it with
// framing.NewStream(framer, pipe), or with server.ServeStdio. While
// the Pipe is open nothing else in the program may read os.Stdin or
// write os.Stdout (logs go to standard error).
//
// On Unix systems the Pipe reads and writes duplicates of descriptors
// 0 and 1, and its Close
//
//   - makes a Read or Write blocked on a pipe or a socket return at
//     once (an error matching os.ErrClosed): such a descriptor is put
//     in non-blocking mode while the Pipe is open, unless standard
//     error is the same pipe or socket, whose writers expect a blocking
//     descriptor, and is given back in the mode it had. A Read blocked
//     on a terminal or a file returns when input comes;
//   - points descriptors 0 and 1 at /dev/null, so that the peer reads
//     the end of the stream and its writes fail, while os.Stdin and
//     os.Stdout stay valid files (reads give io.EOF, writes are
//     discarded) and no later file can take their numbers.
//
// Elsewhere the Pipe reads os.Stdin and writes os.Stdout themselves,
// and Close closes both.
//
// Stdio returns [ErrStdioInUse] while a Pipe from an earlier call is
// open, or the error of duplicating a descriptor (a descriptor that is
// not open, for one).
func Stdio() (*Pipe, error) {
	stdio.mu.Lock()
	defer stdio.mu.Unlock()
	if stdio.open {
		return nil, ErrStdioInUse
	}
	s, err := openStdio()
	if err != nil {
		return nil, err
	}
	stdio.open = true
	p := NewPipe(s.in, s.out)
	p.hook = func() error {
		err := s.release()
		stdio.mu.Lock()
		stdio.open = false
		stdio.mu.Unlock()
		return err
	}
	return p, nil
}
