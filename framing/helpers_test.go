package framing

import (
	"errors"
	"io"
)

// chunkReader returns data in chunks of the sizes given, cycling
// through them (a size of 0 or less means 1). With eofWithData the last
// chunk comes with io.EOF, as some readers do.
type chunkReader struct {
	data        []byte
	sizes       []int
	i           int
	eofWithData bool
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := len(c.data)
	if len(c.sizes) > 0 {
		n = max(c.sizes[c.i%len(c.sizes)], 1)
		c.i++
	}
	n = min(n, len(p), len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	if len(c.data) == 0 && c.eofWithData {
		return n, io.EOF
	}
	return n, nil
}

// result is one outcome of a read, in a form cmp.Diff can show.
type result struct {
	Msg string
	Cmd string
	Err string
}

// kind names the errors the readers return.
func kind(err error) string {
	var tl *TooLargeError
	var bm *BadMagicError
	var bc *BadChecksumError
	var fe *FormatError
	switch {
	case err == nil:
		return ""
	case err == io.EOF:
		return "EOF"
	case err == io.ErrUnexpectedEOF:
		return "UnexpectedEOF"
	case errors.As(err, &tl):
		if tl.Fatal() {
			return "TooLarge(fatal)"
		}
		return "TooLarge"
	case errors.As(err, &bm):
		return "BadMagic"
	case errors.As(err, &bc):
		return "BadChecksum"
	case errors.As(err, &fe):
		if fe.Fatal() {
			return "Format(fatal)"
		}
		return "Format"
	}
	return err.Error()
}

// final reports whether a reader is done after err: the end of the
// stream, or a fatal error.
func final(err error) bool {
	var fe Error
	return err == io.EOF || err == io.ErrUnexpectedEOF || (errors.As(err, &fe) && fe.Fatal()) || (err != nil && !errors.As(err, &fe))
}

// readAll reads messages until the end or a fatal error, at most limit
// reads, and returns what each read gave.
func readAll(r Reader, limit int) []result {
	var out []result
	for range limit {
		msg, err := r.ReadMessage()
		out = append(out, result{Msg: string(msg), Err: kind(err)})
		if final(err) {
			break
		}
	}
	return out
}

// readAllBitcoin is readAll for a BitcoinReader.
func readAllBitcoin(r *BitcoinReader, limit int) []result {
	var out []result
	for range limit {
		m, err := r.ReadMessage()
		out = append(out, result{Msg: string(m.Payload), Cmd: m.Command, Err: kind(err)})
		if final(err) {
			break
		}
	}
	return out
}

// chunkings are the ways each table test splits its input across reads.
var chunkings = map[string][]int{
	"whole":  nil,
	"1":      {1},
	"2":      {2},
	"3,5,1":  {3, 5, 1},
	"7":      {7},
	"4096":   {4096},
	"5000,1": {5000, 1},
}
