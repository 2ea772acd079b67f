package framing

import (
	"net"
	"testing"
)

func TestReleaseBuffer(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := NewStream(Newline{}, a)
	in := &c.r.(*newlineReader).in
	if in.buf != nil {
		t.Fatal("a new reader holds a buffer before its first byte")
	}
	go func() { _, _ = b.Write([]byte("first\nsecond\n")) }()
	for _, want := range []string{"first", "second"} {
		msg, err := c.ReadMessage()
		if err != nil || string(msg) != want {
			t.Fatalf("ReadMessage = %q, %v; want %q", msg, err, want)
		}
		if want == "first" && c.ReleaseBuffer() {
			t.Fatal("ReleaseBuffer let go of a buffer holding a message")
		}
	}
	if !c.ReleaseBuffer() || in.buf != nil {
		t.Fatal("ReleaseBuffer kept the buffer of an idle reader")
	}
	// After the release the next message is read whole, and a framer
	// whose reader is not known to resume keeps its buffer.
	go func() { _, _ = b.Write([]byte("third\n")) }()
	if msg, err := c.ReadMessage(); err != nil || string(msg) != "third" {
		t.Fatalf("ReadMessage = %q, %v; want third", msg, err)
	}
	if NewStream(RawJSON{}, a).ReleaseBuffer() {
		t.Error("ReleaseBuffer of a RawJSON stream reported a release")
	}
}
