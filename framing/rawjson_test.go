package framing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

func TestRawJSONRead(t *testing.T) {
	// A value of exactly DefaultMax bytes.
	long := `["` + strings.Repeat("x", DefaultMax-4) + `"]`
	bomb := strings.Repeat("[", 1_000_000)
	tests := []struct {
		name     string
		max      int
		maxDepth int
		input    string
		want     []result
		errText  string // in the first error, if set
		big      bool
	}{
		{name: "empty", input: "", want: []result{{Err: "EOF"}}},
		{name: "whitespace only", input: " \t\r\n ", want: []result{{Err: "EOF"}}},
		{name: "one object", input: `{"a":1}`, want: []result{{Msg: `{"a":1}`}, {Err: "EOF"}}},
		{name: "back to back", input: `{"a":1}{"b":2}[1,2]{}[]`,
			want: []result{{Msg: `{"a":1}`}, {Msg: `{"b":2}`}, {Msg: `[1,2]`}, {Msg: `{}`}, {Msg: `[]`}, {Err: "EOF"}}},
		{name: "whitespace around", input: " \n\t\r{}\n[ ] \r\n",
			want: []result{{Msg: `{}`}, {Msg: `[ ]`}, {Err: "EOF"}}},
		{name: "brackets in strings", input: `{"a":"}{][","b":["]"]}[]`,
			want: []result{{Msg: `{"a":"}{][","b":["]"]}`}, {Msg: `[]`}, {Err: "EOF"}}},
		{name: "escaped quote", input: `{"a":"\"}"}{}`, want: []result{{Msg: `{"a":"\"}"}`}, {Msg: `{}`}, {Err: "EOF"}}},
		{name: "escaped backslash", input: `{"a":"\\"}{}`, want: []result{{Msg: `{"a":"\\"}`}, {Msg: `{}`}, {Err: "EOF"}}},
		{name: "escapes", input: `["\\\"\u007d\n\/"]`, want: []result{{Msg: `["\\\"\u007d\n\/"]`}, {Err: "EOF"}}},
		{name: "string keys with quotes", input: `{"\"":{"\\":[]}}`, want: []result{{Msg: `{"\"":{"\\":[]}}`}, {Err: "EOF"}}},
		{name: "nested", input: `{"a":[{"b":[[]]},{}]}`, want: []result{{Msg: `{"a":[{"b":[[]]},{}]}`}, {Err: "EOF"}}},
		{name: "mismatched brackets delivered", input: `[}{}`, want: []result{{Msg: `[}`}, {Msg: `{}`}, {Err: "EOF"}}},
		{name: "newline after each", input: "{\"id\":1}\n{\"id\":2}\n", want: []result{{Msg: `{"id":1}`}, {Msg: `{"id":2}`}, {Err: "EOF"}}},
		{name: "cut value", input: `{"a":1}{"a":`, want: []result{{Msg: `{"a":1}`}, {Err: "UnexpectedEOF"}}},
		{name: "cut string", input: `{"a":"x`, want: []result{{Err: "UnexpectedEOF"}}},
		{name: "cut escape", input: `{"a":"x\`, want: []result{{Err: "UnexpectedEOF"}}},

		// Size.
		{name: "exactly max", max: 7, input: `{"a":1}`, want: []result{{Msg: `{"a":1}`}, {Err: "EOF"}}},
		{name: "max plus one", max: 6, input: `{"a":1}{}`, want: []result{{Err: "TooLarge"}, {Msg: `{}`}, {Err: "EOF"}},
			errText: "over the limit of 6 bytes"},
		{name: "skip follows strings", max: 5, input: `{"a":"]]]]}}}}\"}}"}{}`, want: []result{{Err: "TooLarge"}, {Msg: `{}`}, {Err: "EOF"}}},
		{name: "skip follows depth", max: 5, input: `[[[[[[1]]]]],[]]` + `[2]`, want: []result{{Err: "TooLarge"}, {Msg: `[2]`}, {Err: "EOF"}}},
		{name: "long value skipped", max: 100, input: `["` + strings.Repeat("y", 20_000) + `"] {"ok":1}`,
			want: []result{{Err: "TooLarge"}, {Msg: `{"ok":1}`}, {Err: "EOF"}}},
		{name: "long value cut", max: 5, input: `{"a":"bcdef`, want: []result{{Err: "TooLarge"}, {Err: "UnexpectedEOF"}}},
		{name: "default limit exact", input: long + "{}", want: []result{{Msg: long}, {Msg: `{}`}, {Err: "EOF"}}, big: true},
		{name: "default limit plus one", input: long[:2] + "x" + long[2:] + "{}", want: []result{{Err: "TooLarge"}, {Msg: `{}`}, {Err: "EOF"}}, big: true},
		{name: "no limit", max: NoLimit, input: long + long + "{}", want: []result{{Msg: long}, {Msg: long}, {Msg: `{}`}, {Err: "EOF"}}, big: true},

		// Depth.
		{name: "exactly max depth", maxDepth: 3, input: `[[{}]]`, want: []result{{Msg: `[[{}]]`}, {Err: "EOF"}}},
		{name: "max depth plus one", maxDepth: 3, input: `[[[{}]]][1]`, want: []result{{Err: "Format"}, {Msg: `[1]`}, {Err: "EOF"}},
			errText: "framing: bad JSON framing: nesting deeper than 3 levels; message skipped"},
		{name: "depth in strings does not count", maxDepth: 1, input: `["[[[[{{{{"]`, want: []result{{Msg: `["[[[[{{{{"]`}, {Err: "EOF"}}},
		{name: "depth over, then over the size", max: 10, maxDepth: 1, input: `[[` + strings.Repeat(" ", 100) + `]][]`,
			want: []result{{Err: "Format"}, {Msg: `[]`}, {Err: "EOF"}}},
		{name: "nesting bomb", input: bomb, want: []result{{Err: "Format"}, {Err: "UnexpectedEOF"}}, big: true},
		{name: "nesting bomb closed", input: bomb + strings.Repeat("]", len(bomb)) + "{}", want: []result{{Err: "Format"}, {Msg: `{}`}, {Err: "EOF"}}, big: true},
		{name: "no depth limit", maxDepth: NoLimit, input: strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000),
			want: []result{{Msg: strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000)}, {Err: "EOF"}}},

		// Top-level scalars: skipped.
		{name: "string", input: `"abc"{}`, want: []result{{Err: "Format"}, {Msg: `{}`}, {Err: "EOF"}},
			errText: "framing: bad JSON framing: top-level value is a string, not an object or an array; message skipped"},
		{name: "string with escapes and brackets", input: `"a\"{[\\" []`, want: []result{{Err: "Format"}, {Msg: `[]`}, {Err: "EOF"}}},
		{name: "number", input: `123 {}`, want: []result{{Err: "Format"}, {Msg: `{}`}, {Err: "EOF"}}, errText: "top-level value is a number"},
		{name: "number against a value", input: `-1.5e+3[]`, want: []result{{Err: "Format"}, {Msg: `[]`}, {Err: "EOF"}}},
		{name: "number at the end", input: `{}12`, want: []result{{Msg: `{}`}, {Err: "Format"}, {Err: "EOF"}}},
		{name: "literals", input: `true{} false [] null`,
			want: []result{{Err: "Format"}, {Msg: `{}`}, {Err: "Format"}, {Msg: `[]`}, {Err: "Format"}, {Err: "EOF"}}, errText: "top-level value is true"},
		{name: "cut string", input: `"abc`, want: []result{{Err: "Format"}, {Err: "UnexpectedEOF"}}},
		{name: "cut literal", input: `{}tru`, want: []result{{Msg: `{}`}, {Err: "UnexpectedEOF"}}},

		// Not JSON: fatal.
		{name: "misspelled literal", input: `trux{}`, want: []result{{Err: "Format(fatal)"}}, errText: `invalid literal "trux" at top level`},
		{name: "misspelled short", input: `nx`, want: []result{{Err: "Format(fatal)"}}},
		{name: "closing bracket", input: `{}]`, want: []result{{Msg: `{}`}, {Err: "Format(fatal)"}},
			errText: "byte ']' where a JSON value should start; the stream cannot continue"},
		{name: "comma between values", input: `{},{}`, want: []result{{Msg: `{}`}, {Err: "Format(fatal)"}}},
		{name: "letters", input: `abc`, want: []result{{Err: "Format(fatal)"}}},
		{name: "after a number", input: `12abc{}`, want: []result{{Err: "Format"}, {Err: "Format(fatal)"}}},
		{name: "after a literal", input: `nullx`, want: []result{{Err: "Format"}, {Err: "Format(fatal)"}}},
		{name: "control byte", input: "\x00{}", want: []result{{Err: "Format(fatal)"}}, errText: "byte 0x00"},
		{name: "Content-Length framing sent", input: cl(2, "{}"), want: []result{{Err: "Format(fatal)"}}},
	}
	for _, tt := range tests {
		for cname, sizes := range chunkings {
			if tt.big && len(sizes) > 0 && sizes[0] < 4096 {
				continue
			}
			for _, eofWithData := range []bool{false, true} {
				t.Run(tt.name+"/"+cname, func(t *testing.T) {
					f := RawJSON{Max: tt.max, MaxDepth: tt.maxDepth}
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
						t.Errorf("reads (-want +got):\n%.2000s", diff)
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

// TestRawJSONNestingBombIsRefusedEarly feeds a bomb of 10 million '['
// that never closes, checks that the error comes at the first bracket
// over the limit, with almost nothing read, and that the rest is
// dropped without being held.
func TestRawJSONNestingBombIsRefusedEarly(t *testing.T) {
	const size = 10_000_000
	src := &repeatReader{n: size, b: '['}
	r := RawJSON{}.NewReader(iotest.OneByteReader(io.LimitReader(src, DefaultMaxDepth+1)))
	_, err := r.ReadMessage()
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Fatal() {
		t.Fatalf("got %v after %d bytes, want a FormatError that is not fatal", err, DefaultMaxDepth+1)
	}

	src = &repeatReader{n: size, b: '[', tail: []byte(strings.Repeat("]", 100))}
	r = RawJSON{}.NewReader(src)
	var err1, err2 error
	n := allocated(func() {
		_, err1 = r.ReadMessage()
		_, err2 = r.ReadMessage()
	})
	if kind(err1) != "Format" || err2 != io.ErrUnexpectedEOF {
		t.Fatalf("got %v, then %v; want a FormatError, then io.ErrUnexpectedEOF", err1, err2)
	}
	t.Logf("10 MB nesting bomb: %d bytes allocated, buffer capacity %d", n, cap(r.(*rawJSONReader).in.buf))
	if n > 1<<20 {
		t.Errorf("allocated %d bytes dropping a %d-byte nesting bomb", n, size)
	}
}

// TestRawJSONMemoryBound feeds a 100 MB value and checks that the reader
// holds a small multiple of the limit, not the value.
func TestRawJSONMemoryBound(t *testing.T) {
	const size = 100 << 20
	src := io.MultiReader(strings.NewReader(`["`), &repeatReader{n: size, b: 'x', tail: []byte(`"]{"ok":1}`)})
	r := RawJSON{}.NewReader(src)
	var msg []byte
	var err1, err2 error
	n := allocated(func() {
		_, err1 = r.ReadMessage()
		msg, err2 = r.ReadMessage()
	})
	if kind(err1) != "TooLarge" || string(msg) != `{"ok":1}` || err2 != nil {
		t.Fatalf("got %v, then %q, %v", err1, msg, err2)
	}
	c := cap(r.(*rawJSONReader).in.buf)
	t.Logf("100 MB value: %d bytes allocated, buffer capacity %d", n, c)
	if c > DefaultMax+readSize {
		t.Errorf("buffer capacity %d, over the limit plus a read buffer (%d)", c, DefaultMax+readSize)
	}
	if n > 4*DefaultMax {
		t.Errorf("allocated %d bytes reading a %d-byte value; want at most %d", n, size, 4*DefaultMax)
	}
}

// TestRawJSONBuffered checks that whitespace between values does not
// count as bytes waiting, so that a peer ending each value with a newline
// does not look as if it had sent more.
func TestRawJSONBuffered(t *testing.T) {
	c := NewStream(RawJSON{}, &recordConn{r: strings.NewReader("{\"id\":1}\n{\"id\":2}\n \r\n")})
	if _, err := c.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	if got, want := c.Buffered(), len("{\"id\":2}\n \r\n"); got != want {
		t.Errorf("Buffered after one message = %d, want %d", got, want)
	}
	if _, err := c.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	if got := c.Buffered(); got != 0 {
		t.Errorf("Buffered with only whitespace left = %d, want 0", got)
	}
	if _, err := c.ReadMessage(); err != io.EOF {
		t.Errorf("got %v, want io.EOF", err)
	}
}

func TestRawJSONAppendFrame(t *testing.T) {
	tests := []struct {
		name    string
		newline bool
		msg     string
		want    string
		wantErr bool
	}{
		{name: "object", msg: `{"a":1}`, want: `{"a":1}`},
		{name: "array", msg: `[1,2]`, want: `[1,2]`},
		{name: "newline after", newline: true, msg: `{}`, want: "{}\n"},
		{name: "whitespace kept", msg: " {\n} \n", want: " {\n} \n"},
		{name: "brackets in strings", msg: `{"a":"}]\"{"}`, want: `{"a":"}]\"{"}`},
		{name: "empty", msg: ``, wantErr: true},
		{name: "whitespace", msg: "  \n", wantErr: true},
		{name: "number", msg: `1`, wantErr: true},
		{name: "string", msg: `"s"`, wantErr: true},
		{name: "null", msg: `null`, wantErr: true},
		{name: "unclosed", msg: `{"a":1`, wantErr: true},
		{name: "unclosed string", msg: `{"a":"}`, wantErr: true},
		{name: "two values", msg: `{}{}`, wantErr: true},
		{name: "trailing bytes", msg: `{}x`, wantErr: true},
		{name: "closing bracket", msg: `]`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := RawJSON{NewlineAfter: tt.newline}
			got, err := f.AppendFrame([]byte("prefix"), []byte(tt.msg))
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidJSON) || string(got) != "prefix" {
					t.Fatalf("got %q, %v; want ErrInvalidJSON and dst unchanged", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff("prefix"+tt.want, string(got)); diff != "" {
				t.Errorf("frame (-want +got):\n%s", diff)
			}
			msg, err := f.NewReader(bytes.NewReader(got[len("prefix"):])).ReadMessage()
			if err != nil || string(msg) != strings.TrimSpace(tt.msg) {
				t.Errorf("read back %q, %v", msg, err)
			}
		})
	}
}

// TestRawJSONStreamOverPipe writes JSON messages from many goroutines at
// once, with and without a newline after each, and checks that they
// arrive whole and, per writer, in order.
func TestRawJSONStreamOverPipe(t *testing.T) {
	const writers, perWriter = 4, 100
	for _, newline := range []bool{false, true} {
		t.Run(fmt.Sprint("newline ", newline), func(t *testing.T) {
			f := RawJSON{NewlineAfter: newline}
			a, b := net.Pipe()
			client, server := NewStream(f, a), NewStream(f, b)
			var wg sync.WaitGroup
			errs := make(chan error, writers+1)
			for w := range writers {
				wg.Go(func() {
					for i := range perWriter {
						// Strings with brackets, quotes and escapes, of
						// sizes that span several pipe reads.
						body := strings.Repeat(`}]\"[{`, (i*97)%900)
						m := []byte(fmt.Sprintf(`{"w":%d,"i":%d,"s":"%s"}`, w, i, body))
						var err error
						if i%10 == 9 {
							err = client.WriteMessages([][]byte{m, []byte(fmt.Sprintf(`[%d,%d]`, w, i))})
						} else {
							err = client.WriteMessage(m)
						}
						if err != nil {
							errs <- err
							return
						}
					}
				})
			}
			go func() {
				wg.Wait()
				if err := client.WriteMessage([]byte(`"not an object"`)); !errors.Is(err, ErrInvalidJSON) {
					errs <- fmt.Errorf("writing a string: got %v, want ErrInvalidJSON", err)
				}
				client.Close()
				close(errs)
			}()
			next := make([]int, writers)
			count := 0
			for {
				msg, err := server.ReadMessage()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				count++
				if msg[0] == '[' {
					continue
				}
				var v struct {
					W, I int
					S    string
				}
				if err := json.Unmarshal(msg, &v); err != nil || v.W < 0 || v.W >= writers {
					t.Fatalf("mangled message %.60q: %v", msg, err)
				}
				if v.I != next[v.W] || v.S != strings.Repeat(`}]"[{`, (v.I*97)%900) {
					t.Fatalf("writer %d: got message %d, want message %d intact", v.W, v.I, next[v.W])
				}
				next[v.W]++
			}
			server.Close()
			for err := range errs {
				t.Error(err)
			}
			if want := writers * (perWriter + perWriter/10); count != want {
				t.Errorf("got %d messages, want %d", count, want)
			}
		})
	}
}
