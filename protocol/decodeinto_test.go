package protocol

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sourcegraph/jsonrpc2"
)

// TestDecodeInto checks that DecodeInto decodes as Decode does, stores
// the items in the caller's array when it has room (whatever it held
// before), and in a new one when it has not.
func TestDecodeInto(t *testing.T) {
	tests := []struct {
		name   string
		msg    string
		room   int  // capacity of the caller's array
		reused bool // whether the items must be in the caller's array
	}{
		{"request", `{"jsonrpc":"2.0","method":"echo","params":["a"],"id":1}`, 1, true},
		{"notification", `{"jsonrpc":"2.0","method":"n"}`, 1, true},
		{"response", `{"jsonrpc":"2.0","result":{"x":[1]},"id":"7"}`, 1, true},
		{"error response", `{"jsonrpc":"2.0","error":{"code":-1,"message":"no"},"id":2}`, 1, true},
		{"invalid item", `{"jsonrpc":"2.0","id":3}`, 1, true},
		{"no room", `{"jsonrpc":"2.0","method":"echo","params":[1],"id":1}`, 0, false},
		{"batch with room", `[{"jsonrpc":"2.0","method":"a","id":1},{"jsonrpc":"2.0","method":"b","params":{"k":2}}]`, 4, true},
		{"batch without room", `[{"jsonrpc":"2.0","method":"a","id":1},{"jsonrpc":"2.0","method":"b"},{"jsonrpc":"2.0","method":"c","id":2}]`, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := New(V2, nil).Decode([]byte(tt.msg))
			if err != nil {
				t.Fatal(err)
			}
			// The array holds a stale item, which must not show through.
			stale := json.RawMessage(`"stale"`)
			arr := make([]Item, tt.room)
			for k := range arr {
				arr[k] = Item{Kind: KindResponse, RawID: []byte("99"), RawParams: stale, RawResult: stale,
					Request: jsonrpc2.Request{Method: "stale", Params: &stale}, Response: jsonrpc2.Response{Result: &stale}}
			}
			got, err := New(V2, nil).DecodeInto([]byte(tt.msg), arr[:0])
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(views(t, want), views(t, got)); diff != "" {
				t.Errorf("items (-Decode +DecodeInto):\n%s", diff)
			}
			inArray := tt.room > 0 && &got.Items[0] == &arr[0]
			if inArray != tt.reused {
				t.Errorf("items in the caller's array: %v, want %v", inArray, tt.reused)
			}
		})
	}
}

func TestDecodeIntoAllocations(t *testing.T) {
	c := New(V2, nil)
	msg := []byte(`{"jsonrpc":"2.0","method":"echo","params":["0123456789abcdef"],"id":12}`)
	var arr [1]Item
	into := testing.AllocsPerRun(100, func() {
		if _, err := c.DecodeInto(msg, arr[:0]); err != nil {
			t.Fatal(err)
		}
	})
	plain := testing.AllocsPerRun(100, func() {
		if _, err := c.Decode(msg); err != nil {
			t.Fatal(err)
		}
	})
	if into != plain-1 {
		t.Errorf("DecodeInto allocates %v times, Decode %v: want one fewer", into, plain)
	}
}

func TestItemCopyTo(t *testing.T) {
	for _, msg := range []string{
		`{"jsonrpc":"2.0","method":"m","params":[1],"id":1}`,
		`{"jsonrpc":"2.0","method":"n"}`,
		`{"jsonrpc":"2.0","result":[2],"id":2}`,
		`{"jsonrpc":"2.0","error":{"code":-5,"message":"x"},"id":3}`,
		`{"jsonrpc":"2.0","params":[1],"id":4}`,
	} {
		m, err := New(V2, nil).Decode([]byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		dst := make([]Item, 1)
		m.Items[0].CopyTo(&dst[0])
		// views checks that Params and Result point into their own item.
		if diff := cmp.Diff(views(t, m), views(t, Message{Items: dst})); diff != "" {
			t.Errorf("%s (-source +copy):\n%s", msg, diff)
		}
	}
}
