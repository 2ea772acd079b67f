package session_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/session"
)

// Two sessions over an in-memory connection: one serves "add", the
// other calls it. (Package handler has method tables, and adapts
// ordinary Go functions to handlers.)
func Example() {
	a, b := net.Pipe()
	server := session.New(framing.NewStream(framing.Newline{}, a), &session.Options{
		Handler: session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
			if req.Method != "add" {
				return nil, protocol.MethodNotFound(req.Method)
			}
			var n []int
			if req.Params == nil || json.Unmarshal(*req.Params, &n) != nil || len(n) != 2 {
				return nil, protocol.InvalidParams("add takes two numbers")
			}
			return n[0] + n[1], nil
		}),
	})
	client := session.New(framing.NewStream(framing.Newline{}, b), &session.Options{Side: session.Client})
	defer server.Abort()
	defer client.Abort()

	ctx := context.Background()
	var sum int
	if err := client.Call(ctx, "add", []int{2, 3}, &sum); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("sum:", sum)

	err := client.Call(ctx, "add", []int{2}, &sum)
	var rpcErr *jsonrpc2.Error
	if errors.As(err, &rpcErr) {
		fmt.Println("error:", rpcErr.Code, rpcErr.Message)
	}

	err = client.Call(ctx, "sub", []int{2, 3}, &sum)
	if errors.As(err, &rpcErr) {
		fmt.Println("error:", rpcErr.Code, rpcErr.Message)
	}
	// Output:
	// sum: 5
	// error: -32602 add takes two numbers
	// error: -32601 unknown method "sub"
}

// A batch sends several requests as one message; each result comes back
// in the order the calls were added.
func ExampleSession_SendBatch() {
	a, b := net.Pipe()
	server := session.New(framing.NewStream(framing.Newline{}, a), &session.Options{
		Handler: session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
			return "hello from " + req.Method, nil
		}),
	})
	client := session.New(framing.NewStream(framing.Newline{}, b), &session.Options{Side: session.Client})
	defer server.Abort()
	defer client.Abort()

	var first, second string
	batch := &session.Batch{}
	batch.Call("one", nil, &first)
	batch.Notify("note", []string{"no reply"})
	batch.Call("two", nil, &second)
	if err := client.SendBatch(context.Background(), batch); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(first)
	fmt.Println(second)
	// Output:
	// hello from one
	// hello from two
}

// When the connection drops, every pending call fails with a
// ConnectionError.
func ExampleConnectionError() {
	a, b := net.Pipe()
	client := session.New(framing.NewStream(framing.Newline{}, a), &session.Options{Side: session.Client})
	defer client.Abort()
	go func() {
		buf := make([]byte, 100)
		b.Read(buf) // read the request, then hang up
		b.Close()
	}()
	err := client.Call(context.Background(), "never.answered", nil, nil)
	var connErr *session.ConnectionError
	fmt.Println(errors.As(err, &connErr), err)
	// Output:
	// true connection lost: EOF
}

// A server that pings its clients with Electrum's server.ping: a
// client that stops answering is aborted after Misses pings, its
// session ending with ErrPingTimeout. (Here the "client" reads the
// pings and never answers; pings are 20 ms apart to keep the example
// short, where a real server would use a minute or so.)
func ExamplePing() {
	a, b := net.Pipe()
	server := session.New(framing.NewStream(framing.Newline{}, a), &session.Options{
		Ping: &session.Ping{Method: "server.ping", Interval: 20 * time.Millisecond, Misses: 2},
	})
	defer server.Abort()
	pings := make(chan int)
	go func() {
		n := 0
		sc := bufio.NewScanner(b)
		for sc.Scan() {
			n++ // a ping, never answered
		}
		pings <- n
	}()
	err := server.Wait()
	fmt.Println(errors.Is(err, session.ErrPingTimeout), err)
	fmt.Println("pings sent:", <-pings)
	// Output:
	// true peer did not answer pings
	// pings sent: 2
}

// The timeouts a server facing the internet sets, and the error each
// ends a session with. MessageTimeout needs the connection under the
// framer wrapped in a Gate (a server.Server does this for every
// connection).
func ExampleOptions_timeouts() {
	a, b := net.Pipe()
	defer b.Close()
	gate := (*session.Budget)(nil).Gate(a) // no shared budget
	s := session.New(framing.NewStream(framing.Newline{}, gate), &session.Options{
		Gate:                gate,
		Accepted:            time.Now(), // when the listener returned the connection
		FirstMessageTimeout: 50 * time.Millisecond,
		MessageTimeout:      time.Second,
		IdleTimeout:         10 * time.Minute,
	})
	// The peer connects and sends nothing.
	err := s.Wait()
	fmt.Println(errors.Is(err, session.ErrFirstMessageTimeout), err)
	// Output:
	// true no complete message within the first-message timeout
}

// Cancellation across the wire in LSP's convention: the caller gives
// up, the session sends "$/cancelRequest", and the peer's handler sees
// its context cancelled by the peer; its answer, -32800, is dropped by
// the caller, which has forgotten the call.
func ExampleCancellation() {
	a, b := net.Pipe()
	started := make(chan struct{})
	cause := make(chan error, 1)
	server := session.New(framing.NewStream(framing.Newline{}, a), &session.Options{
		Cancel: &session.Cancellation{}, // LSP's $/cancelRequest
		Handler: session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
			close(started)
			<-ctx.Done()
			cause <- context.Cause(ctx)
			return nil, ctx.Err() // answered -32800 "request cancelled"
		}),
	})
	client := session.New(framing.NewStream(framing.Newline{}, b), &session.Options{
		Side:   session.Client,
		Cancel: &session.Cancellation{},
	})
	defer server.Abort()
	defer client.Abort()

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	err := client.Call(ctx, "slow", nil, nil)
	fmt.Println("call:", err)
	fmt.Println("handler:", <-cause)
	// Output:
	// call: context canceled
	// handler: session: request cancelled by the peer
}
