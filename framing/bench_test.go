package framing

import (
	"bytes"
	"io"
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
