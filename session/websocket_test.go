package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/transport"
)

// transport does not import framing; its WebSocket types meet framing's
// interfaces by their shape alone, which this keeps true.
var (
	_ framing.Stream = (*transport.WebSocketConn)(nil)
	_ framing.Error  = (*transport.MessageTooLargeError)(nil)
)

// wsSession serves one WebSocket connection, whose messages may be at
// most maxMessage bytes either way, with a session made from opts, and
// returns that session and the raw client end (no limit). Cleanup closes
// the client and waits for the session to end.
func wsSession(t *testing.T, maxMessage int, opts *Options) (*Session, *transport.WebSocketConn) {
	t.Helper()
	sessions := make(chan *Session, 1)
	served := make(chan struct{})
	srv := httptest.NewServer(&transport.WebSocketHandler{
		MaxMessage: maxMessage,
		Serve: func(c *transport.WebSocketConn) {
			defer close(served)
			s := New(c, opts)
			sessions <- s
			<-s.Done()
		},
	})
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := (&transport.WebSocketDialer{MaxMessage: -1}).Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/")
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	s := <-sessions
	t.Cleanup(func() {
		c.Close()
		s.Abort()
		<-served
	})
	return s, c
}

// echoHandler answers "big" with a string of 150 bytes and any other
// request with its params.
var echoHandler = HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	if req.Method == "big" {
		return strings.Repeat("x", 150), nil
	}
	return req.Params, nil
})

func wsSend(t *testing.T, c *transport.WebSocketConn, msg string) {
	t.Helper()
	if err := c.WriteMessage([]byte(msg)); err != nil {
		t.Fatal(err)
	}
}

func wsRecv(t *testing.T, c *transport.WebSocketConn) any {
	t.Helper()
	msg, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("client read: %v", err)
	}
	var v any
	if err := json.Unmarshal(msg, &v); err != nil {
		t.Fatalf("client got invalid JSON %q: %v", msg, err)
	}
	return v
}

// A WebSocket message from the peer over the limit is a fatal framing
// error: it is counted, the session ends with it, and the peer sees the
// WebSocket closed with status 1009 (message too big).
func TestWebSocketOversizedMessageEndsSession(t *testing.T) {
	s, c := wsSession(t, 100, &Options{Handler: echoHandler})
	wsSend(t, c, `{"jsonrpc":"2.0","method":"echo","params":["hi"],"id":1}`)
	if got, want := wsRecv(t, c), mustJSON(t, `{"jsonrpc":"2.0","result":["hi"],"id":1}`); !jsonEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	wsSend(t, c, `{"jsonrpc":"2.0","method":"echo","params":["`+strings.Repeat("x", 200)+`"],"id":2}`)
	_, err := c.ReadMessage()
	var ce *transport.WebSocketCloseError
	if !errors.As(err, &ce) || ce.Code != 1009 {
		t.Fatalf("client read %v, want a close with status 1009", err)
	}
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("session still open after a message over the limit")
	}
	var tl *transport.MessageTooLargeError
	if err := s.Err(); !errors.As(err, &tl) || tl.Limit != 100 || !tl.Fatal() {
		t.Errorf("session ended with %v, want a fatal *transport.MessageTooLargeError", err)
	}
	if n := s.Stats().Errors; n != 1 {
		t.Errorf("session counted %d errors, want 1", n)
	}
}

// A reply over the WebSocket limit cannot be sent, and a session ends
// on any write error: the session closes with the
// *transport.MessageTooLargeError.
func TestWebSocketOversizedReplyEndsSession(t *testing.T) {
	s, c := wsSession(t, 100, &Options{Handler: echoHandler})
	wsSend(t, c, `{"jsonrpc":"2.0","method":"big","id":1}`)
	// The client reads on, as a peer does, and so answers the close.
	read := make(chan error, 1)
	go func() {
		if msg, err := c.ReadMessage(); err == nil {
			read <- fmt.Errorf("client read %q after the session ended", msg)
			return
		}
		read <- nil
	}()
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("session still open after a reply over the limit")
	}
	var tl *transport.MessageTooLargeError
	if err := s.Err(); !errors.As(err, &tl) || tl.Limit != 100 || tl.Fatal() {
		t.Errorf("session ended with %v, want a *transport.MessageTooLargeError of a message sent", err)
	}
	if err := <-read; err != nil {
		t.Error(err)
	}
}

// MaxResponseSize below the WebSocket limit replaces an oversized reply
// with an error reply, and the session goes on.
func TestWebSocketMaxResponseSizeKeepsSession(t *testing.T) {
	s, c := wsSession(t, 200, &Options{Handler: echoHandler, MaxResponseSize: 100})
	wsSend(t, c, `{"jsonrpc":"2.0","method":"big","id":1}`)
	got := wsRecv(t, c)
	want := mustJSON(t, `{"jsonrpc":"2.0","error":{"code":-32600,"message":"response too large (over 100 bytes)"},"id":1}`)
	if !jsonEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	wsSend(t, c, `{"jsonrpc":"2.0","method":"echo","params":["hi"],"id":2}`)
	if got, want := wsRecv(t, c), mustJSON(t, `{"jsonrpc":"2.0","result":["hi"],"id":2}`); !jsonEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if err := s.Err(); err != nil {
		t.Errorf("session ended: %v", err)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
