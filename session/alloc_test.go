package session

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sourcegraph/jsonrpc2"
)

// TestRoundTripAllocations pins the allocations of one call and its
// answer over net.Pipe, both ends in this process (issue 17): the
// request with the copy of its message (one allocation, for a message
// that fits with the request), the copy of the response's message
// (which the raw result aliases), and, with the benchmark's echo
// handler, the boxing of the args and of the handler's result. Params
// of every size the request's own room is chosen by are tried.
func TestRoundTripAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop buffers: allocation counts mean nothing")
	}
	// A result already boxed: the handler allocates nothing.
	var boxed any = json.RawMessage(`true`)
	methods := Methods{
		"echo": benchAdd["echo"],
		"boxed": HandlerFunc(func(context.Context, *jsonrpc2.Request) (any, error) {
			return boxed, nil
		}),
	}
	cli, _ := pair(t, nil, &Options{Handler: methods})
	ctx := context.Background()
	tests := []struct {
		method string
		params int  // bytes of the string param
		box    bool // box the args into an any on each call, as the benchmark does
		want   float64
	}{
		{"echo", 16, true, 4}, // BenchmarkRoundTrip/pipe/raw
		{"boxed", 16, false, 2},
		{"boxed", 100, false, 2},
		{"boxed", 300, false, 2},
		{"boxed", 1000, false, 3}, // a message too long to go with the request
	}
	for _, tt := range tests {
		raw := json.RawMessage(`["` + strings.Repeat("x", tt.params) + `"]`)
		var args any = raw
		var res json.RawMessage
		got := testing.AllocsPerRun(200, func() {
			var err error
			if tt.box {
				err = cli.Call(ctx, tt.method, raw, &res)
			} else {
				err = cli.Call(ctx, tt.method, args, &res)
			}
			if err != nil {
				t.Fatal(err)
			}
		})
		if got > tt.want {
			t.Errorf("%s with %d bytes of params: %v allocations per round trip, want at most %v", tt.method, tt.params, got, tt.want)
		}
	}
}
