package protocol

import (
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAutoDetect(t *testing.T) {
	tests := []struct {
		name  string
		first string
		want  Dialect
		err   *errView // of the first message
	}{
		{"2.0 request", `{"jsonrpc":"2.0","method":"a","id":1}`, V2, nil},
		{"2.0 escaped", `{"jsonrpc":"\u0032.0","method":"a","id":1}`, V2, nil},
		{"1.0 by jsonrpc", `{"jsonrpc":"1.0","method":"a","params":[],"id":1}`, V1, nil},
		{"1.0 response", `{"result":1,"error":null,"id":1}`, V1, nil},
		{"2.0 with result and error", `{"jsonrpc":"2.0","result":1,"error":null,"id":1}`, V2, nil},
		{"no jsonrpc", `{"method":"a","params":[],"id":1}`, Loose, nil},
		{"other jsonrpc", `{"jsonrpc":"3.0","method":"a","id":1}`, Loose, nil},
		{"numeric jsonrpc", `{"jsonrpc":2.0,"method":"a","id":1}`, Loose, nil},
		{"result only", `{"result":1,"id":1}`, Loose, nil},
		{"not an object", `5`, Loose, invalidErr},
		{"empty batch", `[ ]`, Loose, invalidErr},
		{"batch of 2.0", `[{"jsonrpc":"2.0","method":"a","id":1},{"jsonrpc":"2.0","method":"b"}]`, V2, nil},
		{"batch of 2.0 and loose", `[{"method":"a","id":1},{"jsonrpc":"2.0","method":"b"}]`, V2, nil},
		{"batch of 2.0 and 1.0", `[{"jsonrpc":"1.0","method":"a","id":1},{"jsonrpc":"2.0","method":"b"}]`, V2, nil},
		{"batch of 1.0 and loose", `[{"jsonrpc":"1.0","method":"a","id":1},{"method":"b"}]`, V1, invalidErr},
		{"batch of 1.0", `[{"result":1,"error":null,"id":1}]`, V1, invalidErr},
		{"batch of loose", `[{"method":"a","id":1}, 7]`, Loose, nil},
		{"batch of scalars", `[7]`, Loose, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Auto, nil)
			if got := c.Dialect(); got != Auto {
				t.Fatalf("Dialect() before the first message = %v", got)
			}
			_, err := c.Decode([]byte(tt.first))
			if diff := cmp.Diff(tt.err, decodeErr(t, err)); diff != "" {
				t.Errorf("first message error (-want +got):\n%s", diff)
			}
			if got := c.Dialect(); got != tt.want {
				t.Errorf("Dialect() = %v, want %v", got, tt.want)
			}
			// The choice is kept, whatever comes next.
			if _, err := c.Decode([]byte(`{"jsonrpc":"1.0","method":"a","params":[],"id":1}`)); err != nil {
				t.Fatal(err)
			}
			if got := c.Dialect(); got != tt.want {
				t.Errorf("Dialect() after a second message = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestAutoDetectParseError checks that a message that is not JSON
// leaves the dialect to be detected from the next one.
func TestAutoDetectParseError(t *testing.T) {
	for _, bad := range []string{``, `{`, `[`, `[1,`, `[1 2]`, `[1]]`, `{"jsonrpc":"2.0"} 1`, "\"\xff\"", `tru`, `[{"a":}]`, strings.Repeat("[", 300) + strings.Repeat("]", 300)} {
		c := New(Auto, nil)
		_, err := c.Decode([]byte(bad))
		if diff := cmp.Diff(parseErr, decodeErr(t, err)); diff != "" {
			t.Errorf("%.20q: error (-want +got):\n%s", bad, diff)
		}
		if got := c.Dialect(); got != Auto {
			t.Errorf("%.20q: Dialect() = %v, want auto", bad, got)
		}
		if _, err := c.Decode([]byte(`{"jsonrpc":"2.0","method":"a","id":1}`)); err != nil {
			t.Fatal(err)
		}
		if got := c.Dialect(); got != V2 {
			t.Errorf("%.20q then 2.0: Dialect() = %v, want v2", bad, got)
		}
	}
}

// TestAutoDecodes checks that a detected codec decodes by its dialect's
// rules, the first message included.
func TestAutoDecodes(t *testing.T) {
	c := New(Auto, nil)
	m, err := c.Decode([]byte(`{"method":"a","params":[],"id":null}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]view{notif("a", `[]`)}, views(t, m)); diff != "" {
		t.Errorf("loose 1.0 notification (-want +got):\n%s", diff)
	}

	c = New(Auto, nil)
	if _, err := c.Decode([]byte(`{"jsonrpc":"2.0","method":"a","id":1}`)); err != nil {
		t.Fatal(err)
	}
	m, err = c.Decode([]byte(`{"method":"a","params":[],"id":null}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]view{invalid(CodeInvalidRequest, `null`)}, views(t, m)); diff != "" {
		t.Errorf("1.0 notification to a 2.0 codec (-want +got):\n%s", diff)
	}
}

// TestAutoEncodes checks that an auto codec writes 2.0 until it has
// detected a dialect, then that dialect.
func TestAutoEncodes(t *testing.T) {
	c := New(Auto, nil)
	out, err := c.AppendResult(nil, []byte("1"), []byte("2"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"jsonrpc":"2.0","result":2,"id":1}`; string(out) != want {
		t.Errorf("before detection: %s, want %s", out, want)
	}
	if _, err := c.Decode([]byte(`{"result":1,"error":null,"id":1}`)); err != nil {
		t.Fatal(err)
	}
	out, err = c.AppendResult(nil, []byte("1"), []byte("2"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"result":2,"error":null,"id":1}`; string(out) != want {
		t.Errorf("after detecting 1.0: %s, want %s", out, want)
	}
}

// TestAutoConcurrent encodes from several goroutines while the reader
// detects the dialect (run with -race).
func TestAutoConcurrent(t *testing.T) {
	c := New(Auto, nil)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for range 200 {
				var err error
				if buf, err = c.AppendRequest(buf[:0], []byte("1"), "m", []byte("[1]")); err != nil {
					t.Error(err)
					return
				}
				if s := string(buf); s != `{"jsonrpc":"2.0","method":"m","params":[1],"id":1}` && s != `{"method":"m","params":[1],"id":1}` {
					t.Errorf("unexpected encoding %s", s)
					return
				}
				_ = c.Dialect()
			}
		}()
	}
	if _, err := c.Decode([]byte(`{"jsonrpc":"1.0","method":"a","params":[],"id":1}`)); err != nil {
		t.Error(err)
	}
	wg.Wait()
	if c.Dialect() != V1 {
		t.Errorf("Dialect() = %v", c.Dialect())
	}
}
