package proxy_test

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gorpcx/gorpcx/proxy"
	"github.com/gorpcx/gorpcx/transport"
)

// pipeForward is a Forward dialer whose connections are in-memory
// pipes served by handler.
type pipeForward struct {
	handler func(c net.Conn)
	wg      sync.WaitGroup
}

func (f *pipeForward) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	client, srv := net.Pipe()
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer srv.Close()
		f.handler(srv)
	}()
	return client, nil
}

// serve5 plays a SOCKS5 proxy that grants everything and then echoes.
func serve5(c net.Conn) {
	var req request
	if _, err := readGreeting(c); err != nil {
		return
	}
	c.Write([]byte{5, 0})
	if readConnect5(c, &req) != nil {
		return
	}
	c.Write(reply5(0, zeroBound))
	buf := make([]byte, 64)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		c.Write(buf[:n])
	}
}

func TestConn(t *testing.T) {
	fwd := &pipeForward{handler: serve5}
	defer fwd.wg.Wait()
	s := &proxy.SOCKS{Forward: fwd}
	nc, err := s.DialContext(testContext(t), "tcp", "example.org:80")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := nc.(*proxy.Conn)

	if err := c.CloseWrite(); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("CloseWrite on a pipe: %v, want ErrUnsupported", err)
	}
	if _, ok := c.NetConn().(interface{ CloseWrite() error }); ok {
		t.Errorf("NetConn() is a %T, want the pipe", c.NetConn())
	}
	if c.LocalAddr().Network() != "pipe" || c.RemoteAddr().Network() != "pipe" {
		t.Errorf("addresses %v, %v; want the pipe's", c.LocalAddr(), c.RemoteAddr())
	}
	if c.Target() != "example.org:80" || c.BoundAddr().String() != "0.0.0.0:0" {
		t.Errorf("Target() = %s, BoundAddr() = %s", c.Target(), c.BoundAddr())
	}

	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "ping" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	c.SetWriteDeadline(time.Time{})
	c.SetReadDeadline(time.Now().Add(time.Millisecond))
	if _, err := c.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read past the deadline: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// wrapped is a net.Conn that hides CloseWrite and leads to its
// connection with NetConn.
type wrapped struct{ net.Conn }

func (w wrapped) NetConn() net.Conn { return w.Conn }

// loop is a net.Conn whose NetConn leads back to itself.
type loop struct{ net.Conn }

func (l *loop) NetConn() net.Conn { return l }

func TestCloseWriteThroughWrappers(t *testing.T) {
	echo := startEcho(t)
	fp := startFakeProxy(t, (&relay{}).Serve)
	for _, tt := range []struct {
		name string
		wrap func(net.Conn) net.Conn
		ok   bool
	}{
		{"TCP", func(c net.Conn) net.Conn { return c }, true},
		{"NetConn wrapper", func(c net.Conn) net.Conn { return wrapped{c} }, true},
		{"cycle", func(c net.Conn) net.Conn { return &loop{c} }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var d net.Dialer
			s := &proxy.SOCKS{Address: fp.Addr(), Forward: dialerFunc(func(ctx context.Context, network, address string) (net.Conn, error) {
				c, err := d.DialContext(ctx, network, address)
				if err != nil {
					return nil, err
				}
				return tt.wrap(c), nil
			})}
			// Through transport, which looks for CloseWrite the same way.
			td := transport.Dialer{Via: s}
			c, err := td.Dial(testContext(t), "tcp", echo)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if tt.ok {
				echoCheck(t, c, "half-closed")
			} else if err := c.CloseWrite(); !errors.Is(err, errors.ErrUnsupported) {
				t.Errorf("CloseWrite: %v, want ErrUnsupported", err)
			}
		})
	}
}
