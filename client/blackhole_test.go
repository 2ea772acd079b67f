package client_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorpcx/gorpcx/client"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// blackhole is a TCP proxy to a target that can stop forwarding both
// ways while keeping every socket open: what it reads while blackholed
// is dropped, as a dead route or a stuck middlebox would.
type blackhole struct {
	ln     net.Listener
	target string
	holed  atomic.Bool

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func startBlackhole(t *testing.T, target string) *blackhole {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackhole{ln: ln, target: target}
	b.wg.Add(1)
	go b.accept()
	t.Cleanup(b.close)
	return b
}

func (b *blackhole) addr() string { return b.ln.Addr().String() }

func (b *blackhole) accept() {
	defer b.wg.Done()
	for {
		in, err := b.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", b.target)
		if err != nil {
			in.Close()
			continue
		}
		b.mu.Lock()
		b.conns = append(b.conns, in, out)
		b.mu.Unlock()
		b.wg.Add(2)
		go b.pipe(out, in)
		go b.pipe(in, out)
	}
}

// pipe copies src to dst, dropping what it reads while blackholed.
func (b *blackhole) pipe(dst, src net.Conn) {
	defer b.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !b.holed.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				if tc, ok := dst.(*net.TCPConn); ok {
					tc.CloseWrite()
				}
			}
			return
		}
	}
}

func (b *blackhole) close() {
	b.ln.Close()
	b.mu.Lock()
	for _, c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

// TestBlackhole: a connection that stops carrying anything, both ways,
// with its sockets open, is found dead by the application ping
// (session.ErrPingTimeout); the client reconnects, to the next endpoint
// or through the proxy once it forwards again.
func TestBlackhole(t *testing.T) {
	tests := []struct {
		name     string
		failover bool // a second endpoint, the server directly
	}{
		{"fail over", true},
		{"proxy resumed", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hub := newHub(t)
			srv := startServer(t, "127.0.0.1:0", hub)
			proxy := startBlackhole(t, srv.addr)
			eps := []client.Endpoint{{Address: proxy.addr()}}
			if tt.failover {
				eps = append(eps, client.Endpoint{Address: srv.addr})
			}
			st, tips := make(states, 256), make(notes, 16)
			c := newClient(t, &client.Options{
				Endpoints: eps,
				Dialer: server.Dialer{Options: session.Options{
					Handler: tips.handler(),
					Ping:    &session.Ping{Method: "echo", Params: []any{"ping"}, Interval: 50 * time.Millisecond, Misses: 2},
				}},
				OnConnect: subscribe,
				OnState:   st.record,
			})
			if got := st.next(t, client.Connected); got.Endpoint.Address != proxy.addr() {
				t.Fatalf("connected to %s, want the proxy %s", got.Endpoint.Address, proxy.addr())
			}
			ctx := context.Background()
			hub.Publish(ctx, "tip", []int{1})
			tips.want(t, "[1]")

			proxy.holed.Store(true)
			lost := st.next(t, client.Disconnected)
			if !errors.Is(lost.Err, session.ErrPingTimeout) {
				t.Errorf("Disconnected notice %+v, want ErrPingTimeout", lost)
			}
			want := srv.addr
			if !tt.failover {
				want = proxy.addr()
				// The attempts through the proxy connect and then fail
				// in OnConnect, their pings unanswered.
				if f := st.next(t, client.Failed); !errors.Is(f.Err, session.ErrPingTimeout) {
					t.Errorf("Failed notice %+v, want ErrPingTimeout", f)
				}
				proxy.holed.Store(false)
			}
			back := st.next(t, client.Connected)
			if back.Endpoint.Address != want || back.Connection != 2 {
				t.Errorf("Connected notice %+v, want connection 2 to %s", back, want)
			}
			hub.Publish(ctx, "tip", []int{2})
			tips.want(t, "[2]")
			cctx, cancel := context.WithTimeout(ctx, guard)
			defer cancel()
			if err := c.Call(cctx, "echo", []any{1}, nil); err != nil {
				t.Errorf("call after reconnecting: %v", err)
			}
		})
	}
}
