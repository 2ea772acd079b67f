// Demo shows the main features of gorpcx in one run: it starts a
// JSON-RPC 2.0 server on loopback TCP, connects a client, and goes
// through a call with positional and with named params, error
// responses, a batch, a notification each way, a request from the
// server to the client, a graceful shutdown with a request in flight,
// and the statistics of both sessions, printing each step.
//
// Run it with
//
//	go run ./examples/demo
//
// or make demo. The output is the same on every run; the program exits 0
// when every step went as shown, 1 otherwise.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// stepTimeout bounds every step, so that the demo cannot hang.
const stepTimeout = 10 * time.Second

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// demo carries what the steps share.
type demo struct {
	out     io.Writer
	client  *session.Session
	events  chan string   // what the handlers saw, printed by the steps
	started chan struct{} // the slow method began
	step    int
}

// heading prints the title of the next step.
func (d *demo) heading(title string) {
	d.step++
	fmt.Fprintf(d.out, "\n%d. %s\n", d.step, title)
}

// call makes one call and prints it and its outcome.
func (d *demo) call(method string, params any) error {
	if params == nil {
		fmt.Fprintf(d.out, "   -> %s\n", method)
	} else {
		p, _ := json.Marshal(params)
		fmt.Fprintf(d.out, "   -> %s %s\n", method, p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	var result json.RawMessage
	err := d.client.Call(ctx, method, params, &result)
	var rpcErr *jsonrpc2.Error
	switch {
	case err == nil:
		fmt.Fprintf(d.out, "   <- %s\n", result)
	case errors.As(err, &rpcErr):
		fmt.Fprintf(d.out, "   <- error %d: %s\n", rpcErr.Code, rpcErr.Message)
	default:
		return fmt.Errorf("%s: %w", method, err)
	}
	return nil
}

// event waits for the next thing a handler saw and prints it.
func (d *demo) event() error {
	select {
	case e := <-d.events:
		fmt.Fprintf(d.out, "   %s\n", e)
		return nil
	case <-time.After(stepTimeout):
		return errors.New("a notification did not arrive")
	}
}

func run(out io.Writer) error {
	d := &demo{out: out, events: make(chan string, 8), started: make(chan struct{}, 1)}
	fmt.Fprintln(out, "gorpcx demo: a JSON-RPC 2.0 server and client over loopback TCP")

	d.heading("Start a server and connect a client")
	srv := &server.Server{
		Address: "127.0.0.1:0",
		Options: session.Options{Handler: serverMethods(d.events, d.started)},
	}
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	if err := srv.Listen(ctx); err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintln(out, "   server listening on 127.0.0.1 (port chosen by the system)")
	dialer := server.Dialer{Options: session.Options{Handler: clientMethods(d.events)}}
	client, err := dialer.Dial(ctx, "tcp", srv.Addr().String())
	if err != nil {
		return err
	}
	defer client.Abort()
	d.client = client
	fmt.Fprintln(out, "   client connected")
	serverSession := waitForSession(srv)
	if serverSession == nil {
		return errors.New("the server did not start a session")
	}

	d.heading("A call with positional params")
	if err := d.call("add", []float64{2, 3}); err != nil {
		return err
	}

	d.heading("A call with named params")
	if err := d.call("greet", map[string]string{"name": "Ada"}); err != nil {
		return err
	}

	d.heading("Error responses: the application's, and unknown method")
	if err := d.call("divide", map[string]float64{"a": 1, "b": 0}); err != nil {
		return err
	}
	if err := d.call("multiply", []int{6, 7}); err != nil {
		return err
	}

	d.heading("A batch: three calls and a notification in one message")
	if err := d.batch(); err != nil {
		return err
	}

	d.heading("A notification from the client to the server")
	fmt.Fprintln(out, `   -> log ["hello from the client"] (no reply expected)`)
	if err := client.Notify(ctx, "log", []string{"hello from the client"}); err != nil {
		return err
	}
	if err := d.event(); err != nil {
		return err
	}

	d.heading("A notification from the server to the client")
	if err := d.call("subscribe", []string{"releases"}); err != nil {
		return err
	}
	if err := d.event(); err != nil {
		return err
	}

	d.heading("A request from the server to the client")
	if err := d.call("whoami", nil); err != nil {
		return err
	}

	d.heading("Graceful shutdown with a request in flight")
	if err := d.shutdown(srv); err != nil {
		return err
	}

	d.heading("Statistics of the two sessions")
	printStats(out, "client", client.Stats())
	printStats(out, "server", serverSession.Stats())
	return nil
}

// batch sends a batch and prints each call's outcome.
func (d *demo) batch() error {
	var b session.Batch
	b.Call("add", []int{1, 2}, nil)
	b.Call("greet", map[string]string{"name": "Grace"}, nil)
	b.Call("divide", []int{1, 0}, nil)
	b.Notify("log", []string{"a notification inside the batch"})
	fmt.Fprintln(d.out, `   -> [add [1,2], greet {"name":"Grace"}, divide [1,0], log (notification)]`)
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	err := d.client.SendBatch(ctx, &b)
	var be *session.BatchError
	if err != nil && !errors.As(err, &be) {
		return err
	}
	for _, c := range b.Calls() {
		var rpcErr *jsonrpc2.Error
		if errors.As(c.Err, &rpcErr) {
			fmt.Fprintf(d.out, "   <- %s: error %d: %s\n", c.Method, rpcErr.Code, rpcErr.Message)
			continue
		}
		if c.Err != nil {
			return c.Err
		}
		fmt.Fprintf(d.out, "   <- %s: %s\n", c.Method, c.Result)
	}
	if be != nil {
		fmt.Fprintf(d.out, "   (%d of %d calls failed)\n", len(be.Failed), len(b.Calls()))
	}
	return d.event()
}

// shutdown starts a slow call, shuts the server down while it runs and
// shows that it is still answered before the connection closes.
func (d *demo) shutdown(srv *server.Server) error {
	fmt.Fprintln(d.out, "   -> slow (takes 200 ms)")
	type outcome struct {
		result string
		err    error
	}
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		o.err = d.client.Call(context.Background(), "slow", nil, &o.result)
		done <- o
	}()
	select {
	case <-d.started:
	case <-time.After(stepTimeout):
		return errors.New("the slow request did not start")
	}
	fmt.Fprintln(d.out, "   server: shutting down (stops listening, lets running requests finish)")
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return err
	}
	o := <-done
	if o.err != nil {
		return fmt.Errorf("slow: %w", o.err)
	}
	fmt.Fprintf(d.out, "   <- %q (answered before the connection closed)\n", o.result)
	select {
	case <-d.client.Done():
	case <-time.After(stepTimeout):
		return errors.New("the client session did not end")
	}
	cause := "closed by the server"
	if !errors.Is(d.client.Err(), io.EOF) {
		cause = d.client.Err().Error()
	}
	fmt.Fprintf(d.out, "   client session ended: %s\n", cause)
	err := d.client.Call(context.Background(), "add", []int{1, 1}, nil)
	var ce *session.ConnectionError
	if !errors.As(err, &ce) {
		return fmt.Errorf("a call after the end returned %v, not a ConnectionError", err)
	}
	fmt.Fprintf(d.out, "   a call now fails at once: %v\n", err)
	return nil
}

// waitForSession returns the server's session once it is registered.
func waitForSession(srv *server.Server) *session.Session {
	deadline := time.Now().Add(stepTimeout)
	for time.Now().Before(deadline) {
		if s := srv.Sessions(); len(s) == 1 {
			return s[0]
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// printStats prints the counters of a session that has ended.
func printStats(out io.Writer, who string, st session.Stats) {
	fmt.Fprintf(out, "   %s: received %d messages (%d bytes), sent %d messages (%d bytes), %d errors\n",
		who, st.RecvCount, st.RecvBytes, st.SendCount, st.SendBytes, st.Errors)
}
