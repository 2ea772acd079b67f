package framing

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// scriptStep is one read of a scriptReader.
type scriptStep struct {
	data string
	n    int // returned count, if data is empty
	err  error
}

// scriptReader plays a list of reads.
type scriptReader []scriptStep

func (s *scriptReader) Read(p []byte) (int, error) {
	if len(*s) == 0 {
		return 0, io.EOF
	}
	step := (*s)[0]
	if step.data != "" && len(p) < len(step.data) {
		// What does not fit waits for the next read (a reader with
		// no buffer reads one byte first).
		(*s)[0].data = step.data[len(p):]
		return copy(p, step.data), nil
	}
	*s = (*s)[1:]
	if step.data != "" {
		return copy(p, step.data), step.err
	}
	return step.n, step.err
}

// TestReadErrors checks that an error of the underlying reader is
// returned once, after the bytes read with it, and that reading can go
// on after it (as after a deadline), for every reader.
func TestReadErrors(t *testing.T) {
	timeout := errors.New("timeout")
	script := func() *scriptReader {
		return &scriptReader{
			{data: "one\ntw", err: timeout},
			{err: timeout},
			{data: "o\n"},
		}
	}
	want := []result{{Msg: "one"}, {Err: "timeout"}, {Err: "timeout"}, {Msg: "two"}, {Err: "EOF"}}
	read := func(r func() ([]byte, error)) []result {
		var got []result
		for range len(want) {
			msg, err := r()
			got = append(got, result{Msg: string(msg), Err: kind(err)})
		}
		return got
	}
	t.Run("newline", func(t *testing.T) {
		got := read(Newline{}.NewReader(script()).ReadMessage)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("reads (-want +got):\n%s", diff)
		}
	})
	t.Run("length", func(t *testing.T) {
		got := read(LengthPrefixed{}.NewReader(&scriptReader{
			{data: lp(3, "one") + lp(3, "t"), err: timeout},
			{err: timeout},
			{data: "wo"},
		}).ReadMessage)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("reads (-want +got):\n%s", diff)
		}
	})
	t.Run("bitcoin", func(t *testing.T) {
		two := msgFrame("tx", "two")
		r := Bitcoin{}.NewReader(&scriptReader{
			{data: msgFrame("tx", "one") + two[:10], err: timeout},
			{err: timeout},
			{data: two[10:]},
		})
		got := read(func() ([]byte, error) {
			m, err := r.ReadMessage()
			return m.Payload, err
		})
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("reads (-want +got):\n%s", diff)
		}
	})
	t.Run("no progress", func(t *testing.T) {
		var s scriptReader
		for range maxEmptyReads {
			s = append(s, scriptStep{})
		}
		s = append(s, scriptStep{data: "late\n"})
		r := Newline{}.NewReader(&s)
		if _, err := r.ReadMessage(); err != io.ErrNoProgress {
			t.Errorf("got %v, want io.ErrNoProgress", err)
		}
		if msg, err := r.ReadMessage(); string(msg) != "late" || err != nil {
			t.Errorf("got %q, %v; want \"late\"", msg, err)
		}
	})
	for _, n := range []int{-1, 1 << 20} {
		t.Run(fmt.Sprint("count ", n), func(t *testing.T) {
			r := LengthPrefixed{}.NewReader(&scriptReader{{n: n}})
			if _, err := r.ReadMessage(); err != errBadRead {
				t.Errorf("count %d: got %v, want errBadRead", n, err)
			}
		})
	}
}

// A reader starts with a small buffer, which an idle connection keeps,
// and doubles it while reads keep filling it, up to burstSize.
func TestBufferAdaptsToTraffic(t *testing.T) {
	line := []byte(`{"jsonrpc":"2.0","id":1,"method":"echo","params":["x"]}` + "\n")
	// One message at a time, as a quiet connection delivers them.
	r := Newline{}.NewReader(iotest.OneByteReader(bytes.NewReader(line))).(*newlineReader)
	if _, err := r.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	if c := cap(r.in.buf); c != firstSize {
		t.Errorf("capacity %d after one small message, want %d", c, firstSize)
	}
	// A stream of pipelined messages, each read filling the buffer.
	stream := bytes.Repeat(line, 4000)
	r = Newline{}.NewReader(bytes.NewReader(stream)).(*newlineReader)
	peak := 0
	for {
		if _, err := r.ReadMessage(); err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
		peak = max(peak, cap(r.in.buf))
	}
	if peak != burstSize {
		t.Errorf("peak capacity %d while reading a burst, want %d", peak, burstSize)
	}
}
