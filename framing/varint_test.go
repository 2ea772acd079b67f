package framing

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// vp returns a varint-prefixed frame announcing n bytes, with body.
func vp(n uint64, body string) string {
	return string(binary.AppendUvarint(nil, n)) + body
}

func TestVarintPrefixedRead(t *testing.T) {
	long := strings.Repeat("x", DefaultMax)
	tests := []struct {
		name    string
		max     int
		input   string
		want    []result
		errText string
		big     bool
	}{
		{name: "empty", input: "", want: []result{{Err: "EOF"}}},
		{name: "one", input: vp(3, "abc"), want: []result{{Msg: "abc"}, {Err: "EOF"}}},
		{name: "empty message", input: vp(0, "") + vp(1, "a"), want: []result{{}, {Msg: "a"}, {Err: "EOF"}}},
		{name: "two-byte length", input: vp(300, strings.Repeat("z", 300)) + vp(2, "ok"),
			want: []result{{Msg: strings.Repeat("z", 300)}, {Msg: "ok"}, {Err: "EOF"}}},
		{name: "cut length", input: vp(1, "a") + "\x80", want: []result{{Msg: "a"}, {Err: "UnexpectedEOF"}}},
		{name: "cut body", input: vp(5, "abc"), want: []result{{Err: "UnexpectedEOF"}}},
		{name: "exactly max", max: 300, input: vp(300, strings.Repeat("z", 300)), want: []result{{Msg: strings.Repeat("z", 300)}, {Err: "EOF"}}},
		{name: "max plus one", max: 300, input: vp(301, strings.Repeat("z", 301)) + vp(1, "a"), want: []result{{Err: "TooLarge(fatal)"}},
			errText: "framing: message of 301 bytes over the limit of 300 bytes; the stream cannot continue"},
		{name: "huge length", input: vp(1<<62, "abc"), want: []result{{Err: "TooLarge(fatal)"}}},
		{name: "largest varint", input: vp(1<<64-1, "abc"), want: []result{{Err: "TooLarge(fatal)"}}, errText: "framing: message over the limit"},
		{name: "not shortest: zero", input: "\x80\x00", want: []result{{Err: "Format(fatal)"}},
			errText: "framing: bad varint framing: length not in its shortest form; the stream cannot continue"},
		{name: "not shortest: one", input: "\x81\x80\x00a", want: []result{{Err: "Format(fatal)"}}},
		{name: "eleven bytes", input: strings.Repeat("\x80", 10) + "\x01", want: []result{{Err: "Format(fatal)"}},
			errText: "length longer than 10 bytes or over 64 bits"},
		{name: "over 64 bits", input: strings.Repeat("\xff", 9) + "\x02", want: []result{{Err: "Format(fatal)"}}},
		{name: "default limit exact", input: vp(DefaultMax, long) + vp(2, "ok"), want: []result{{Msg: long}, {Msg: "ok"}, {Err: "EOF"}}, big: true},
		{name: "default limit plus one", input: vp(DefaultMax+1, long+"x"), want: []result{{Err: "TooLarge(fatal)"}}, big: true},
		{name: "no limit", max: NoLimit, input: vp(2*DefaultMax, long+long) + vp(2, "ok"), want: []result{{Msg: long + long}, {Msg: "ok"}, {Err: "EOF"}}, big: true},
	}
	for _, tt := range tests {
		for cname, sizes := range chunkings {
			if tt.big && len(sizes) > 0 && sizes[0] < 4096 {
				continue
			}
			for _, eofWithData := range []bool{false, true} {
				t.Run(tt.name+"/"+cname, func(t *testing.T) {
					r := VarintPrefixed{Max: tt.max}.NewReader(&chunkReader{data: []byte(tt.input), sizes: sizes, eofWithData: eofWithData})
					got := readAll(r, len(tt.want)+2)
					if diff := cmp.Diff(tt.want, got); diff != "" {
						t.Errorf("reads (-want +got):\n%s", diff)
					}
					if tt.errText != "" {
						_, err := r.ReadMessage() // a fatal error again
						if err == nil || !strings.Contains(err.Error(), tt.errText) {
							t.Errorf("error %v, want one containing %q", err, tt.errText)
						}
					}
				})
			}
		}
	}
}

// TestVarintPrefixedNoUpfrontAllocation checks that an announced length
// does not size the buffer: only bytes that arrive do.
func TestVarintPrefixedNoUpfrontAllocation(t *testing.T) {
	for _, tt := range []struct {
		name string
		max  int
		n    uint64
	}{
		{name: "legal length", n: DefaultMax},
		{name: "no limit", max: NoLimit, n: 1 << 40},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			var r Reader
			n := allocated(func() {
				r = VarintPrefixed{Max: tt.max}.NewReader(bytes.NewReader([]byte(vp(tt.n, "only a few bytes"))))
				_, err = r.ReadMessage()
			})
			if kind(err) != "UnexpectedEOF" {
				t.Fatalf("got %v, want io.ErrUnexpectedEOF", err)
			}
			t.Logf("%d bytes allocated for a length of %d", n, tt.n)
			if n > 64<<10 {
				t.Errorf("%d bytes allocated for a length of %d and 16 bytes sent", n, tt.n)
			}
			if c := cap(r.(*varintReader).in.buf); c > 2*readSize {
				t.Errorf("buffer capacity %d, want at most %d", c, 2*readSize)
			}
		})
	}
}

func TestVarintPrefixedAppendFrame(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 300, 16383, 16384, DefaultMax + 1} {
		msg := bytes.Repeat([]byte("m"), n)
		got, err := VarintPrefixed{}.AppendFrame([]byte("prefix"), msg)
		if err != nil {
			t.Fatal(err)
		}
		if want := "prefix" + vp(uint64(n), string(msg)); string(got) != want {
			t.Errorf("%d bytes: frame %q…, want %q…", n, got[:min(len(got), 12)], want[:min(len(want), 12)])
		}
		back, err := VarintPrefixed{Max: NoLimit}.NewReader(bytes.NewReader(got[len("prefix"):])).ReadMessage()
		if err != nil || !bytes.Equal(back, msg) {
			t.Errorf("%d bytes: read back %d bytes, %v", n, len(back), err)
		}
	}
}
