package framing

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNewlineRead(t *testing.T) {
	long := strings.Repeat("x", DefaultMax)
	tests := []struct {
		name  string
		max   int
		input string
		want  []result
		big   bool // too big to feed a byte at a time
	}{
		{name: "empty", input: "", want: []result{{Err: "EOF"}}},
		{name: "one", input: "a\n", want: []result{{Msg: "a"}, {Err: "EOF"}}},
		{name: "empty lines", input: "\n\n", want: []result{{}, {}, {Err: "EOF"}}},
		{name: "carriage return kept", input: "a\r\n", want: []result{{Msg: "a\r"}, {Err: "EOF"}}},
		{name: "several", input: "one\ntwo\nthree\n", want: []result{{Msg: "one"}, {Msg: "two"}, {Msg: "three"}, {Err: "EOF"}}},
		{name: "cut line", input: "one\ntw", want: []result{{Msg: "one"}, {Err: "UnexpectedEOF"}}},
		{name: "exactly max", max: 5, input: "12345\n", want: []result{{Msg: "12345"}, {Err: "EOF"}}},
		{name: "max plus one", max: 5, input: "123456\n", want: []result{{Err: "TooLarge"}, {Err: "EOF"}}},
		{name: "resync", max: 5, input: "123456\nok\n", want: []result{{Err: "TooLarge"}, {Msg: "ok"}, {Err: "EOF"}}},
		{name: "resync after long line", max: 5, input: strings.Repeat("y", 9000) + "\nok\n12345\n",
			want: []result{{Err: "TooLarge"}, {Msg: "ok"}, {Msg: "12345"}, {Err: "EOF"}}},
		{name: "two long lines", max: 3, input: "abcd\nefghij\nkl\n", want: []result{{Err: "TooLarge"}, {Err: "TooLarge"}, {Msg: "kl"}, {Err: "EOF"}}},
		{name: "long line cut", max: 5, input: "ok\n1234567", want: []result{{Msg: "ok"}, {Err: "TooLarge"}, {Err: "UnexpectedEOF"}}},
		{name: "default limit exact", input: long + "\nok\n", want: []result{{Msg: long}, {Msg: "ok"}, {Err: "EOF"}}, big: true},
		{name: "default limit plus one", input: long + "x\nok\n", want: []result{{Err: "TooLarge"}, {Msg: "ok"}, {Err: "EOF"}}, big: true},
		{name: "no limit", max: NoLimit, input: long + long + "\nok\n", want: []result{{Msg: long + long}, {Msg: "ok"}, {Err: "EOF"}}, big: true},
	}
	for _, tt := range tests {
		for cname, sizes := range chunkings {
			if tt.big && len(sizes) > 0 && sizes[0] < 4096 {
				continue
			}
			for _, eofWithData := range []bool{false, true} {
				t.Run(tt.name+"/"+cname, func(t *testing.T) {
					r := Newline{Max: tt.max}.NewReader(&chunkReader{data: []byte(tt.input), sizes: sizes, eofWithData: eofWithData})
					got := readAll(r, len(tt.want)+2)
					if diff := cmp.Diff(tt.want, got); diff != "" {
						t.Errorf("reads (-want +got):\n%s", diff)
					}
				})
			}
		}
	}
}

// errWouldBlock stands for a read that would wait for the peer.
var errWouldBlock = errors.New("would block")

// feedReader returns what was fed to it, then errWouldBlock.
type feedReader struct{ data []byte }

func (f *feedReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, errWouldBlock
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// TestNewlineLimitIsExact checks that a line is rejected as soon as one
// byte more than the limit has arrived, without waiting for its end, and
// that what follows is dropped without being buffered.
func TestNewlineLimitIsExact(t *testing.T) {
	feed := &feedReader{}
	r := Newline{Max: 5}.NewReader(feed)
	nr := r.(*newlineReader)
	step := func(data, wantMsg string, wantErr error) {
		t.Helper()
		feed.data = append(feed.data, data...)
		msg, err := r.ReadMessage()
		if string(msg) != wantMsg || kind(err) != kind(wantErr) {
			t.Fatalf("after feeding %q: got %q, %v; want %q, %v", data, msg, err, wantMsg, wantErr)
		}
	}
	step("12345", "", errWouldBlock) // max bytes: wait for the newline
	step("\n", "12345", nil)
	step("12345", "", errWouldBlock)
	step("6", "", &TooLargeError{}) // max+1 bytes: rejected at once
	step("789", "", errWouldBlock)  // dropped
	if n := nr.in.buffered(); n != 0 {
		t.Errorf("reader buffers %d bytes of a dropped line", n)
	}
	step("0\nok", "", errWouldBlock)
	step("\n", "ok", nil)
}

// repeatReader yields n copies of a byte, then tail.
type repeatReader struct {
	n    int64
	b    byte
	tail []byte
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		if len(r.tail) == 0 {
			return 0, io.EOF
		}
		n := copy(p, r.tail)
		r.tail = r.tail[n:]
		return n, nil
	}
	n := int(min(int64(len(p)), r.n))
	for i := range p[:n] {
		p[i] = r.b
	}
	r.n -= int64(n)
	return n, nil
}

// TestNewlineMemoryBound feeds a 100 MB line without a newline and
// checks that the reader holds and allocates a small multiple of the
// limit, not the line.
func TestNewlineMemoryBound(t *testing.T) {
	const lineSize = 100 << 20
	src := &repeatReader{n: lineSize, b: 'x', tail: []byte("\nok\n")}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := Newline{}.NewReader(src)
	_, err := r.ReadMessage()
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Limit != DefaultMax {
		t.Fatalf("got %v, want a TooLargeError with limit %d", err, DefaultMax)
	}
	msg, err := r.ReadMessage()
	if string(msg) != "ok" || err != nil {
		t.Fatalf("after the long line: got %q, %v; want \"ok\"", msg, err)
	}
	runtime.ReadMemStats(&after)
	nr := r.(*newlineReader)
	if c := cap(nr.in.buf); c > DefaultMax+readSize {
		t.Errorf("buffer capacity %d, over the limit plus a read buffer (%d)", c, DefaultMax+readSize)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("100 MB line: %d bytes allocated in all, buffer capacity %d", allocated, cap(nr.in.buf))
	if allocated > 4*DefaultMax {
		t.Errorf("allocated %d bytes reading a %d-byte line; want at most %d", allocated, lineSize, 4*DefaultMax)
	}
	runtime.KeepAlive(r)
}

func TestNewlineAppendFrame(t *testing.T) {
	tests := []struct {
		name    string
		max     int
		msg     string
		want    string
		wantErr string
	}{
		{name: "empty", msg: "", want: "\n"},
		{name: "plain", msg: "hello", want: "hello\n"},
		{name: "exactly max", max: 5, msg: "12345", want: "12345\n"},
		{name: "over max: Max limits reading only", max: 5, msg: "123456", want: "123456\n"},
		{name: "newline", msg: "a\nb", wantErr: ErrNewlineInMessage.Error()},
		{name: "newline at end", msg: "a\n", wantErr: ErrNewlineInMessage.Error()},
		{name: "no limit", max: NoLimit, msg: strings.Repeat("z", DefaultMax+1), want: strings.Repeat("z", DefaultMax+1) + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("prefix")
			got, err := Newline{Max: tt.max}.AppendFrame(dst, []byte(tt.msg))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("got error %v, want %q", err, tt.wantErr)
				}
				if string(got) != "prefix" {
					t.Errorf("dst changed on error: %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff("prefix"+tt.want, string(got)); diff != "" {
				t.Errorf("frame (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewlineAppendFrameErrors(t *testing.T) {
	_, err := Newline{}.AppendFrame(nil, []byte("a\nb"))
	if !errors.Is(err, ErrNewlineInMessage) {
		t.Errorf("newline: got %v, want ErrNewlineInMessage", err)
	}
}

// TestNewlineMessageValidity checks the slice returned cannot be
// appended into the reader's buffer, and stays intact until the next
// read.
func TestNewlineMessageValidity(t *testing.T) {
	r := Newline{}.NewReader(bytes.NewReader([]byte("ab\ncd\n")))
	first, err := r.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if cap(first) != len(first) {
		t.Errorf("message capacity %d beyond its length %d: appending would overwrite the buffer", cap(first), len(first))
	}
	_ = append(first, 'X')
	second, err := r.ReadMessage()
	if string(second) != "cd" || err != nil {
		t.Errorf("got %q, %v; want \"cd\"", second, err)
	}
}
