package framing

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// nopConn is a connection with no deadlines.
type nopConn struct{ io.Reader }

func (nopConn) Write(p []byte) (int, error) { return len(p), nil }
func (nopConn) Close() error                { return nil }

func TestSetReadDeadline(t *testing.T) {
	for _, tc := range []struct {
		name    string
		framer  Framer
		frame   []byte // a frame of the message "hello"
		resumes bool
	}{
		{"newline", Newline{}, []byte("hello\n"), true},
		{"length", LengthPrefixed{}, []byte("\x00\x00\x00\x05hello"), true},
		{"varint", VarintPrefixed{}, []byte("\x05hello"), true},
		{"rawjson", RawJSON{}, []byte(`"hello"`), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := net.Pipe()
			defer a.Close()
			defer b.Close()
			c := NewStream(tc.framer, a)
			err := c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			if !tc.resumes {
				if !errors.Is(err, os.ErrNoDeadline) {
					t.Fatalf("SetReadDeadline = %v, want os.ErrNoDeadline", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// Half a frame, then the deadline passes: the half is kept.
			half := len(tc.frame) / 2
			go func() { _, _ = b.Write(tc.frame[:half]) }()
			if _, err := c.ReadMessage(); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("ReadMessage = %v, want a deadline error", err)
			}
			if err := c.SetReadDeadline(time.Time{}); err != nil {
				t.Fatal(err)
			}
			go func() { _, _ = b.Write(tc.frame[half:]) }()
			msg, err := c.ReadMessage()
			if err != nil || string(msg) != "hello" {
				t.Fatalf("ReadMessage = %q, %v; want hello", msg, err)
			}
		})
	}
	t.Run("no deadlines", func(t *testing.T) {
		c := NewStream(Newline{}, nopConn{eofReader{}})
		if err := c.SetReadDeadline(time.Time{}); !errors.Is(err, os.ErrNoDeadline) {
			t.Fatalf("SetReadDeadline = %v, want os.ErrNoDeadline", err)
		}
	})
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
