package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// startServer serves newServer(batchLimits) on a listener of 127.0.0.1
// until the test ends, and returns a connection to it.
func startServer(t *testing.T, batchLimits bool) (net.Conn, *bufio.Reader) {
	t.Helper()
	srv, err := newServer(batchLimits)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.ServeListener(ln)
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = nc.Close()
		_ = ln.Close()
		<-served
		srv.Stop()
	})
	if err := nc.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	return nc, bufio.NewReader(nc)
}

// call writes line and returns the answer line, without its newline.
func call(t *testing.T, nc net.Conn, r *bufio.Reader, line string) string {
	t.Helper()
	if _, err := nc.Write([]byte(line + "\n")); err != nil {
		t.Fatal(err)
	}
	answer, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(answer, "\n")
}

func TestEcho(t *testing.T) {
	nc, r := startServer(t, true)
	tests := []struct {
		name, request, want string
	}{
		{"string", `{"jsonrpc":"2.0","id":7,"method":"bench_echo","params":["Ab9xYz"]}`,
			`{"jsonrpc":"2.0","id":7,"result":"Ab9xYz"}`},
		{"object", `{"jsonrpc":"2.0","id":8,"method":"bench_echo","params":[{"a":[1,2.5,null]}]}`,
			`{"jsonrpc":"2.0","id":8,"result":{"a":[1,2.5,null]}}`},
		{"unnamespaced name", `{"jsonrpc":"2.0","id":9,"method":"echo","params":["x"]}`,
			`{"jsonrpc":"2.0","id":9,"error":{"code":-32601,"message":"the method echo does not exist/is not available"}}`},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, call(t, nc, r, tt.request)); diff != "" {
			t.Errorf("%s: answer (-want +got):\n%s", tt.name, diff)
		}
	}
}

// batch returns a batch of n calls of bench_echo, with IDs 0 to n-1 and
// the value "vID".
func batch(n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"bench_echo","params":["v%d"]}`, i, i)
	}
	return "[" + strings.Join(items, ",") + "]"
}

// answer is one answer of a batch.
type answer struct {
	ID     int             `json:"id"`
	Result string          `json:"result"`
	Error  json.RawMessage `json:"error"`
}

func TestBatchLimits(t *testing.T) {
	tests := []struct {
		name        string
		batchLimits bool
		n           int
		tooLarge    bool // the answer is the one error "batch too large"
	}{
		{"the load generator's batch", true, 100, false},
		{"at the limit", true, batchRequestLimit, false},
		{"over the limit", true, batchRequestLimit + 1, true},
		{"over the limit without limits", false, batchRequestLimit + 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nc, r := startServer(t, tt.batchLimits)
			var got []answer
			line := call(t, nc, r, batch(tt.n))
			if err := json.Unmarshal([]byte(line), &got); err != nil {
				t.Fatalf("answer %.200s: %v", line, err)
			}
			if tt.tooLarge {
				if len(got) != 1 || !strings.Contains(string(got[0].Error), "batch too large") {
					t.Errorf("answer %.200s, want one error: batch too large", line)
				}
				return
			}
			if len(got) != tt.n {
				t.Fatalf("%d answers to a batch of %d", len(got), tt.n)
			}
			seen := make([]bool, tt.n)
			for _, a := range got {
				switch {
				case a.Error != nil:
					t.Fatalf("error answer: %s", a.Error)
				case a.ID < 0 || a.ID >= tt.n || seen[a.ID]:
					t.Fatalf("answer with a wrong or repeated ID %d", a.ID)
				case a.Result != fmt.Sprintf("v%d", a.ID):
					t.Fatalf("answer %d: result %q", a.ID, a.Result)
				}
				seen[a.ID] = true
			}
		})
	}
}
