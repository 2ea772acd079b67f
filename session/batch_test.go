package session

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/protocol"
)

var adder = Methods{
	"add": HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		var n []int
		if err := params(req, &n); err != nil || len(n) != 2 {
			return nil, protocol.InvalidParams("want two numbers")
		}
		return n[0] + n[1], nil
	}),
	"note": HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) { return nil, nil }),
}

func TestSendBatch(t *testing.T) {
	cli, srv := pair(t, nil, &Options{Handler: adder})
	var a, b int
	batch := &Batch{}
	batch.Call("add", []int{1, 2}, &a)
	batch.Notify("note", nil)
	batch.Call("add", []int{10, 20}, &b)
	if batch.Len() != 3 {
		t.Fatalf("Len = %d", batch.Len())
	}
	if err := cli.SendBatch(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	if a != 3 || b != 30 {
		t.Errorf("a, b = %d, %d", a, b)
	}
	waitFor(t, "one message each way", func() bool {
		st := srv.Stats()
		return st.RecvCount == 1 && st.SendCount == 1
	})
}

func TestSendBatchItemErrors(t *testing.T) {
	cli, _ := pair(t, nil, &Options{Handler: adder})
	batch := &Batch{}
	ok := batch.Call("add", []int{1, 2}, nil)
	bad := batch.Call("add", []int{1}, nil)
	missing := batch.Call("sub", []int{1, 2}, nil)
	err := cli.SendBatch(context.Background(), batch)
	var be *BatchError
	if !errors.As(err, &be) {
		t.Fatalf("got %v", err)
	}
	if diff := cmp.Diff([]*BatchCall{bad, missing}, be.Failed, cmp.Comparer(func(a, b *BatchCall) bool { return a == b })); diff != "" {
		t.Errorf("failed (-want +got):\n%s", diff)
	}
	if ok.Err != nil || string(ok.Result) != "3" {
		t.Errorf("ok call: %v %s", ok.Err, ok.Result)
	}
	var rpcErr *jsonrpc2.Error
	if !errors.As(missing.Err, &rpcErr) || rpcErr.Code != protocol.CodeMethodNotFound {
		t.Errorf("missing: %v", missing.Err)
	}
}

// The peer may answer a batch in any order; results follow the order
// the calls were added.
func TestSendBatchAnyOrder(t *testing.T) {
	s, peer := newRawPeer(t, &Options{Side: Client})
	var x, y, z string
	batch := &Batch{}
	batch.Call("x", nil, &x)
	batch.Call("y", nil, &y)
	batch.Call("z", nil, &z)
	done := make(chan error, 1)
	go func() { done <- s.SendBatch(context.Background(), batch) }()
	var sent []map[string]any
	if err := json.Unmarshal([]byte(peer.recv()), &sent); err != nil {
		t.Fatal(err)
	}
	if len(sent) != 3 {
		t.Fatalf("sent %v", sent)
	}
	peer.send(`[{"jsonrpc":"2.0","id":` + jsonNum(sent[2]["id"]) + `,"result":"Z"},` +
		`{"jsonrpc":"2.0","id":` + jsonNum(sent[0]["id"]) + `,"result":"X"},` +
		`{"jsonrpc":"2.0","id":` + jsonNum(sent[1]["id"]) + `,"result":"Y"}]`)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if x+y+z != "XYZ" {
		t.Errorf("got %s %s %s", x, y, z)
	}
}

// A response batch that leaves requests unanswered fails them rather
// than leaving the caller waiting.
func TestSendBatchIncompleteResponse(t *testing.T) {
	s, peer := newRawPeer(t, &Options{Side: Client})
	batch := &Batch{}
	a := batch.Call("a", nil, nil)
	b := batch.Call("b", nil, nil)
	done := make(chan error, 1)
	go func() { done <- s.SendBatch(context.Background(), batch) }()
	var sent []map[string]any
	if err := json.Unmarshal([]byte(peer.recv()), &sent); err != nil {
		t.Fatal(err)
	}
	peer.send(`[{"jsonrpc":"2.0","id":` + jsonNum(sent[0]["id"]) + `,"result":1}]`)
	err := <-done
	var be *BatchError
	if !errors.As(err, &be) || len(be.Failed) != 1 || be.Failed[0] != b {
		t.Fatalf("got %v", err)
	}
	var pe *protocol.ProtocolError
	if a.Err != nil || !errors.As(b.Err, &pe) {
		t.Errorf("a: %v, b: %v", a.Err, b.Err)
	}
}

func TestSendBatchRefusals(t *testing.T) {
	cli, _ := pair(t, nil, &Options{Handler: adder})
	if err := cli.SendBatch(context.Background(), &Batch{}); !errors.Is(err, ErrEmptyBatch) {
		t.Errorf("empty: %v", err)
	}
	bad := &Batch{}
	bad.Call("add", 5, nil)
	if err := cli.SendBatch(context.Background(), bad); !errors.Is(err, ErrParams) {
		t.Errorf("bad params: %v", err)
	}
	if st := cli.Stats(); st.SendCount != 0 {
		t.Errorf("sent %d messages", st.SendCount)
	}
	v1, _ := pair(t, &Options{Dialect: protocol.V1}, &Options{Dialect: protocol.V1, Handler: adder})
	b := &Batch{}
	b.Call("add", []int{1, 2}, nil)
	if err := v1.SendBatch(context.Background(), b); !errors.Is(err, ErrNoBatches) {
		t.Errorf("v1: %v", err)
	}
}

func TestSendBatchNotificationsOnly(t *testing.T) {
	got := make(chan string, 2)
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		got <- req.Method
		return nil, nil
	})
	cli, _ := pair(t, nil, &Options{Handler: h})
	b := &Batch{}
	b.Notify("one", nil)
	b.Notify("two", []int{2})
	if err := cli.SendBatch(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{<-got: true, <-got: true}
	if !seen["one"] || !seen["two"] {
		t.Errorf("seen %v", seen)
	}
}

func TestSendBatchContextCancel(t *testing.T) {
	s, peer := newRawPeer(t, &Options{Side: Client})
	ctx, cancel := context.WithCancel(context.Background())
	b := &Batch{}
	c := b.Call("a", nil, nil)
	done := make(chan error, 1)
	go func() { done <- s.SendBatch(ctx, b) }()
	peer.recv()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) || !errors.Is(c.Err, context.Canceled) {
		t.Errorf("got %v, call %v", err, c.Err)
	}
	if st := s.Stats(); st.Pending != 0 {
		t.Errorf("pending = %d", st.Pending)
	}
}

func TestDialectV1(t *testing.T) {
	s, peer := newRawPeer(t, &Options{Dialect: protocol.V1, Handler: adder, Side: Client})
	peer.send(`{"id":5,"method":"add","params":[2,3]}`)
	if diff := cmp.Diff(mustJSON(t, `{"id":5,"result":5,"error":null}`), peer.recvJSON()); diff != "" {
		t.Error(diff)
	}
	done := make(chan error, 1)
	var got int
	go func() { done <- s.Call(context.Background(), "add", []int{1, 1}, &got) }()
	if diff := cmp.Diff(mustJSON(t, `{"id":0,"method":"add","params":[1,1]}`), peer.recvJSON()); diff != "" {
		t.Error(diff)
	}
	peer.send(`{"id":0,"result":2,"error":null}`)
	if err := <-done; err != nil || got != 2 {
		t.Errorf("got %d, %v", got, err)
	}
}

// A Batch is sent once: a second SendBatch of it, on the same session
// or another, fails at once with ErrBatchSent and sends nothing, so
// its calls do not run twice. A SendBatch that sent nothing leaves the
// batch to be sent later.
func TestBatchSentTwiceFails(t *testing.T) {
	var runs atomic.Int64
	h := Methods{"add": HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		runs.Add(1)
		return adder["add"].Handle(ctx, req)
	})}
	cli, srv := pair(t, nil, &Options{Handler: h})
	other, _ := pair(t, nil, &Options{Handler: h})
	var sum int
	b := &Batch{}
	c := b.Call("add", []int{1, 2}, &sum)

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := cli.SendBatch(cancelled, b); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if err := cli.SendBatch(context.Background(), b); err != nil || sum != 3 {
		t.Fatalf("first sending: %v, sum %d", err, sum)
	}
	for _, s := range []*Session{cli, other} {
		sum = 0
		if err := s.SendBatch(context.Background(), b); !errors.Is(err, ErrBatchSent) {
			t.Errorf("%s: second sending: %v, want ErrBatchSent", s.Name(), err)
		}
		if sum != 0 || c.Err != nil || string(c.Result) != "3" {
			t.Errorf("%s: second sending changed the outcome: sum %d, %v %s", s.Name(), sum, c.Err, c.Result)
		}
	}
	if got := runs.Load(); got != 1 {
		t.Errorf("the call ran %d times", got)
	}
	if st := cli.Stats(); st.SendCount != 1 || st.Pending != 0 {
		t.Errorf("client sent %d messages, %d pending", st.SendCount, st.Pending)
	}
	if st := other.Stats(); st.SendCount != 0 {
		t.Errorf("other session sent %d messages", st.SendCount)
	}
	waitFor(t, "the server's reply", func() bool { return srv.Stats().SendCount == 1 })

	// Two at once: one sends, the other is refused.
	b = &Batch{}
	b.Call("add", []int{2, 2}, nil)
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- cli.SendBatch(context.Background(), b) }()
	}
	var sent, refused int
	for range 2 {
		switch err := <-errs; {
		case err == nil:
			sent++
		case errors.Is(err, ErrBatchSent):
			refused++
		default:
			t.Errorf("concurrent sending: %v", err)
		}
	}
	if sent != 1 || refused != 1 || runs.Load() != 2 {
		t.Errorf("concurrent sendings: %d sent, %d refused, %d runs", sent, refused, runs.Load())
	}
}
