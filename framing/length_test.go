package framing

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// lp returns a length-prefixed frame announcing n bytes, with body.
func lp(n uint32, body string) string {
	return string(binary.BigEndian.AppendUint32(nil, n)) + body
}

func TestLengthPrefixedRead(t *testing.T) {
	long := strings.Repeat("x", DefaultMax)
	tests := []struct {
		name  string
		max   int
		input string
		want  []result
		big   bool
	}{
		{name: "empty", input: "", want: []result{{Err: "EOF"}}},
		{name: "one", input: lp(3, "abc"), want: []result{{Msg: "abc"}, {Err: "EOF"}}},
		{name: "empty message", input: lp(0, "") + lp(1, "a"), want: []result{{}, {Msg: "a"}, {Err: "EOF"}}},
		{name: "newline inside", input: lp(3, "a\nb"), want: []result{{Msg: "a\nb"}, {Err: "EOF"}}},
		{name: "cut header", input: lp(1, "a") + "\x00\x00", want: []result{{Msg: "a"}, {Err: "UnexpectedEOF"}}},
		{name: "cut body", input: lp(5, "abc"), want: []result{{Err: "UnexpectedEOF"}}},
		{name: "exactly max", max: 3, input: lp(3, "abc"), want: []result{{Msg: "abc"}, {Err: "EOF"}}},
		{name: "max plus one", max: 3, input: lp(4, "abcd") + lp(1, "a"), want: []result{{Err: "TooLarge(fatal)"}}},
		{name: "huge length", input: lp(0xffffffff, "abc"), want: []result{{Err: "TooLarge(fatal)"}}},
		{name: "default limit exact", input: lp(DefaultMax, long) + lp(2, "ok"), want: []result{{Msg: long}, {Msg: "ok"}, {Err: "EOF"}}, big: true},
		{name: "default limit plus one", input: lp(DefaultMax+1, long+"x"), want: []result{{Err: "TooLarge(fatal)"}}, big: true},
		{name: "no limit", max: NoLimit, input: lp(2*DefaultMax, long+long) + lp(2, "ok"), want: []result{{Msg: long + long}, {Msg: "ok"}, {Err: "EOF"}}, big: true},
	}
	for _, tt := range tests {
		for cname, sizes := range chunkings {
			if tt.big && len(sizes) > 0 && sizes[0] < 4096 {
				continue
			}
			for _, eofWithData := range []bool{false, true} {
				t.Run(tt.name+"/"+cname, func(t *testing.T) {
					r := LengthPrefixed{Max: tt.max}.NewReader(&chunkReader{data: []byte(tt.input), sizes: sizes, eofWithData: eofWithData})
					got := readAll(r, len(tt.want)+2)
					if diff := cmp.Diff(tt.want, got); diff != "" {
						t.Errorf("reads (-want +got):\n%s", diff)
					}
				})
			}
		}
	}
}

func TestLengthPrefixedFatalIsSticky(t *testing.T) {
	r := LengthPrefixed{Max: 2}.NewReader(bytes.NewReader([]byte(lp(3, "abc") + lp(1, "a"))))
	_, first := r.ReadMessage()
	var tl *TooLargeError
	if !errors.As(first, &tl) {
		t.Fatalf("got %v, want a TooLargeError", first)
	}
	if !tl.Fatal() || tl.Limit != 2 || tl.Size != 3 {
		t.Errorf("got %+v, want fatal, limit 2, size 3", tl)
	}
	if want := "framing: message of 3 bytes over the limit of 2 bytes; the stream cannot continue"; tl.Error() != want {
		t.Errorf("message %q, want %q", tl.Error(), want)
	}
	for range 3 {
		if _, err := r.ReadMessage(); err != first {
			t.Errorf("later read: got %v, want the same error again", err)
		}
	}
}

// allocated returns the bytes allocated while f runs.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestLengthPrefixedNoUpfrontAllocation checks that an announced length
// does not size the buffer: only bytes that arrive do.
func TestLengthPrefixedNoUpfrontAllocation(t *testing.T) {
	for _, tt := range []struct {
		name string
		max  int
		n    uint32
	}{
		{name: "legal length", n: DefaultMax},
		{name: "no limit", max: NoLimit, n: 0xffffffff},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			var r Reader
			n := allocated(func() {
				r = LengthPrefixed{Max: tt.max}.NewReader(bytes.NewReader([]byte(lp(tt.n, "only a few bytes"))))
				_, err = r.ReadMessage()
			})
			if kind(err) != "UnexpectedEOF" {
				t.Fatalf("got %v, want io.ErrUnexpectedEOF", err)
			}
			t.Logf("%d bytes allocated for a header announcing %d", n, tt.n)
			if n > 64<<10 {
				t.Errorf("%d bytes allocated for a header announcing %d and 16 bytes sent", n, tt.n)
			}
			if c := cap(r.(*lengthReader).in.buf); c > 2*readSize {
				t.Errorf("buffer capacity %d, want at most %d", c, 2*readSize)
			}
		})
	}
}

// TestLengthPrefixedRelease checks that a buffer grown for a large
// message is released before the next small one.
func TestLengthPrefixedRelease(t *testing.T) {
	big := strings.Repeat("b", 3*shrinkSize)
	r := LengthPrefixed{Max: NoLimit}.NewReader(bytes.NewReader([]byte(lp(uint32(len(big)), big) + lp(2, "ok"))))
	lr := r.(*lengthReader)
	if msg, err := r.ReadMessage(); string(msg) != big || err != nil {
		t.Fatalf("big message: got %d bytes, %v", len(msg), err)
	}
	if c := cap(lr.in.buf); c < len(big) {
		t.Fatalf("capacity %d after a %d-byte message", c, len(big))
	}
	if msg, err := r.ReadMessage(); string(msg) != "ok" || err != nil {
		t.Fatalf("got %q, %v; want \"ok\"", msg, err)
	}
	if c := cap(lr.in.buf); c > readSize {
		t.Errorf("capacity %d after a small message, want %d", c, readSize)
	}
}

func TestLengthPrefixedAppendFrame(t *testing.T) {
	tests := []struct {
		name    string
		max     int
		msg     string
		want    string
		wantErr string
	}{
		{name: "empty", msg: "", want: lp(0, "")},
		{name: "plain", msg: "hello", want: lp(5, "hello")},
		{name: "newline", msg: "a\nb", want: lp(3, "a\nb")},
		{name: "exactly max", max: 5, msg: "12345", want: lp(5, "12345")},
		{name: "over max: Max limits reading only", max: 5, msg: "123456", want: lp(6, "123456")},
		{name: "over default", msg: strings.Repeat("z", DefaultMax+1), want: lp(DefaultMax+1, strings.Repeat("z", DefaultMax+1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LengthPrefixed{Max: tt.max}.AppendFrame([]byte("prefix"), []byte(tt.msg))
			if tt.wantErr != "" {
				var tl *TooLargeError
				if !errors.As(err, &tl) || err.Error() != tt.wantErr || tl.Fatal() {
					t.Fatalf("got error %v, want a non-fatal %q", err, tt.wantErr)
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
