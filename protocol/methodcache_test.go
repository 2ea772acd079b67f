package protocol

import (
	"fmt"
	"testing"
)

func TestMethodCacheNames(t *testing.T) {
	// Names that share a slot (same length, same last byte) and names
	// too long to keep, decoded in turn: each comes back as sent.
	long := fmt.Sprintf("%070d", 7)
	names := []string{"echo", "ping", "echo", "blockchain.scripthash.subscribe", "pong", "pinG", long, long, "echo", "a"}
	c := New(V2, nil)
	items := make([]Item, 0, 1)
	for i, name := range names {
		msg := []byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q,"params":[]}`, i, name))
		m, err := c.DecodeInto(msg, items)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Items[0].Request.Method; got != name {
			t.Errorf("message %d: method %q, want %q", i, got, name)
		}
	}
}

// TestRepeatedMethodAllocatesNothing is the allocation guard of the
// per-message path: a request with a number ID whose method was seen
// before is decoded with no allocation.
func TestRepeatedMethodAllocatesNothing(t *testing.T) {
	c := New(V2, nil)
	msg := []byte(`{"jsonrpc":"2.0","id":17,"method":"blockchain.headers.subscribe","params":["abc",1]}`)
	items := make([]Item, 0, 1)
	if _, err := c.DecodeInto(msg, items); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		m, err := c.DecodeInto(msg, items)
		if err != nil || m.Items[0].Request.Method != "blockchain.headers.subscribe" {
			t.Fatalf("decoded %+v, %v", m, err)
		}
	})
	if allocs != 0 {
		t.Errorf("%g allocations per decode, want 0", allocs)
	}
}
