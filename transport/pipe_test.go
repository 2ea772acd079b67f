package transport_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/session"
	"github.com/gorpcx/gorpcx/transport"
)

// pipePair returns two Pipes joined by two os.Pipes, as a program and
// the process that started it are.
func pipePair(t *testing.T) (a, b *transport.Pipe) {
	t.Helper()
	r1, w1, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r2, w2, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	a, b = transport.NewPipe(r1, w2), transport.NewPipe(r2, w1)
	t.Cleanup(func() {
		a.Close()
		b.Close()
	})
	return a, b
}

// TestPipeSessions runs a server and a client session over a pair of
// Pipes; closing the server's ends the client's with io.EOF.
func TestPipeSessions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, b := pipePair(t)
	srv := session.New(framing.NewStream(framing.Newline{}, a), &session.Options{Handler: childMethods})
	client := session.New(framing.NewStream(framing.Newline{}, b), &session.Options{Side: session.Client})
	var got string
	if err := client.Call(ctx, "echo", []string{"over pipes"}, &got); err != nil || got != "over pipes" {
		t.Fatalf("echo = %q, %v", got, err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Wait(); !errors.Is(err, session.ErrClosed) {
		t.Errorf("server session ended with %v", err)
	}
	select {
	case <-client.Done():
	case <-ctx.Done():
		t.Fatal("the client session did not end")
	}
	if err := client.Err(); !errors.Is(err, io.EOF) {
		t.Errorf("client session ended with %v, want io.EOF", err)
	}
}

// TestPipeClose: CloseWrite is a half-close; Close closes both sides
// once, and reports each close's error once.
func TestPipeClose(t *testing.T) {
	a, b := pipePair(t)
	if _, err := a.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := a.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if err := a.CloseWrite(); err != nil {
		t.Errorf("second CloseWrite = %v, want nil", err)
	}
	if got, err := io.ReadAll(b); string(got) != "x" || err != nil {
		t.Errorf("peer read %q, %v", got, err)
	}
	if _, err := a.Write([]byte("y")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after CloseWrite = %v", err)
	}
	// a can still read what b writes.
	if _, err := b.Write([]byte("z")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1)
	if n, err := a.Read(buf); n != 1 || buf[0] != 'z' || err != nil {
		t.Errorf("Read after CloseWrite = %d %q %v", n, buf[:n], err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if _, err := a.Read(buf); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Read after Close = %v", err)
	}
}

func TestNewPipeNil(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for _, tc := range []struct {
		name string
		r    io.ReadCloser
		w    io.WriteCloser
	}{{"nil reader", nil, w}, {"nil writer", r, nil}} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			transport.NewPipe(tc.r, tc.w)
		})
	}
}

// ExampleNewPipe joins a reader and a writer of the program's own into
// one stream, as a test of a stdio server does.
func ExampleNewPipe() {
	r1, w1, _ := os.Pipe() // client -> server
	r2, w2, _ := os.Pipe() // server -> client
	srv := session.New(framing.NewStream(framing.Newline{}, transport.NewPipe(r1, w2)), &session.Options{Handler: childMethods})
	client := session.New(framing.NewStream(framing.Newline{}, transport.NewPipe(r2, w1)), &session.Options{Side: session.Client})
	var got string
	err := client.Call(context.Background(), "echo", []string{"hello"}, &got)
	client.Close()
	srv.Wait() // the server session sees its input end
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(got)
	// Output:
	// hello
}
