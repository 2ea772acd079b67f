package framing

import (
	"bytes"
	"encoding/binary"
	"slices"
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
		case "EOF", "UnexpectedEOF", "TooLarge(fatal)", "BadMagic":
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
