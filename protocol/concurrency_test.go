package protocol

import (
	"sync"
	"testing"
)

// TestCodecConcurrency checks, under the race detector, what the
// package documentation promises: a V2 codec may decode and encode from
// many goroutines at once; an Auto codec's Dialect and Append methods
// may run while its one decoding goroutine detects the dialect, and
// write either 2.0 or the detected dialect.
func TestCodecConcurrency(t *testing.T) {
	shared := New(V2, nil)
	auto := New(Auto, nil)
	v1Request := `{"method":"m","params":[],"id":1}`
	v2Request := `{"jsonrpc":"2.0","method":"m","params":[],"id":1}`
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				m, err := shared.Decode([]byte(`{"jsonrpc":"2.0","method":"m","params":[1],"id":1}`))
				if err != nil || m.Items[0].Kind != KindRequest {
					t.Errorf("shared V2 codec: %+v, %v", m, err)
					return
				}
				if out, err := shared.AppendRequest(nil, []byte("1"), "m", []byte("[]")); err != nil || string(out) != v2Request {
					t.Errorf("shared V2 codec wrote %s, %v", out, err)
					return
				}
				if out, err := auto.AppendRequest(nil, []byte("1"), "m", []byte("[]")); err != nil || string(out) != v1Request && string(out) != v2Request {
					t.Errorf("auto codec wrote %s, %v", out, err)
					return
				}
				if d := auto.Dialect(); d != Auto && d != V1 {
					t.Errorf("auto codec's dialect is %v", d)
					return
				}
			}
		}()
	}
	// The one goroutine that decodes with the Auto codec.
	if _, err := auto.Decode([]byte(`{"jsonrpc":"1.0","method":"m","params":[],"id":1}`)); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if out, _ := auto.AppendRequest(nil, []byte("1"), "m", []byte("[]")); string(out) != v1Request || auto.Dialect() != V1 {
		t.Errorf("after detection the auto codec (%v) writes %s", auto.Dialect(), out)
	}
}
