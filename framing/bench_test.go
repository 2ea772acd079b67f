package framing

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// loopReader returns data over and over, never ending.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := copy(p, l.data[l.off:])
	l.off = (l.off + n) % len(l.data)
	return n, nil
}

// discardConn swallows writes.
type discardConn struct{}

func (discardConn) Read([]byte) (int, error)    { return 0, io.EOF }
func (discardConn) Write(p []byte) (int, error) { return len(p), nil }
func (discardConn) Close() error                { return nil }

var benchSizes = []struct {
	name string
	size int
}{
	{"100B", 100},
	{"10KB", 10_000},
}

// payload returns n bytes without a newline.
func payload(n int) []byte { return bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n] }

// wire returns msg framed by appendFrame enough times to fill 256 KiB.
func wire(msg []byte, appendFrame func(dst, msg []byte) ([]byte, error)) []byte {
	var b []byte
	for len(b) < 256<<10 {
		b, _ = appendFrame(b, msg)
	}
	return b
}

func bitcoinFrame(dst, msg []byte) ([]byte, error) { return Bitcoin{}.AppendMessage(dst, "tx", msg) }

// jsonPayload returns a JSON-RPC response of exactly n bytes (n >= 48):
// a list of objects with hex strings and numbers, as an Electrum server
// sends, padded with a string.
func jsonPayload(n int) []byte {
	const head, tail = `{"jsonrpc":"2.0","id":1,"result":[`, `],"pad":""}`
	item := `{"tx_hash":"` + strings.Repeat("9f3c", 16) + `","height":812345,"fee":-1}`
	b := []byte(head)
	for i := 0; len(b)+len(item)+1+len(tail) <= n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, item...)
	}
	b = append(b, tail[:len(tail)-2]...)
	b = append(b, strings.Repeat("x", n-len(b)-2)...)
	return append(b, tail[len(tail)-2:]...)
}

func BenchmarkRead(b *testing.B) {
	for _, sz := range benchSizes {
		msg := payload(sz.size)
		for name, f := range framers {
			b.Run(name+"/"+sz.name, func(b *testing.B) {
				r := f.NewReader(&loopReader{data: wire(msg, f.AppendFrame)})
				b.SetBytes(int64(len(msg)))
				b.ReportAllocs()
				for b.Loop() {
					if m, err := r.ReadMessage(); err != nil || len(m) != len(msg) {
						b.Fatalf("got %d bytes, %v", len(m), err)
					}
				}
			})
		}
		b.Run("rawjson/"+sz.name, func(b *testing.B) {
			msg := jsonPayload(sz.size)
			r := RawJSON{}.NewReader(&loopReader{data: wire(msg, RawJSON{}.AppendFrame)})
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if m, err := r.ReadMessage(); err != nil || len(m) != len(msg) {
					b.Fatalf("got %d bytes, %v", len(m), err)
				}
			}
		})
		b.Run("bitcoin/"+sz.name, func(b *testing.B) {
			r := Bitcoin{}.NewReader(&loopReader{data: wire(msg, bitcoinFrame)})
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if m, err := r.ReadMessage(); err != nil || len(m.Payload) != len(msg) {
					b.Fatalf("got %d bytes, %v", len(m.Payload), err)
				}
			}
		})
	}
}

func BenchmarkWrite(b *testing.B) {
	for _, sz := range benchSizes {
		msg := payload(sz.size)
		for name, f := range framers {
			b.Run(name+"/"+sz.name, func(b *testing.B) {
				s := NewStream(f, discardConn{})
				b.SetBytes(int64(len(msg)))
				b.ReportAllocs()
				for b.Loop() {
					if err := s.WriteMessage(msg); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run("rawjson/"+sz.name, func(b *testing.B) {
			msg := jsonPayload(sz.size)
			s := NewStream(RawJSON{}, discardConn{})
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if err := s.WriteMessage(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("bitcoin/"+sz.name, func(b *testing.B) {
			s := NewBitcoinStream(Bitcoin{}, discardConn{})
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if err := s.WriteMessage("tx", msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWriteMessages writes batches of 10 messages; the figures are
// per batch.
func BenchmarkWriteMessages(b *testing.B) {
	for _, sz := range benchSizes {
		msgs := make([][]byte, 10)
		for i := range msgs {
			msgs[i] = payload(sz.size)
		}
		b.Run("newline/"+sz.name, func(b *testing.B) {
			s := NewStream(Newline{}, discardConn{})
			b.SetBytes(int64(10 * sz.size))
			b.ReportAllocs()
			for b.Loop() {
				if err := s.WriteMessages(msgs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestJSONPayload(t *testing.T) {
	for _, n := range []int{48, 100, 1000, 10_000} {
		p := jsonPayload(n)
		if len(p) != n || !json.Valid(p) {
			t.Errorf("jsonPayload(%d): %d bytes, valid %v: %.100s", n, len(p), json.Valid(p), p)
		}
	}
}
