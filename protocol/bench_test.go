package protocol

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/sourcegraph/jsonrpc2"
)

// benchRequest is a typical 150-byte request: an ElectrumX history
// query for a script hash.
const benchRequest = `{"jsonrpc":"2.0","method":"blockchain.scripthash.get_history",` +
	`"params":["8b01df4e368ea28f8dc0423bcf7a4923e3a12d307c875e47a0cfbf90b5c3"],"id":42}`

// benchResult is a 200-byte result.
var benchResult = json.RawMessage(`[{"tx_hash":"a9f6c2d1b3e4f5061728394a5b6c7d8e9f00112233445566778899aabbccddee",` +
	`"height":612345,"fee":12},{"tx_hash":"0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0",` +
	`"height":612346}]`)

func benchBatch(n int) []byte {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strings.Replace(benchRequest, `"id":42`, `"id":`+strconv.Itoa(i), 1))
	}
	b.WriteByte(']')
	return []byte(b.String())
}

func TestBenchInputs(t *testing.T) {
	if n := len(benchRequest); n < 140 || n > 160 {
		t.Errorf("benchRequest is %d bytes, want about 150", n)
	}
	if n := len(benchResult); n != 200 {
		t.Errorf("benchResult is %d bytes, want 200", n)
	}
	m, err := New(V2, nil).Decode(benchBatch(100))
	if err != nil || len(m.Items) != 100 || m.Items[99].Kind != KindRequest {
		t.Fatalf("batch: %v, %d items", err, len(m.Items))
	}
}

func BenchmarkDecodeRequest(b *testing.B) {
	msg := []byte(benchRequest)
	b.Run("gorpcx", func(b *testing.B) {
		c := New(V2, nil)
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			if _, err := c.Decode(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			var r jsonrpc2.Request
			if err := json.Unmarshal(msg, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEncodeResult(b *testing.B) {
	c := New(V2, nil)
	id := []byte("42")
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchResult)))
	for b.Loop() {
		var err error
		if buf, err = c.AppendResult(buf[:0], id, benchResult); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBatch(b *testing.B) {
	msg := benchBatch(100)
	c := New(V2, nil)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := c.Decode(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeError decodes error responses: a standard 2.0 error
// object, and ovsdb-server's 1.0 error object without "result", read
// whole.
func BenchmarkDecodeError(b *testing.B) {
	for _, bc := range []struct {
		name string
		d    Dialect
		msg  string
	}{
		{"v2", V2, `{"jsonrpc":"2.0","error":{"code":-32601,"message":"unknown method \"blockchain.foo\""},"id":42}`},
		{"ovsdb", V1, `{"id":42,"error":{"error":"unknown database","details":"get_schema request specifies unknown database Foo","syntax":"[\"Foo\"]"}}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			msg := []byte(bc.msg)
			c := New(bc.d, nil)
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				m, err := c.Decode(msg)
				if err != nil || m.Items[0].Response.Error == nil {
					b.Fatal(m, err)
				}
			}
		})
	}
}
