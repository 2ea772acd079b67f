package framing

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Each fuzz target checks, for its framer, that arbitrary input read in
// chunks of fuzz-chosen sizes gives exactly what a simple model of the
// format predicts, without a panic and without the reader's buffer ever
// growing past the limit plus its read buffers; and that messages framed
// and then split at arbitrary points come back exactly.

// fuzzSizes turns fuzz bytes into read sizes.
func fuzzSizes(b []byte) []int {
	sizes := make([]int, len(b))
	for i, c := range b {
		sizes[i] = int(c)
		if c > 250 {
			sizes[i] = int(c) * 64 // a few large reads
		}
	}
	return sizes
}

// readChecked reads until the end or a fatal error, checking the
// capacity of the reader's buffer after every read.
func readChecked(t *testing.T, read func() result, buf func() []byte, bound, limit int) []result {
	t.Helper()
	var out []result
	for range limit {
		res := read()
		out = append(out, res)
		if c := cap(buf()); c > bound {
			t.Fatalf("buffer capacity %d, over the bound %d", c, bound)
		}
		switch res.Err {
		case "EOF", "UnexpectedEOF", "TooLarge(fatal)", "BadMagic", "Format(fatal)":
			return out
		}
	}
	t.Fatalf("no end after %d reads", limit)
	return nil
}

// fuzzLimit turns a fuzz number into a size limit. Limits stay small, so
// that inputs over them stay small enough for the fuzzer to minimise.
// sameResults fails t if got is not want; it compares quickly, since it
// runs on every fuzz input.
func sameResults(t *testing.T, what string, want, got []result) {
	t.Helper()
	if !slices.Equal(want, got) {
		t.Fatalf("%s (-want +got):\n%s", what, cmp.Diff(want, got))
	}
}

func fuzzLimit(n uint16) int { return int(n%512) + 1 }

func FuzzNewline(f *testing.F) {
	f.Add([]byte("hello\nworld\n"), []byte{1, 2, 3}, uint16(5))
	f.Add([]byte("a\n\n12345\n123456\nok\n"), []byte{0}, uint16(4))
	f.Add(bytes.Repeat([]byte("x"), 700), []byte{255, 7}, uint16(100))
	f.Add([]byte("{\"jsonrpc\":\"2.0\",\"id\":1}\n{\"id\":2}\npartial"), []byte{}, uint16(511))
	f.Fuzz(func(t *testing.T, wire, sizes []byte, limitSeed uint16) {
		lim := fuzzLimit(limitSeed)
		// The model: every complete line is a message or, over the
		// limit, an error; a cut line ends the stream.
		var want []result
		lines := bytes.Split(wire, []byte("\n"))
		for _, line := range lines[:len(lines)-1] {
			if len(line) > lim {
				want = append(want, result{Err: "TooLarge"})
			} else {
				want = append(want, result{Msg: string(line)})
			}
		}
		switch last := lines[len(lines)-1]; {
		case len(last) > lim:
			want = append(want, result{Err: "TooLarge"}, result{Err: "UnexpectedEOF"})
		case len(last) > 0:
			want = append(want, result{Err: "UnexpectedEOF"})
		default:
			want = append(want, result{Err: "EOF"})
		}
		src := &chunkReader{data: wire, sizes: fuzzSizes(sizes), eofWithData: len(sizes)%2 == 1}
		r := Newline{Max: lim}.NewReader(src).(*newlineReader)
		got := readChecked(t, func() result {
			msg, err := r.ReadMessage()
			return result{Msg: string(msg), Err: kind(err)}
		}, func() []byte { return r.in.buf }, lim+readSize, len(want)+1)
		sameResults(t, "reads", want, got)

		// Round trip of the lines within the limit.
		var framed []byte
		want = want[:0]
		for _, line := range lines {
			if len(line) <= lim {
				var err error
				if framed, err = (Newline{Max: lim}).AppendFrame(framed, line); err != nil {
					t.Fatal(err)
				}
				want = append(want, result{Msg: string(line)})
			}
		}
		want = append(want, result{Err: "EOF"})
		got = readAll(Newline{Max: lim}.NewReader(&chunkReader{data: framed, sizes: fuzzSizes(sizes)}), len(want)+1)
		sameResults(t, "round trip", want, got)
	})
}

// pieces cuts data into consecutive pieces of at most lim bytes, sized
// by cuts; a cut of 0 makes an empty piece, never two in a row.
func pieces(data, cuts []byte, lim int) [][]byte {
	var out [][]byte
	empty := false
	for i := 0; len(data) > 0; i++ {
		n := len(data)
		if len(cuts) > 0 {
			n = int(cuts[i%len(cuts)]) * 7
		}
		if n == 0 && !empty {
			out = append(out, data[:0])
			empty = true
			continue
		}
		n = max(min(n, lim, len(data)), 1)
		out = append(out, data[:n])
		data = data[n:]
		empty = false
	}
	return out
}

func FuzzLengthPrefixed(f *testing.F) {
	seed := func(msgs ...string) []byte {
		var b []byte
		for _, m := range msgs {
			b, _ = LengthPrefixed{}.AppendFrame(b, []byte(m))
		}
		return b
	}
	f.Add(seed("hello", "", "world"), []byte{1, 2, 3}, uint16(5))
	f.Add(seed("12345", "123456", "x"), []byte{0}, uint16(5))
	f.Add(append(seed("ok"), 0, 0, 0), []byte{}, uint16(100))
	f.Add([]byte{0, 0, 0x10, 0, 'a'}, []byte{255}, uint16(511))
	f.Fuzz(func(t *testing.T, wire, sizes []byte, limitSeed uint16) {
		lim := fuzzLimit(limitSeed)
		// The model.
		var want []result
		for rest := wire; ; {
			if len(rest) == 0 {
				want = append(want, result{Err: "EOF"})
				break
			}
			if len(rest) < 4 {
				want = append(want, result{Err: "UnexpectedEOF"})
				break
			}
			n := binary.BigEndian.Uint32(rest)
			if int64(n) > int64(lim) {
				want = append(want, result{Err: "TooLarge(fatal)"})
				break
			}
			if int64(len(rest)-4) < int64(n) {
				want = append(want, result{Err: "UnexpectedEOF"})
				break
			}
			want = append(want, result{Msg: string(rest[4 : 4+n])})
			rest = rest[4+n:]
		}
		src := &chunkReader{data: wire, sizes: fuzzSizes(sizes), eofWithData: len(sizes)%2 == 1}
		r := LengthPrefixed{Max: lim}.NewReader(src).(*lengthReader)
		got := readChecked(t, func() result {
			msg, err := r.ReadMessage()
			return result{Msg: string(msg), Err: kind(err)}
		}, func() []byte { return r.in.buf }, max(lim+lengthHeader, readSize)+readSize, len(want)+1)
		sameResults(t, "reads", want, got)

		// Round trip of wire cut into messages.
		var framed []byte
		want = want[:0]
		for _, m := range pieces(wire, sizes, lim) {
			var err error
			if framed, err = (LengthPrefixed{Max: lim}).AppendFrame(framed, m); err != nil {
				t.Fatal(err)
			}
			want = append(want, result{Msg: string(m)})
		}
		want = append(want, result{Err: "EOF"})
		got = readAll(LengthPrefixed{Max: lim}.NewReader(&chunkReader{data: framed, sizes: fuzzSizes(sizes)}), len(want)+1)
		sameResults(t, "round trip", want, got)
	})
}

func FuzzBitcoin(f *testing.F) {
	seed := func(msgs ...string) []byte {
		var b []byte
		for i, m := range msgs {
			b, _ = Bitcoin{}.AppendMessage(b, []string{"tx", "block", "version", ""}[i%4], []byte(m))
		}
		return b
	}
	f.Add(seed("hello", "", "world"), []byte{1, 2, 3}, uint16(5))
	f.Add(seed("12345", "1234567890x", "x"), []byte{0}, uint16(5))
	bad := seed("abc", "ok")
	bad[20] ^= 1 // checksum of the first message
	f.Add(bad, []byte{}, uint16(100))
	f.Add(append(seed("ok"), 0xe3, 0xe1, 0xf3), []byte{255}, uint16(511))
	f.Fuzz(func(t *testing.T, wire, sizes []byte, limitSeed uint16) {
		lim := fuzzLimit(limitSeed)
		b := Bitcoin{MaxPayload: lim, MaxBlockPayload: 2 * lim}
		// The model.
		var want []result
		for rest := wire; ; {
			if len(rest) == 0 {
				want = append(want, result{Err: "EOF"})
				break
			}
			if len(rest) < 24 {
				want = append(want, result{Err: "UnexpectedEOF"})
				break
			}
			if !bytes.Equal(rest[:4], DefaultMagic[:]) {
				want = append(want, result{Err: "BadMagic"})
				break
			}
			cmd, _, _ := bytes.Cut(rest[4:16], []byte{0})
			n := int64(binary.LittleEndian.Uint32(rest[16:20]))
			if (string(cmd) == "block" && n > int64(2*lim)) || (string(cmd) != "block" && n > int64(lim)) {
				want = append(want, result{Err: "TooLarge(fatal)"})
				break
			}
			if int64(len(rest)-24) < n {
				want = append(want, result{Err: "UnexpectedEOF"})
				break
			}
			payload := rest[24 : 24+n]
			if sum := checksum(payload); !bytes.Equal(sum[:], rest[20:24]) {
				want = append(want, result{Err: "BadChecksum"})
			} else {
				want = append(want, result{Cmd: string(cmd), Msg: string(payload)})
			}
			rest = rest[24+n:]
		}
		src := &chunkReader{data: wire, sizes: fuzzSizes(sizes), eofWithData: len(sizes)%2 == 1}
		r := b.NewReader(src)
		got := readChecked(t, func() result {
			m, err := r.ReadMessage()
			return result{Cmd: m.Command, Msg: string(m.Payload), Err: kind(err)}
		}, func() []byte { return r.in.buf }, max(2*lim+bitcoinHeader, readSize)+readSize, len(want)+1)
		sameResults(t, "reads", want, got)

		// Round trip of wire cut into payloads, with assorted commands.
		commands := []string{"tx", "block", "", "abcdefghijkl", "inv"}
		var framed []byte
		want = want[:0]
		for i, p := range pieces(wire, sizes, lim) {
			cmd := commands[i%len(commands)]
			var err error
			if framed, err = b.AppendMessage(framed, cmd, p); err != nil {
				t.Fatal(err)
			}
			want = append(want, result{Cmd: cmd, Msg: string(p)})
		}
		want = append(want, result{Err: "EOF"})
		got = readAllBitcoin(b.NewReader(&chunkReader{data: framed, sizes: fuzzSizes(sizes)}), len(want)+1)
		sameResults(t, "round trip", want, got)
	})
}

// modelHeader reads the Content-Length header at the start of rest as
// the documentation says, a line at a time, and returns its length, its
// size, and what goes wrong ("" if nothing).
func modelHeader(rest []byte, maxHeader int) (length int64, size int, outcome string) {
	w := rest[:min(len(rest), maxHeader)]
	length = -1
	overflow := false
	for ls := 0; ; {
		line, _, complete := bytes.Cut(w[ls:], []byte("\n"))
		if !modelLineOK(line, complete) {
			return 0, 0, "Format(fatal)"
		}
		if !complete {
			if len(rest) > len(w) {
				return 0, 0, "Format(fatal)" // over the limit
			}
			return 0, 0, "UnexpectedEOF"
		}
		content := line[:len(line)-1]
		ls += len(line) + 1
		if len(content) == 0 {
			switch {
			case overflow:
				return 0, 0, "TooLarge(fatal)"
			case length < 0:
				return 0, 0, "Format(fatal)"
			}
			return length, ls, ""
		}
		name, value, _ := bytes.Cut(content, []byte(":"))
		if !strings.EqualFold(string(name), "content-length") {
			continue
		}
		if length >= 0 || overflow {
			return 0, 0, "Format(fatal)"
		}
		value = bytes.Trim(value, " \t")
		if len(value) == 0 || strings.Trim(string(value), "0123456789") != "" {
			return 0, 0, "Format(fatal)"
		}
		n, err := strconv.ParseInt(string(value), 10, 64)
		if err != nil {
			overflow = true
		} else {
			length = n
		}
	}
}

// modelLineOK checks a header line (without its LF; complete if the LF
// came) byte by byte as far as it goes.
func modelLineOK(line []byte, complete bool) bool {
	if complete && (len(line) == 0 || line[len(line)-1] != '\r') {
		return false
	}
	colon := bytes.IndexByte(line, ':')
	nameEnd := len(line)
	if colon >= 0 {
		nameEnd = colon
	}
	for i, c := range line[:nameEnd] {
		if c == '\r' && i == 0 && len(line) == 1 {
			continue // the blank line
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) && !('a' <= c && c <= 'z') && !('A' <= c && c <= 'Z') && !('0' <= c && c <= '9') {
			return false
		}
	}
	if colon == 0 {
		return false
	}
	if colon > 0 {
		if cr := bytes.IndexByte(line[colon:], '\r'); cr >= 0 && colon+cr != len(line)-1 {
			return false
		}
	}
	return true
}

func FuzzContentLength(f *testing.F) {
	f.Add([]byte(cl(5, "hello")+cl(0, "")+"content-length:  2 \r\nContent-Type: x\r\n\r\n{}"), []byte{1, 2, 3}, uint16(5), uint16(100))
	f.Add([]byte(cl(9, "abc")), []byte{0}, uint16(4), uint16(30))
	f.Add([]byte("Content-Length: 2\r\n{}"), []byte{}, uint16(100), uint16(30))
	f.Add([]byte("Content-Length: 99999999999999999999\r\n\r\n"), []byte{255}, uint16(511), uint16(199))
	f.Add([]byte("X: a\rb\r\nContent-Length: -1\r\n\r\n"), []byte{7}, uint16(10), uint16(5))
	f.Fuzz(func(t *testing.T, wire, sizes []byte, limitSeed, headerSeed uint16) {
		lim := fuzzLimit(limitSeed)
		hlim := int(headerSeed%200) + 1
		var want []result
		for rest := wire; ; {
			if len(rest) == 0 {
				want = append(want, result{Err: "EOF"})
				break
			}
			length, size, outcome := modelHeader(rest, hlim)
			if outcome != "" {
				want = append(want, result{Err: outcome})
				break
			}
			rest = rest[size:]
			if length > int64(lim) {
				want = append(want, result{Err: "TooLarge"})
			}
			if int64(len(rest)) < length {
				want = append(want, result{Err: "UnexpectedEOF"})
				break
			}
			if length <= int64(lim) {
				want = append(want, result{Msg: string(rest[:length])})
			}
			rest = rest[length:]
		}
		src := &chunkReader{data: wire, sizes: fuzzSizes(sizes), eofWithData: len(sizes)%2 == 1}
		r := ContentLength{Max: lim, MaxHeader: hlim}.NewReader(src).(*contentLengthReader)
		got := readChecked(t, func() result {
			msg, err := r.ReadMessage()
			return result{Msg: string(msg), Err: kind(err)}
		}, func() []byte { return r.in.buf }, max(max(lim, hlim)+2*readSize, burstSize), len(want)+1)
		sameResults(t, "reads", want, got)

		// Round trip of wire cut into messages, with a Content-Type on
		// some, read with headers written by hand in other styles too.
		var framed []byte
		want = want[:0]
		for i, m := range pieces(wire, sizes, lim) {
			var err error
			switch i % 3 {
			case 0:
				framed, err = ContentLength{}.AppendFrame(framed, m)
			case 1:
				framed, err = ContentLength{ContentType: "application/vscode-jsonrpc; charset=utf-8"}.AppendFrame(framed, m)
			default:
				framed = fmt.Appendf(framed, "x-id: %d\r\ncontent-LENGTH:\t%d \r\n\r\n%s", i, len(m), m)
			}
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, result{Msg: string(m)})
		}
		want = append(want, result{Err: "EOF"})
		got = readAll(ContentLength{Max: lim}.NewReader(&chunkReader{data: framed, sizes: fuzzSizes(sizes)}), len(want)+1)
		sameResults(t, "round trip", want, got)
	})
}

// modelJSON reads concatenated JSON values from wire as the
// documentation says, on the whole input at once.
func modelJSON(wire []byte, lim, maxDepth int) []result {
	// valueEnd returns the end of the value or string at wire[i] (just
	// past it), or -1, and the index of the first bracket over the
	// depth limit, or -1.
	valueEnd := func(i int) (end, deep int) {
		depth, str, esc := 0, false, false
		deep = -1
		for j := i; j < len(wire); j++ {
			c := wire[j]
			switch {
			case esc:
				esc = false
			case str && c == '\\':
				esc = true
			case str && c == '"':
				str = false
				if depth == 0 {
					return j + 1, deep
				}
			case str:
			case c == '"':
				str = true
			case c == '{' || c == '[':
				depth++
				if depth > maxDepth && maxDepth >= 0 && deep < 0 {
					deep = j
				}
			case c == '}' || c == ']':
				depth--
				if depth == 0 {
					return j + 1, deep
				}
			}
		}
		return -1, deep
	}
	var out []result
	i := 0
	for {
		for i < len(wire) && strings.IndexByte(" \t\r\n", wire[i]) >= 0 {
			i++
		}
		if i == len(wire) {
			return append(out, result{Err: "EOF"})
		}
		c := wire[i]
		switch {
		case c == '{' || c == '[':
			end, deep := valueEnd(i)
			switch {
			case deep >= 0 && deep-i <= lim:
				out = append(out, result{Err: "Format"})
			case end >= 0 && end-i <= lim:
				out = append(out, result{Msg: string(wire[i:end])})
			case end >= 0 || len(wire)-i > lim:
				out = append(out, result{Err: "TooLarge"})
			}
			if end < 0 {
				return append(out, result{Err: "UnexpectedEOF"})
			}
			i = end
		case c == '"':
			out = append(out, result{Err: "Format"})
			end, _ := valueEnd(i)
			if end < 0 {
				return append(out, result{Err: "UnexpectedEOF"})
			}
			i = end
		case c == '-' || ('0' <= c && c <= '9'):
			out = append(out, result{Err: "Format"})
			for i++; i < len(wire) && strings.IndexByte("0123456789+-.eE", wire[i]) >= 0; i++ {
			}
		case c == 't' || c == 'f' || c == 'n':
			lit := map[byte]string{'t': "true", 'f': "false", 'n': "null"}[c]
			switch rest := string(wire[i:]); {
			case strings.HasPrefix(rest, lit):
				out = append(out, result{Err: "Format"})
				i += len(lit)
			case strings.HasPrefix(lit, rest):
				return append(out, result{Err: "UnexpectedEOF"})
			default:
				return append(out, result{Err: "Format(fatal)"})
			}
		default:
			return append(out, result{Err: "Format(fatal)"})
		}
	}
}

func FuzzRawJSON(f *testing.F) {
	f.Add([]byte(`{"a":1}[1,2] {"b":"}\"{"}`+"\n"+`[[[]]]`), []byte{1, 2, 3}, uint16(50), uint8(3))
	f.Add([]byte(`"str" 12 true{}null[]-1e5{"x":[`), []byte{0}, uint16(5), uint8(1))
	f.Add([]byte(`[[[[[[[[[[[[]]]]]]]]]]]]{}`), []byte{}, uint16(100), uint8(4))
	f.Add([]byte(`{"a":"\\\\\""}]`), []byte{255}, uint16(511), uint8(0))
	f.Add([]byte(`trux`), []byte{7}, uint16(10), uint8(2))
	f.Fuzz(func(t *testing.T, wire, sizes []byte, limitSeed uint16, depthSeed uint8) {
		lim := fuzzLimit(limitSeed)
		depth := int(depthSeed%16) + 1
		want := modelJSON(wire, lim, depth)
		src := &chunkReader{data: wire, sizes: fuzzSizes(sizes), eofWithData: len(sizes)%2 == 1}
		r := RawJSON{Max: lim, MaxDepth: depth}.NewReader(src).(*rawJSONReader)
		got := readChecked(t, func() result {
			msg, err := r.ReadMessage()
			return result{Msg: string(msg), Err: kind(err)}
		}, func() []byte { return r.in.buf }, lim+readSize, len(want)+1)
		sameResults(t, "reads", want, got)

		// Round trip of wire cut into strings, each in an array or an
		// object, nested as the cuts say, with or without newlines.
		fr := RawJSON{NewlineAfter: len(sizes)%2 == 0}
		var framed []byte
		want = want[:0]
		for i, p := range pieces(wire, sizes, lim) {
			s, _ := json.Marshal(string(p))
			m := fmt.Sprintf(`[%s]`, s)
			if i%2 == 1 {
				n := len(p)%8 + 1
				m = strings.Repeat(`{"k":`, n) + m + strings.Repeat("}", n)
			}
			var err error
			if framed, err = fr.AppendFrame(framed, []byte(m)); err != nil {
				t.Fatalf("%q: %v", m, err)
			}
			want = append(want, result{Msg: m})
		}
		want = append(want, result{Err: "EOF"})
		got = readAll(RawJSON{Max: NoLimit}.NewReader(&chunkReader{data: framed, sizes: fuzzSizes(sizes)}), len(want)+1)
		sameResults(t, "round trip", want, got)
	})
}

func FuzzVarintPrefixed(f *testing.F) {
	seed := func(msgs ...string) []byte {
		var b []byte
		for _, m := range msgs {
			b, _ = VarintPrefixed{}.AppendFrame(b, []byte(m))
		}
		return b
	}
	f.Add(seed("hello", "", "world"), []byte{1, 2, 3}, uint16(5))
	f.Add(seed("12345", "123456", "x"), []byte{0}, uint16(5))
	f.Add(append(seed("ok"), 0x80), []byte{}, uint16(100))
	f.Add([]byte{0x80, 0x00, 'a'}, []byte{255}, uint16(511))
	f.Add(bytes.Repeat([]byte{0xff}, 11), []byte{3}, uint16(511))
	f.Fuzz(func(t *testing.T, wire, sizes []byte, limitSeed uint16) {
		lim := fuzzLimit(limitSeed)
		var want []result
		for rest := wire; ; {
			if len(rest) == 0 {
				want = append(want, result{Err: "EOF"})
				break
			}
			n, k := binary.Uvarint(rest)
			if k == 0 {
				want = append(want, result{Err: "UnexpectedEOF"})
				break
			}
			if k < 0 || (k > 1 && rest[k-1] == 0) {
				want = append(want, result{Err: "Format(fatal)"})
				break
			}
			if n > uint64(lim) {
				want = append(want, result{Err: "TooLarge(fatal)"})
				break
			}
			if uint64(len(rest)-k) < n {
				want = append(want, result{Err: "UnexpectedEOF"})
				break
			}
			want = append(want, result{Msg: string(rest[k : k+int(n)])})
			rest = rest[k+int(n):]
		}
		src := &chunkReader{data: wire, sizes: fuzzSizes(sizes), eofWithData: len(sizes)%2 == 1}
		r := VarintPrefixed{Max: lim}.NewReader(src).(*varintReader)
		got := readChecked(t, func() result {
			msg, err := r.ReadMessage()
			return result{Msg: string(msg), Err: kind(err)}
		}, func() []byte { return r.in.buf }, max(lim+binary.MaxVarintLen64, readSize)+readSize, len(want)+1)
		sameResults(t, "reads", want, got)

		var framed []byte
		want = want[:0]
		for _, m := range pieces(wire, sizes, lim) {
			framed, _ = VarintPrefixed{}.AppendFrame(framed, m)
			want = append(want, result{Msg: string(m)})
		}
		want = append(want, result{Err: "EOF"})
		got = readAll(VarintPrefixed{Max: lim}.NewReader(&chunkReader{data: framed, sizes: fuzzSizes(sizes)}), len(want)+1)
		sameResults(t, "round trip", want, got)
	})
}
