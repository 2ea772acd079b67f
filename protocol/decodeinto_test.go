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

// rawParts returns every raw part of an item that Rebase moves, as
// text, by name.
func rawParts(it *Item) map[string]string {
	p := map[string]string{}
	add := func(name string, b []byte) {
		if b != nil {
			p[name] = string(b)
		}
	}
	addp := func(name string, r *json.RawMessage) {
		if r != nil {
			add(name, *r)
		}
	}
	add("RawID", it.RawID)
	add("RawParams", it.RawParams)
	add("RawResult", it.RawResult)
	addp("Request.Params", it.Request.Params)
	addp("Request.Meta", it.Request.Meta)
	addp("Response.Result", it.Response.Result)
	addp("Response.Meta", it.Response.Meta)
	if e := it.Response.Error; e != nil {
		addp("Response.Error.Data", e.Data)
		add("Response.Error.Message", []byte(e.Message))
	}
	if pe := it.Err; pe != nil {
		add("Err.RawID", pe.RawID)
		addp("Err.Err.Data", pe.Err.Data)
		if pe.Reply != nil {
			addp("Err.Reply.Data", pe.Reply.Data)
		}
	}
	add("Request.Method", []byte(it.Request.Method))
	add("Request.ID", []byte(it.Request.ID.String()))
	add("Response.ID", []byte(it.Response.ID.String()))
	return p
}

// TestItemRebase decodes messages in place, moves their items to a copy
// of the message, scribbles over the message and checks that every part
// of every item is still what it was, and that parts held elsewhere
// were left alone.
func TestItemRebase(t *testing.T) {
	outside := json.RawMessage(`{"held":"elsewhere"}`) // not in the message
	tests := []struct {
		name    string
		dialect Dialect
		msg     string
		setup   func(m Message, msg []byte) // parts Decode does not set
		parts   []string                    // parts that must be there
	}{
		{name: "request with a number ID", dialect: V2, msg: `{"jsonrpc":"2.0","method":"echo","params":["a",1],"id":12}`,
			parts: []string{"RawID", "RawParams", "Request.Params"}},
		{name: "request with a string ID", dialect: V2, msg: `{"jsonrpc":"2.0","method":"m\u00e9","params":{"k":[]},"id":"a\"b"}`,
			parts: []string{"RawID", "RawParams", "Request.Params"}},
		{name: "notification", dialect: V2, msg: `{"jsonrpc":"2.0","method":"note","params":[true]}`,
			parts: []string{"RawParams", "Request.Params"}},
		{name: "result", dialect: V2, msg: `{"jsonrpc":"2.0","result":{"x":[1,2]},"id":"r"}`,
			parts: []string{"RawID", "RawResult", "Response.Result"}},
		{name: "error with data", dialect: V2, msg: `{"jsonrpc":"2.0","error":{"code":-5,"message":"bad","data":{"why":[1]}},"id":3}`,
			parts: []string{"RawID", "Response.Error.Data"}},
		{name: "error without a standard object", dialect: Loose, msg: `{"error":{"reason":"odd"},"result":null,"id":4}`,
			parts: []string{"RawID", "Response.Error.Data"}},
		{name: "invalid request", dialect: V2, msg: `{"jsonrpc":"2.0","method":5,"id":"inv"}`,
			parts: []string{"RawID", "Err.RawID"}},
		{name: "malformed response", dialect: V2, msg: `{"jsonrpc":"2.0","result":1,"error":{"code":1,"message":"m"},"id":9}`,
			parts: []string{"RawID", "Err.RawID"}},
		{name: "meta", dialect: V2, msg: `{"jsonrpc":"2.0","method":"m","params":[{"trace":"t1"}],"id":1}`,
			setup: func(m Message, msg []byte) {
				it := &m.Items[0]
				meta := json.RawMessage(it.RawParams[1 : len(it.RawParams)-1]) // {"trace":"t1"}
				it.Request.Meta = &meta
				it.Response.Meta = &outside
			},
			parts: []string{"Request.Meta", "Response.Meta", "RawParams"}},
		{name: "protocol error with data", dialect: V2, msg: `{"jsonrpc":"2.0","method":5,"id":[1]}`,
			setup: func(m Message, msg []byte) {
				data := json.RawMessage(msg[len(msg)-4 : len(msg)-1]) // [1]
				m.Items[0].Err.Err.Data = &data
			},
			parts: []string{"Err.Err.Data", "Err.Reply.Data"}},
		{name: "batch", dialect: V2, msg: `[{"jsonrpc":"2.0","method":"a","params":[1],"id":1},{"jsonrpc":"2.0","method":"b"},{"jsonrpc":"2.0","id":"x"},7]`,
			parts: []string{"RawID"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The message in the middle of a larger buffer, as in a
			// framing's, and its copy in another.
			frame := []byte("\x00\x00" + tt.msg + "\n\x00\x00")
			from := frame[2 : 2+len(tt.msg)]
			m, err := New(tt.dialect, nil).Decode(from)
			if err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(m, from)
			}
			before := make([]map[string]string, len(m.Items))
			for k := range m.Items {
				before[k] = rawParts(&m.Items[k])
			}
			for _, name := range tt.parts {
				if _, ok := before[0][name]; !ok {
					t.Fatalf("the first item has no %s: %v", name, before[0])
				}
			}
			to := append(make([]byte, 0, len(from)+10), from...)
			for k := range m.Items {
				m.Items[k].Rebase(from, to)
			}
			for k := range frame {
				frame[k] = '#'
			}
			for k := range m.Items {
				it := &m.Items[k]
				checkItem(t, it)
				if diff := cmp.Diff(before[k], rawParts(it)); diff != "" {
					t.Errorf("item %d (-before +after scribbling over the message):\n%s", k, diff)
				}
				if it.Response.Meta != nil && &(*it.Response.Meta)[0] != &outside[0] {
					t.Errorf("item %d: Response.Meta, held elsewhere, was moved", k)
				}
			}
			// A second Rebase from the scribbled message changes nothing.
			for k := range m.Items {
				m.Items[k].Rebase(frame[2:2+len(tt.msg)], make([]byte, len(tt.msg)))
				if diff := cmp.Diff(before[k], rawParts(&m.Items[k])); diff != "" {
					t.Errorf("item %d moved again (-before +after):\n%s", k, diff)
				}
			}
		})
	}
}

// TestItemRebaseLeavesOtherSlices checks that parts sliced from another
// array, and parts of the same array outside from, stay where they are.
func TestItemRebaseLeavesOtherSlices(t *testing.T) {
	buf := []byte(`[1][2][3]`)
	from, to := buf[3:6], []byte(`[9]`)
	other := json.RawMessage(`[4]`)
	it := Item{RawID: buf[0:3], RawParams: other, RawResult: buf[6:9:9]}
	it.Request.Params = &it.RawParams
	it.Rebase(from, to)
	if &it.RawID[0] != &buf[0] || &it.RawParams[0] != &other[0] || &it.RawResult[0] != &buf[6] {
		t.Errorf("parts outside from were moved: %q %q %q", it.RawID, it.RawParams, it.RawResult)
	}
	it = Item{RawParams: buf[3:6]}
	it.Request.Params = &it.RawParams
	it.Rebase(from, to)
	if string(it.RawParams) != `[9]` || it.Request.Params != &it.RawParams {
		t.Errorf("the part in from was not moved: %q", it.RawParams)
	}
}

func TestItemRebaseAllocations(t *testing.T) {
	msg := []byte(`{"jsonrpc":"2.0","error":{"code":-5,"message":"bad","data":[1]},"id":3}`)
	m, err := New(V2, nil).Decode(msg)
	if err != nil {
		t.Fatal(err)
	}
	a, b := msg, append([]byte(nil), msg...)
	if n := testing.AllocsPerRun(100, func() {
		m.Items[0].Rebase(a, b)
		a, b = b, a
	}); n != 0 {
		t.Errorf("Rebase allocates %v times, want 0", n)
	}
}
