package session

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/protocol"
)

// TestProtocolErrorIsNotPeerError checks that a caller can tell a
// malformed response from the peer's own error response: the first is
// a *protocol.ProtocolError and not a *jsonrpc2.Error, the second a
// *jsonrpc2.Error and not a *protocol.ProtocolError.
func TestProtocolErrorIsNotPeerError(t *testing.T) {
	s, peer := newRawPeer(t, &Options{Side: Client})
	call := func(answer string) error {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- s.Call(context.Background(), "m", nil, nil) }()
		var req struct{ ID json.RawMessage }
		if err := json.Unmarshal([]byte(peer.recv()), &req); err != nil {
			t.Fatal(err)
		}
		peer.send(`{"jsonrpc":"2.0",` + answer + `,"id":` + string(req.ID) + `}`)
		return <-done
	}

	// Both "result" and "error": a malformed response.
	err := call(`"result":1,"error":{"code":1,"message":"x"}`)
	var pe *protocol.ProtocolError
	var rpcErr *jsonrpc2.Error
	if !errors.As(err, &pe) {
		t.Errorf("malformed response: got %T %v, want a *protocol.ProtocolError", err, err)
	}
	if errors.As(err, &rpcErr) {
		t.Errorf("malformed response %v taken for the peer's error response %v", err, rpcErr)
	}

	// The peer's error response.
	err = call(`"error":{"code":1,"message":"x"}`)
	pe, rpcErr = nil, nil
	if !errors.As(err, &rpcErr) || rpcErr.Code != 1 || rpcErr.Message != "x" {
		t.Errorf("error response: got %T %v, want the *jsonrpc2.Error", err, err)
	}
	if errors.As(err, &pe) {
		t.Errorf("error response %v taken for a protocol error %v", err, pe)
	}
}

// A batch response that leaves a request unanswered gives that request
// a *protocol.ProtocolError, which is not a *jsonrpc2.Error either.
func TestBatchMissingResponseIsNotPeerError(t *testing.T) {
	s, peer := newRawPeer(t, &Options{Side: Client})
	batch := &Batch{}
	a := batch.Call("a", nil, nil)
	b := batch.Call("b", nil, nil)
	done := make(chan error, 1)
	go func() { done <- s.SendBatch(context.Background(), batch) }()
	var sent []struct{ ID json.RawMessage }
	if err := json.Unmarshal([]byte(peer.recv()), &sent); err != nil || len(sent) != 2 {
		t.Fatalf("batch sent: %v, %v", sent, err)
	}
	peer.send(`[{"jsonrpc":"2.0","result":1,"id":` + string(sent[0].ID) + `}]`)
	<-done
	var pe *protocol.ProtocolError
	var rpcErr *jsonrpc2.Error
	if a.Err != nil || !errors.As(b.Err, &pe) {
		t.Fatalf("a: %v, b: %v", a.Err, b.Err)
	}
	if errors.As(b.Err, &rpcErr) {
		t.Errorf("missing response %v taken for the peer's error response %v", b.Err, rpcErr)
	}
}

// A handler that returns the *protocol.ProtocolError of its own call to
// the peer does not pass the violation off as its error response: the
// request gets -32603, as for any error that is not a *jsonrpc2.Error.
func TestHandlerReturningProtocolError(t *testing.T) {
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		return nil, &protocol.ProtocolError{Err: protocol.InvalidRequest("bad response"), RawID: []byte("1")}
	})
	_, peer := newRawPeer(t, &Options{Handler: h})
	peer.send(`{"jsonrpc":"2.0","method":"m","id":5}`)
	got := peer.recvJSON()
	want := mustJSON(t, `{"jsonrpc":"2.0","error":{"code":-32603,"message":"internal server error"},"id":5}`)
	if !jsonEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
