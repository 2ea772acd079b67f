package session

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/protocol"
)

// echoParams answers with the raw params it got.
var echoParams = HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	if req.Params == nil {
		return "no params", nil
	}
	return *req.Params, nil
})

func TestCallParams(t *testing.T) {
	cli, _ := pair(t, nil, &Options{Handler: echoParams})
	type named struct {
		A int    `json:"a"`
		B string `json:"b"`
	}
	tests := []struct {
		name   string
		params any
		want   string
	}{
		{"nil", nil, `"no params"`},
		{"slice", []int{1, 2}, `[1,2]`},
		{"array", [2]string{"x", "y"}, `["x","y"]`},
		{"map", map[string]int{"a": 1}, `{"a":1}`},
		{"struct", named{A: 1, B: "b"}, `{"a":1,"b":"b"}`},
		{"raw array", json.RawMessage(`[true,null]`), `[true,null]`},
		{"raw with spaces is compacted", json.RawMessage(`[true, null]`), `[true,null]`},
		{"raw object", json.RawMessage(` {"k":"v"}`), `{"k":"v"}`},
		{"typed nil slice", []int(nil), `"no params"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got json.RawMessage
			if err := cli.Call(context.Background(), "echo", tt.params, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCallBadParams(t *testing.T) {
	cli, _ := pair(t, nil, &Options{Handler: echoParams})
	for _, p := range []any{42, "string", true, json.RawMessage(`7`), make(chan int)} {
		err := cli.Call(context.Background(), "echo", p, nil)
		if err == nil {
			t.Errorf("params %v: no error", p)
		}
	}
	if err := cli.Call(context.Background(), "echo", 42, nil); !errors.Is(err, ErrParams) {
		t.Errorf("errors.Is(err, ErrParams) = false for %v", err)
	}
	if st := cli.Stats(); st.SendCount != 0 {
		t.Errorf("bad params sent %d messages", st.SendCount)
	}
}

func TestCallResultDecoding(t *testing.T) {
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		return map[string]any{"height": 7, "hex": "00ff"}, nil
	})
	cli, _ := pair(t, nil, &Options{Handler: h})
	var got struct {
		Height int    `json:"height"`
		Hex    string `json:"hex"`
	}
	if err := cli.Call(context.Background(), "x", nil, &got); err != nil {
		t.Fatal(err)
	}
	if got.Height != 7 || got.Hex != "00ff" {
		t.Errorf("got %+v", got)
	}
	// Discarding the result.
	if err := cli.Call(context.Background(), "x", nil, nil); err != nil {
		t.Fatal(err)
	}
	// A result that does not fit the destination.
	var n int
	if err := cli.Call(context.Background(), "x", nil, &n); err == nil || !strings.Contains(err.Error(), "decoding result") {
		t.Errorf("decoding into int: %v", err)
	}
}

func TestCallErrorResponse(t *testing.T) {
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		data := json.RawMessage(`{"why":"because"}`)
		return nil, &jsonrpc2.Error{Code: -1, Message: "no such block", Data: &data}
	})
	cli, srv := pair(t, nil, &Options{Handler: h})
	err := cli.Call(context.Background(), "block", []int{1}, nil)
	var rpcErr *jsonrpc2.Error
	if !errors.As(err, &rpcErr) {
		t.Fatalf("got %T %v, want *jsonrpc2.Error", err, err)
	}
	if rpcErr.Code != -1 || rpcErr.Message != "no such block" || rpcErr.Data == nil || string(*rpcErr.Data) != `{"why":"because"}` {
		t.Errorf("got %+v", rpcErr)
	}
	if got := srv.Stats().Errors; got != 1 {
		t.Errorf("server counted %d errors, want 1", got)
	}
}

func TestCallMalformedResponse(t *testing.T) {
	s, peer := newRawPeer(t, &Options{Side: Client})
	done := make(chan error, 1)
	go func() { done <- s.Call(context.Background(), "m", nil, nil) }()
	got := peer.recvJSON()
	want := mustJSON(t, `{"jsonrpc":"2.0","id":0,"method":"m"}`)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("request (-want +got):\n%s", diff)
	}
	peer.send(`{"jsonrpc":"2.0","result":1,"error":{"code":1,"message":"x"},"id":0}`)
	err := <-done
	var pe *protocol.ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("got %T %v, want *protocol.ProtocolError", err, err)
	}
}

func TestCallTimeout(t *testing.T) {
	s, peer := newRawPeer(t, &Options{Side: Client, RequestTimeout: 30 * time.Millisecond})
	done := make(chan error, 1)
	go func() { done <- s.Call(context.Background(), "slow", nil, nil) }()
	peer.recv()
	err := <-done
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want DeadlineExceeded", err)
	}
	var te *TimeoutError
	if !errors.As(err, &te) || te.Method != "slow" {
		t.Errorf("got %#v", err)
	}
	if st := s.Stats(); st.Pending != 0 {
		t.Errorf("pending = %d after timeout", st.Pending)
	}
	// The late response is dropped quietly: not an error, not a crash.
	peer.send(`{"jsonrpc":"2.0","result":"late","id":0}`)
	waitFor(t, "late response read", func() bool { return s.Stats().RecvCount == 1 })
	if st := s.Stats(); st.Errors != 0 {
		t.Errorf("late response counted as %d errors", st.Errors)
	}
}

func TestCallContextDeadline(t *testing.T) {
	s, peer := newRawPeer(t, &Options{Side: Client})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Call(ctx, "slow", nil, nil) }()
	peer.recv()
	if err := <-done; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}

func TestCallCancelForgets(t *testing.T) {
	s, peer := newRawPeer(t, &Options{Side: Client})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Call(ctx, "m", nil, nil) }()
	peer.recv()
	if got := s.Stats().Pending; got != 1 {
		t.Fatalf("pending = %d, want 1", got)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if got := s.Stats().Pending; got != 0 {
		t.Errorf("pending = %d after cancel", got)
	}
	// Already cancelled: nothing is sent.
	if err := s.Call(ctx, "m", nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v", err)
	}
}

func TestResponseToUnsentRequest(t *testing.T) {
	s, peer := newRawPeer(t, nil)
	peer.send(`{"jsonrpc":"2.0","result":1,"id":99}`)
	peer.send(`{"jsonrpc":"2.0","result":1,"id":"abc"}`)
	waitFor(t, "two errors", func() bool { return s.Stats().Errors == 2 })
	// The session goes on.
	peer.send(`{"jsonrpc":"2.0","id":1,"method":"x"}`)
	got := peer.recvJSON()
	want := mustJSON(t, `{"jsonrpc":"2.0","error":{"code":-32601,"message":"unknown method \"x\""},"id":1}`)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestNotifyBothWays(t *testing.T) {
	got := make(chan string, 2)
	onNote := func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		if !req.Notif {
			t.Errorf("%s: Notif not set", req.Method)
		}
		got <- req.Method + " " + string(*req.Params)
		return "ignored", nil
	}
	cli, srv := pair(t,
		&Options{Handler: HandlerFunc(onNote)},
		&Options{Handler: HandlerFunc(onNote)})
	if err := cli.Notify(context.Background(), "to.server", []int{1}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Notify(context.Background(), "to.client", map[string]int{"n": 2}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{<-got: true, <-got: true}
	want := map[string]bool{`to.server [1]`: true, `to.client {"n":2}`: true}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// A notification's result is never sent back.
	if st := srv.Stats(); st.SendCount != 1 {
		t.Errorf("server sent %d messages, want 1 (its own notification)", st.SendCount)
	}
}

func TestOutgoingConcurrencyBounds(t *testing.T) {
	s, peer := newRawPeer(t, &Options{Side: Client, Outgoing: &Outgoing{Initial: 2}})
	done := make(chan error, 3)
	for range 3 {
		go func() { done <- s.Call(context.Background(), "m", nil, nil) }()
	}
	first := peer.recvJSON().(map[string]any)
	second := peer.recvJSON().(map[string]any)
	waitFor(t, "two in flight", func() bool { return s.Stats().Pending == 2 })
	// The third waits for a slot: give it time to (wrongly) go out.
	time.Sleep(20 * time.Millisecond)
	if got := s.Stats().Pending; got != 2 {
		t.Fatalf("pending = %d with a limit of 2", got)
	}
	peer.send(`{"jsonrpc":"2.0","id":` + jsonNum(first["id"]) + `,"result":1}`)
	third := peer.recvJSON().(map[string]any)
	peer.send(`{"jsonrpc":"2.0","id":` + jsonNum(second["id"]) + `,"result":2}`)
	peer.send(`{"jsonrpc":"2.0","id":` + jsonNum(third["id"]) + `,"result":3}`)
	for range 3 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func jsonNum(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestOutgoingRecalibration(t *testing.T) {
	closed := make(chan struct{})
	var changes [][2]int
	l := newOutgoingLimit(Outgoing{Initial: 50, Min: 1, Max: 250, TargetRoundTrip: 3 * time.Second, Recalibrate: 30},
		closed, func(from, to int) { changes = append(changes, [2]int{from, to}) })
	step := func(rtt time.Duration) int {
		for range 30 {
			if _, err := l.acquire(context.Background(), 1); err != nil {
				t.Fatal(err)
			}
			l.release(1, 1, rtt)
		}
		target, inFlight := l.snapshot()
		if inFlight != 0 {
			t.Fatalf("in flight %d", inFlight)
		}
		return target
	}
	// Fast responses: grow by max(3, 10%) a step, capped at Max.
	if got := step(time.Millisecond); got != 55 {
		t.Errorf("after fast step: %d, want 55", got)
	}
	// Slow responses (6 s, twice the target): shrink to max(80%, −1)... floor 80 %.
	if got := step(6 * time.Second); got != 44 {
		t.Errorf("after slow step: %d, want 44", got)
	}
	// Exactly on target: unchanged.
	if got := step(3 * time.Second); got != 44 {
		t.Errorf("on target: %d, want 44", got)
	}
	if diff := cmp.Diff([][2]int{{50, 55}, {55, 44}}, changes); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	// Never below Min nor above Max.
	for range 40 {
		step(time.Hour)
	}
	if got, _ := l.snapshot(); got != 1 {
		t.Errorf("floor: %d", got)
	}
	for range 100 {
		step(0)
	}
	if got, _ := l.snapshot(); got != 250 {
		t.Errorf("cap: %d", got)
	}
}

func TestOutgoingDisabled(t *testing.T) {
	s, peer := newRawPeer(t, &Options{Side: Client, Outgoing: &Outgoing{Disabled: true}})
	done := make(chan error, 5)
	for range 5 {
		go func() { done <- s.Call(context.Background(), "m", nil, nil) }()
	}
	for range 5 {
		m := peer.recvJSON().(map[string]any)
		peer.send(`{"jsonrpc":"2.0","id":` + jsonNum(m["id"]) + `,"result":null}`)
	}
	for range 5 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if got := s.Stats().OutgoingConcurrency; got != 0 {
		t.Errorf("OutgoingConcurrency = %d, want 0 when disabled", got)
	}
}
