package handler

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sourcegraph/jsonrpc2"
)

func TestPositional(t *testing.T) {
	tests := []struct {
		name   string
		params string
		want   []string
		err    *jsonrpc2.Error
	}{
		{name: "no params", params: funcNoParams},
		{name: "null", params: "null"},
		{name: "null with spaces", params: " null "},
		{name: "empty array", params: "[]"},
		{name: "empty array with spaces", params: "[ \n]"},
		{name: "one string", params: `["abc"]`, want: []string{`"abc"`}},
		{name: "every kind", params: `[1, "two", {"three": [3]}, 4.5e1, null, true, false, [] ]`,
			want: []string{`1`, `"two"`, `{"three": [3]}`, `4.5e1`, `null`, `true`, `false`, `[]`}},
		{name: "escapes", params: `["a\"]b", "\\"]`, want: []string{`"a\"]b"`, `"\\"`}},
		{name: "spaces around", params: " \t[1]\r\n", want: []string{`1`}},
		{name: "object", params: `{"value": 1}`,
			err: &jsonrpc2.Error{Code: -32602, Message: `invalid request arguments: method "m" takes positional params, not named ones`}},
		{name: "string", params: `"abc"`,
			err: &jsonrpc2.Error{Code: -32602, Message: `invalid request arguments: params to method "m" must be an array`}},
		{name: "number", params: `5`,
			err: &jsonrpc2.Error{Code: -32602, Message: `invalid request arguments: params to method "m" must be an array`}},
		{name: "unclosed", params: `[1, 2`,
			err: &jsonrpc2.Error{Code: -32602, Message: `invalid request arguments: params to method "m" are not valid JSON`}},
		{name: "trailing comma", params: `[1,]`,
			err: &jsonrpc2.Error{Code: -32602, Message: `invalid request arguments: params to method "m" are not valid JSON`}},
		{name: "after the array", params: `[1] 2`,
			err: &jsonrpc2.Error{Code: -32602, Message: `invalid request arguments: params to method "m" are not valid JSON`}},
		{name: "unclosed string", params: `["abc]`,
			err: &jsonrpc2.Error{Code: -32602, Message: `invalid request arguments: params to method "m" are not valid JSON`}},
		{name: "bad literal", params: `[1, tru]`,
			err: &jsonrpc2.Error{Code: -32602, Message: `invalid request arguments: params to method "m" are not valid JSON`}},
		{name: "bad UTF-8", params: "[\"\xff\"]",
			err: &jsonrpc2.Error{Code: -32602, Message: `invalid request arguments: params to method "m" are not valid JSON`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// dst holds an element already: it must be kept, and on an
			// error returned unchanged.
			dst := []json.RawMessage{json.RawMessage("kept")}
			got, err := Positional(funcRequest("m", tt.params), dst)
			if tt.err != nil {
				if diff := cmp.Diff(error(tt.err), err); diff != "" {
					t.Errorf("error (-want +got):\n%s", diff)
				}
				if len(got) != 1 || string(got[0]) != "kept" {
					t.Errorf("on error, got %q, want dst unchanged", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Positional: %v", err)
			}
			want := append([]string{"kept"}, tt.want...)
			var gotText []string
			for _, e := range got {
				gotText = append(gotText, string(e))
			}
			if diff := cmp.Diff(want, gotText); diff != "" {
				t.Errorf("elements (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPositionalAllocatesNothingWithRoom(t *testing.T) {
	req := funcRequest("echo", `["0123456789abcdef", 2, {"a": [1]}]`)
	allocs := testing.AllocsPerRun(100, func() {
		var buf [4]json.RawMessage
		elems, err := Positional(req, buf[:0])
		if err != nil || len(elems) != 3 {
			t.Fatal("Positional failed") // elems would escape to the heap
		}
	})
	if allocs != 0 {
		t.Errorf("Positional allocated %v times per call, want 0", allocs)
	}
}

// BenchmarkPositional compares Positional with json.Unmarshal into
// []json.RawMessage, the usual way to the same result.
func BenchmarkPositional(b *testing.B) {
	req := funcRequest("echo", `["0123456789abcdef"]`)
	b.Run("Positional", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var buf [4]json.RawMessage
			if _, err := Positional(req, buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var elems []json.RawMessage
			if err := json.Unmarshal(*req.Params, &elems); err != nil {
				b.Fatal(err)
			}
		}
	})
}
