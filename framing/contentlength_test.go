package framing

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// cl returns a Content-Length frame announcing n bytes, with body.
func cl(n int, body string) string {
	return fmt.Sprintf("Content-Length: %d\r\n\r\n%s", n, body)
}

func TestContentLengthRead(t *testing.T) {
	long := strings.Repeat("x", DefaultMax)
	tests := []struct {
		name      string
		max       int
		maxHeader int
		input     string
		want      []result
		errText   string // in the first error, if set
		big       bool
	}{
		{name: "empty", input: "", want: []result{{Err: "EOF"}}},
		{name: "one", input: cl(3, "abc"), want: []result{{Msg: "abc"}, {Err: "EOF"}}},
		{name: "several", input: cl(3, "abc") + cl(0, "") + cl(5, "hello"),
			want: []result{{Msg: "abc"}, {}, {Msg: "hello"}, {Err: "EOF"}}},
		{name: "CR LF inside the message", input: cl(4, "a\r\nb") + cl(1, "c"),
			want: []result{{Msg: "a\r\nb"}, {Msg: "c"}, {Err: "EOF"}}},
		{name: "Content-Type", input: "Content-Length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}",
			want: []result{{Msg: "{}"}, {Err: "EOF"}}},
		{name: "Content-Type first", input: "Content-Type: application/vscode-jsonrpc; charset=utf8\r\nContent-Length: 2\r\n\r\n[]",
			want: []result{{Msg: "[]"}, {Err: "EOF"}}},
		{name: "names without regard to case", input: "content-length: 1\r\n\r\na" + "CONTENT-LENGTH: 1\r\n\r\nb" + "cOnTeNt-LeNgTh: 1\r\n\r\nc",
			want: []result{{Msg: "a"}, {Msg: "b"}, {Msg: "c"}, {Err: "EOF"}}},
		{name: "other fields ignored", input: "X-Trace: 12:34\r\nContent-Length: 1\r\nX-Empty:\r\n\r\na",
			want: []result{{Msg: "a"}, {Err: "EOF"}}},
		{name: "spaces and tabs around the value", input: "Content-Length: \t 3 \t\r\n\r\nabc", want: []result{{Msg: "abc"}, {Err: "EOF"}}},
		{name: "no space after the colon", input: "Content-Length:3\r\n\r\nabc", want: []result{{Msg: "abc"}, {Err: "EOF"}}},
		{name: "leading zeros", input: "Content-Length: 003\r\n\r\nabc", want: []result{{Msg: "abc"}, {Err: "EOF"}}},

		// Lengths that lie.
		{name: "length shorter than the message", input: cl(5, `{"a":1}`) + cl(2, "{}"),
			want: []result{{Msg: `{"a":`}, {Err: "Format(fatal)"}}, errText: `byte '}' in a header field name`},
		{name: "length shorter, next header swallowed", input: cl(2, "abc") + cl(2, "{}"),
			want: []result{{Msg: "ab"}, {Err: "Format(fatal)"}}, errText: "no Content-Length in the header"},
		{name: "length longer than the message", input: cl(10, "abc"), want: []result{{Err: "UnexpectedEOF"}}},
		{name: "length longer, then the next message", input: cl(10, "abc") + cl(2, "{}"),
			want: []result{{Msg: "abc" + cl(2, "{}")[:7]}, {Err: "Format(fatal)"}}},

		// Malformed headers: fatal, and sticky.
		{name: "missing blank line", input: "Content-Length: 2\r\n{}", want: []result{{Err: "Format(fatal)"}},
			errText: "byte '{' in a header field name (is the blank line after the header missing?)"},
		{name: "missing blank line, message of name bytes", input: "Content-Length: 3\r\nabc", want: []result{{Err: "UnexpectedEOF"}}},
		{name: "missing Content-Length", input: "Content-Type: application/json\r\n\r\n{}", want: []result{{Err: "Format(fatal)"}},
			errText: "no Content-Length in the header"},
		{name: "empty header", input: "\r\n{}", want: []result{{Err: "Format(fatal)"}}, errText: "no Content-Length"},
		{name: "duplicate Content-Length", input: "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", want: []result{{Err: "Format(fatal)"}},
			errText: "Content-Length given twice"},
		{name: "duplicate in another case", input: "Content-Length: 2\r\ncontent-length: 3\r\n\r\n{}", want: []result{{Err: "Format(fatal)"}}},
		{name: "duplicate after an overflow", input: "Content-Length: 99999999999999999999\r\nContent-Length: 2\r\n\r\n{}", want: []result{{Err: "Format(fatal)"}}},
		{name: "negative", input: "Content-Length: -5\r\n\r\n{}", want: []result{{Err: "Format(fatal)"}},
			errText: `Content-Length "-5" is not a decimal number of bytes`},
		{name: "plus sign", input: "Content-Length: +5\r\n\r\nhello", want: []result{{Err: "Format(fatal)"}}},
		{name: "not a number", input: "Content-Length: abc\r\n\r\n", want: []result{{Err: "Format(fatal)"}}},
		{name: "hexadecimal", input: "Content-Length: 0x10\r\n\r\n", want: []result{{Err: "Format(fatal)"}}},
		{name: "two numbers", input: "Content-Length: 1 2\r\n\r\n", want: []result{{Err: "Format(fatal)"}}},
		{name: "empty value", input: "Content-Length: \r\n\r\n", want: []result{{Err: "Format(fatal)"}}, errText: "Content-Length is empty"},
		{name: "long bad value quoted short", input: "Content-Length: " + strings.Repeat("z", 100) + "\r\n\r\n", want: []result{{Err: "Format(fatal)"}},
			errText: `"` + strings.Repeat("z", 32) + `"…`},
		{name: "bare LF", input: "Content-Length: 3\n\nabc", want: []result{{Err: "Format(fatal)"}}, errText: "LF without CR"},
		{name: "bare LF on the blank line", input: "Content-Length: 3\r\n\nabc", want: []result{{Err: "Format(fatal)"}}, errText: "LF without CR"},
		{name: "bare CR", input: "Content-Length: 3\rX\n\r\nabc", want: []result{{Err: "Format(fatal)"}}, errText: "CR not followed by LF"},
		{name: "no colon", input: "Content-Length\r\n\r\n", want: []result{{Err: "Format(fatal)"}}, errText: "without a colon"},
		{name: "empty name", input: ": 3\r\n\r\nabc", want: []result{{Err: "Format(fatal)"}}, errText: "without a field name"},
		{name: "space before the colon", input: "Content-Length : 3\r\n\r\nabc", want: []result{{Err: "Format(fatal)"}}, errText: "byte ' '"},
		{name: "folded line", input: "Content-Length: 3\r\n X\r\n\r\nabc", want: []result{{Err: "Format(fatal)"}}},
		{name: "control byte in a name", input: "Content\x00Length: 3\r\n\r\nabc", want: []result{{Err: "Format(fatal)"}}, errText: "byte 0x00"},
		{name: "high byte in a name", input: "Content\xffLength: 3\r\n\r\nabc", want: []result{{Err: "Format(fatal)"}}, errText: "byte 0xff"},
		{name: "newline framing sent", input: `{"jsonrpc":"2.0"}` + "\n", want: []result{{Err: "Format(fatal)"}}},
		{name: "error after a message", input: cl(1, "a") + "Bad Header\r\n\r\n", want: []result{{Msg: "a"}, {Err: "Format(fatal)"}}},
		{name: "cut header", input: cl(1, "a") + "Content-Len", want: []result{{Msg: "a"}, {Err: "UnexpectedEOF"}}},
		{name: "cut before the blank line", input: "Content-Length: 1\r\n", want: []result{{Err: "UnexpectedEOF"}}},
		{name: "cut body", input: cl(5, "abc"), want: []result{{Err: "UnexpectedEOF"}}},

		// The header limit.
		{name: "header exactly the limit", maxHeader: 21, input: cl(3, "abc"), want: []result{{Msg: "abc"}, {Err: "EOF"}}},
		{name: "header one over the limit", maxHeader: 20, input: cl(3, "abc"), want: []result{{Err: "Format(fatal)"}},
			errText: "header block over the limit of 20 bytes"},
		{name: "CR just past the limit", maxHeader: 6, input: "X: abc\r\n" + cl(1, "a"), want: []result{{Err: "Format(fatal)"}},
			errText: "header block over the limit of 6 bytes"},
		{name: "CR at the limit", maxHeader: 7, input: "X: abc\r\n" + cl(1, "a"), want: []result{{Err: "Format(fatal)"}},
			errText: "header block over the limit of 7 bytes"},
		{name: "LF just past the limit", maxHeader: 8, input: "X: abc\r\n\r\n", want: []result{{Err: "Format(fatal)"}}},
		{name: "endless header", input: "X: " + strings.Repeat("y", 10_000), want: []result{{Err: "Format(fatal)"}},
			errText: "over the limit of 4096 bytes"},
		{name: "many fields", input: strings.Repeat("X: y\r\n", 1000) + cl(1, "a"), want: []result{{Err: "Format(fatal)"}}},
		{name: "no header limit", maxHeader: NoLimit, input: strings.Repeat("X: y\r\n", 1000) + cl(1, "a"), want: []result{{Msg: "a"}, {Err: "EOF"}}},

		// The message limit: a well-formed header tells where the
		// message ends, so it is skipped.
		{name: "exactly max", max: 3, input: cl(3, "abc"), want: []result{{Msg: "abc"}, {Err: "EOF"}}},
		{name: "max plus one skipped", max: 3, input: cl(4, "abcd") + cl(2, "ok"),
			want: []result{{Err: "TooLarge"}, {Msg: "ok"}, {Err: "EOF"}}, errText: "message of 4 bytes over the limit of 3 bytes"},
		{name: "long message skipped", max: 3, input: cl(20_000, strings.Repeat("y", 20_000)) + cl(2, "ok") + cl(4, "abcd") + cl(1, "z"),
			want: []result{{Err: "TooLarge"}, {Msg: "ok"}, {Err: "TooLarge"}, {Msg: "z"}, {Err: "EOF"}}},
		{name: "skipped message cut", max: 3, input: cl(9, "abcd"), want: []result{{Err: "TooLarge"}, {Err: "UnexpectedEOF"}}},
		{name: "huge length", input: cl(1<<62, "abc"), want: []result{{Err: "TooLarge"}, {Err: "UnexpectedEOF"}}},
		{name: "length over 63 bits", input: "Content-Length: 99999999999999999999\r\n\r\nabc", want: []result{{Err: "TooLarge(fatal)"}},
			errText: "over the limit of 1000000 bytes; the stream cannot continue"},
		{name: "default limit exact", input: cl(DefaultMax, long) + cl(2, "ok"), want: []result{{Msg: long}, {Msg: "ok"}, {Err: "EOF"}}, big: true},
		{name: "default limit plus one", input: cl(DefaultMax+1, long+"x") + cl(2, "ok"), want: []result{{Err: "TooLarge"}, {Msg: "ok"}, {Err: "EOF"}}, big: true},
		{name: "no limit", max: NoLimit, input: cl(2*DefaultMax, long+long) + cl(2, "ok"), want: []result{{Msg: long + long}, {Msg: "ok"}, {Err: "EOF"}}, big: true},
	}
	for _, tt := range tests {
		for cname, sizes := range chunkings {
			if tt.big && len(sizes) > 0 && sizes[0] < 4096 {
				continue
			}
			for _, eofWithData := range []bool{false, true} {
				t.Run(tt.name+"/"+cname, func(t *testing.T) {
					f := ContentLength{Max: tt.max, MaxHeader: tt.maxHeader}
					r := f.NewReader(&chunkReader{data: []byte(tt.input), sizes: sizes, eofWithData: eofWithData})
					var firstErr error
					var got []result
					for range len(tt.want) + 2 {
						msg, err := r.ReadMessage()
						got = append(got, result{Msg: string(msg), Err: kind(err)})
						if firstErr == nil {
							firstErr = err
						}
						if final(err) {
							break
						}
					}
					if diff := cmp.Diff(tt.want, got); diff != "" {
						t.Errorf("reads (-want +got):\n%s", diff)
					}
					if tt.errText != "" && (firstErr == nil || !strings.Contains(firstErr.Error(), tt.errText)) {
						t.Errorf("first error %v, want one containing %q", firstErr, tt.errText)
					}
					if last := got[len(got)-1].Err; strings.HasSuffix(last, "(fatal)") {
						if _, err := r.ReadMessage(); kind(err) != last {
							t.Errorf("read after a fatal error: got %v, want the same error", err)
						}
					}
				})
			}
		}
	}
}

// TestContentLengthNoUpfrontAllocation checks that a declared length,
// legal or not, does not size the buffer: only bytes that arrive do.
func TestContentLengthNoUpfrontAllocation(t *testing.T) {
	for _, tt := range []struct {
		name string
		max  int
		n    int
		want string
	}{
		{name: "legal length", n: DefaultMax, want: "UnexpectedEOF"},
		{name: "no limit", max: NoLimit, n: 1 << 40, want: "UnexpectedEOF"},
		{name: "over the limit", n: 1 << 40, want: "TooLarge"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			var r Reader
			n := allocated(func() {
				r = ContentLength{Max: tt.max}.NewReader(bytes.NewReader([]byte(cl(tt.n, "only a few bytes"))))
				_, err = r.ReadMessage()
			})
			if kind(err) != tt.want {
				t.Fatalf("got %v, want %s", err, tt.want)
			}
			t.Logf("%d bytes allocated for a header announcing %d", n, tt.n)
			if n > 64<<10 {
				t.Errorf("%d bytes allocated for a header announcing %d and 16 bytes sent", n, tt.n)
			}
			if c := cap(r.(*contentLengthReader).in.buf); c > 2*readSize {
				t.Errorf("buffer capacity %d, want at most %d", c, 2*readSize)
			}
		})
	}
}

// TestContentLengthSkipMemoryBound skips a 100 MB message over the limit
// and checks that it is dropped as it arrives, never held.
func TestContentLengthSkipMemoryBound(t *testing.T) {
	const size = 100 << 20
	head := cl(size, "")
	src := &repeatReader{n: size, b: 'x', tail: []byte(cl(2, "ok"))}
	r := ContentLength{}.NewReader(io.MultiReader(strings.NewReader(head), src))
	var msg []byte
	var err1, err2 error
	n := allocated(func() {
		_, err1 = r.ReadMessage()
		msg, err2 = r.ReadMessage()
	})
	if kind(err1) != "TooLarge" || string(msg) != "ok" || err2 != nil {
		t.Fatalf("got %v, then %q, %v; want TooLarge, then \"ok\"", err1, msg, err2)
	}
	t.Logf("100 MB message skipped: %d bytes allocated, buffer capacity %d", n, cap(r.(*contentLengthReader).in.buf))
	if n > 1<<20 {
		t.Errorf("allocated %d bytes skipping a %d-byte message", n, size)
	}
}

func TestContentLengthAppendFrame(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		msg         string
		want        string
		wantErr     error
	}{
		{name: "empty", msg: "", want: "Content-Length: 0\r\n\r\n"},
		{name: "plain", msg: `{"id":1}`, want: "Content-Length: 8\r\n\r\n{\"id\":1}"},
		{name: "CR LF inside", msg: "a\r\n\r\nb", want: "Content-Length: 6\r\n\r\na\r\n\r\nb"},
		{name: "Content-Type", contentType: "application/vscode-jsonrpc; charset=utf-8", msg: "{}",
			want: "Content-Length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}"},
		{name: "tab in Content-Type", contentType: "a;\tb", msg: "{}", want: "Content-Length: 2\r\nContent-Type: a;\tb\r\n\r\n{}"},
		{name: "CR LF in Content-Type", contentType: "a\r\nContent-Length: 0", msg: "{}", wantErr: ErrInvalidContentType},
		{name: "DEL in Content-Type", contentType: "a\x7f", msg: "{}", wantErr: ErrInvalidContentType},
		{name: "over Max: Max limits reading only", msg: strings.Repeat("z", DefaultMax+1), want: cl(DefaultMax+1, strings.Repeat("z", DefaultMax+1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ContentLength{ContentType: tt.contentType}
			got, err := f.AppendFrame([]byte("prefix"), []byte(tt.msg))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || string(got) != "prefix" {
					t.Fatalf("got %q, %v; want %v and dst unchanged", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff("prefix"+tt.want, string(got)); diff != "" {
				t.Errorf("frame (-want +got):\n%s", diff)
			}
			// What is written reads back.
			msg, err := ContentLength{Max: NoLimit}.NewReader(bytes.NewReader(got[len("prefix"):])).ReadMessage()
			if err != nil || string(msg) != tt.msg {
				t.Errorf("read back %d bytes, %v", len(msg), err)
			}
		})
	}
}
