package protocol

import (
	"errors"
	"testing"
)

func TestAppendBatch(t *testing.T) {
	items := func(parts ...string) func([]byte, int) ([]byte, error) {
		return func(dst []byte, i int) ([]byte, error) { return append(dst, parts[i]...), nil }
	}
	tests := []struct {
		name  string
		parts []string
		want  string
	}{
		{"none", nil, "pre"},
		{"all empty", []string{"", "", ""}, "pre"},
		{"one", []string{"1"}, "pre[1]"},
		{"three", []string{"1", "2", "3"}, "pre[1,2,3]"},
		{"first empty", []string{"", "2", "3"}, "pre[2,3]"},
		{"middle empty", []string{"1", "", "3"}, "pre[1,3]"},
		{"last empty", []string{"1", "2", ""}, "pre[1,2]"},
		{"only middle", []string{"", "2", ""}, "pre[2]"},
	}
	for _, tt := range tests {
		got, err := AppendBatch([]byte("pre"), len(tt.parts), items(tt.parts...))
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}

	boom := errors.New("boom")
	got, err := AppendBatch([]byte("pre"), 3, func(dst []byte, i int) ([]byte, error) {
		if i == 2 {
			return append(dst, "partial"...), boom
		}
		return append(dst, '1'), nil
	})
	if !errors.Is(err, boom) || string(got) != "pre" {
		t.Errorf("error: %q, %v", got, err)
	}
}

// TestAppendBatchReply builds a batch reply with a codec: notifications
// are left out, and a batch of notifications gets no reply.
func TestAppendBatchReply(t *testing.T) {
	c := New(V2, nil)
	m, err := c.Decode([]byte(`[{"jsonrpc":"2.0","method":"a","id":1},{"jsonrpc":"2.0","method":"n"},{"jsonrpc":"2.0","method":"b","id":"x"}]`))
	if err != nil {
		t.Fatal(err)
	}
	results := make([][]byte, len(m.Items))
	for i, it := range m.Items {
		results[i] = []byte(`"` + it.Request.Method + `"`)
	}
	reply := func(dst []byte, i int) ([]byte, error) {
		if it := &m.Items[i]; it.Kind == KindRequest {
			return c.AppendResult(dst, it.RawID, results[i])
		}
		return dst, nil
	}
	out, err := AppendBatch(nil, len(m.Items), reply)
	want := `[{"jsonrpc":"2.0","result":"a","id":1},{"jsonrpc":"2.0","result":"b","id":"x"}]`
	if err != nil || string(out) != want {
		t.Errorf("got %s, %v\nwant %s", out, err, want)
	}
	buf := make([]byte, 0, 256)
	if allocs := testing.AllocsPerRun(50, func() { buf, _ = AppendBatch(buf[:0], len(m.Items), reply) }); allocs != 0 {
		t.Errorf("%v allocations per batch", allocs)
	}
}
