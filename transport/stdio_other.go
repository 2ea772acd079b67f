//go:build !unix

package transport

import "os"

// stdioFiles are os.Stdin and os.Stdout themselves: there is no
// portable way here to interrupt a blocked read of them.
type stdioFiles struct {
	in, out *os.File
}

func openStdio() (*stdioFiles, error) {
	return &stdioFiles{in: os.Stdin, out: os.Stdout}, nil
}

// release has nothing to give back: the Pipe closed both files.
func (s *stdioFiles) release() error { return nil }
