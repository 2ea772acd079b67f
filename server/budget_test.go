package server

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/session"
)

var echo = session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	return req.Params, nil
})

// Peers that each send the start of a large message and stop hold the
// server's byte budget; at the budget they stop being read, the largest
// first, while a peer with a small request is still served.
func TestIncomingBudgetHogsWaitSmallPeerServed(t *testing.T) {
	const budget = 256 << 10
	srv := start(t, &Server{
		Framer:           framing.Newline{Max: 4 << 20},
		MaxIncomingBytes: budget,
		Options:          session.Options{Handler: echo},
	})
	addr := srv.Addr().String()
	chunk := []byte(`{"jsonrpc":"2.0","id":1,"method":"echo","params":["` + strings.Repeat("x", 16<<10))
	var wg sync.WaitGroup
	var mu sync.Mutex
	sent := 0
	for range 8 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Up to 1 MiB each, never finished; a write that blocks means
			// the server stopped reading.
			for range 64 {
				c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
				n, err := c.Write(chunk)
				mu.Lock()
				sent += n
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	held := srv.IncomingBytes()
	t.Logf("8 peers sent %d KiB of unfinished messages; the server holds %d KiB (budget %d KiB)", sent>>10, held>>10, budget>>10)
	// Each session may overshoot by one read of its framer's buffer.
	if held > budget+8*(64<<10) {
		t.Errorf("the server holds %d bytes, over its budget of %d plus one read per session", held, budget)
	}
	cli := dial(t, nil, "tcp", addr)
	var got string
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cli.Call(ctx, "echo", []string{"small"}, &[]any{&got}); err != nil || got != "small" {
		t.Fatalf("small peer: %q, %v", got, err)
	}
}

// A session whose byte bound is smaller than one message still reads
// the message whole and serves it (it holds no request meanwhile).
func TestMessageLargerThanSessionBoundServed(t *testing.T) {
	srv := start(t, &Server{Options: session.Options{Handler: echo, MaxIncomingBytes: 1000}})
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	big := strings.Repeat("y", 50000)
	if _, err := c.Write([]byte(`{"jsonrpc":"2.0","id":7,"method":"echo","params":["` + big + `"]}` + "\n")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second)) // a hang guard
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.Contains(line, big) {
		t.Fatalf("reply %.60s…, %v", line, err)
	}
}

// Server.Shutdown returns by its deadline even when a handler ignores
// its context (it used to wait for it forever).
func TestShutdownReturnsDespiteHandlerIgnoringContext(t *testing.T) {
	release := make(chan struct{})
	srv := &Server{Options: session.Options{Handler: session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		<-release
		return nil, nil
	})}}
	if err := srv.Listen(context.Background()); err != nil {
		t.Fatal(err)
	}
	cli := dial(t, nil, "tcp", srv.Addr().String())
	go cli.Call(context.Background(), "stuck", nil, nil)
	waitFor(t, "request running", func() bool {
		ss := srv.Sessions()
		return len(ss) == 1 && ss[0].Stats().Running == 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Shutdown = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return after its deadline")
	}
	close(release)
	srv.Wait()
}
