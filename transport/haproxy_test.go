package transport

import (
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorpcx/gorpcx/internal/realpeer"
)

// TestHAProxy puts a real HAProxy (Debian's haproxy, started by the
// test) in front of a listener with the PROXY protocol on, and checks
// that the accepted connection reports the client's own address as its
// remote address and HAProxy's as its balancer, for send-proxy (v1) and
// send-proxy-v2, over TCP and to a Unix socket.
func TestHAProxy(t *testing.T) {
	for _, tt := range []struct {
		name    string
		network string
		options string
		mode    ProxyMode
		version int
	}{
		{"send-proxy", "tcp", "send-proxy", ProxyV1, 1},
		{"send-proxy-v2", "tcp", "send-proxy-v2", ProxyV2, 2},
		{"send-proxy-v2 to a Unix socket", "unix", "send-proxy-v2", ProxyAny, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			address := "127.0.0.1:0"
			if tt.network == "unix" {
				address = filepath.Join(t.TempDir(), "backend.sock")
			}
			ln := proxyListen(t, tt.network, address, &ProxyProtocol{Mode: tt.mode})
			front := realpeer.StartHAProxy(t, realpeer.HAProxyConfig{Server: ln.Addr().String(), ServerOptions: tt.options})

			client, err := Dial(testContext(t), "tcp", front)
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			accepted := make(chan *Conn, 1)
			go func() {
				c, err := ln.AcceptConn()
				if err != nil {
					close(accepted)
					return
				}
				accepted <- c
			}()
			var c *Conn
			select {
			case c = <-accepted:
			case <-time.After(testTimeout):
				ln.Close()
				<-accepted
				t.Fatal("HAProxy did not connect to the listener")
			}
			if c == nil {
				t.Fatal("accept failed")
			}
			defer c.Close()
			if err := c.Handshake(testContext(t)); err != nil {
				t.Fatalf("Handshake: %v", err)
			}

			if got, want := c.RemoteAddress().String(), client.LocalAddr().String(); got != want {
				t.Errorf("RemoteAddress = %s, want the client's own address %s", got, want)
			}
			if got, want := c.RemoteAddr().String(), client.LocalAddr().String(); got != want {
				t.Errorf("RemoteAddr = %s, want %s", got, want)
			}
			socketPeer := c.proxy.raw.RemoteAddr() // HAProxy's end of the socket
			b, ok := c.Balancer()
			switch {
			case !ok:
				t.Error("Balancer reports no balancer")
			case tt.network == "unix" && !b.IsZero():
				t.Errorf("Balancer = %v on a Unix socket, want the zero NetAddress", b)
			case tt.network == "tcp" && b.String() != socketPeer.String():
				t.Errorf("Balancer = %v, want HAProxy's address %v", b, socketPeer)
			case tt.network == "tcp" && b.String() == client.LocalAddr().String():
				t.Errorf("Balancer = %v is the client", b)
			}
			h := c.ProxyHeader()
			if h == nil || h.Version != tt.version || h.Local || h.Destination.String() != front {
				t.Errorf("ProxyHeader = %+v, want version %d with the frontend %s as destination", h, tt.version, front)
			}

			// Data flows both ways through HAProxy.
			client.SetDeadline(time.Now().Add(testTimeout))
			c.SetDeadline(time.Now().Add(testTimeout))
			if _, err := io.WriteString(client, "through haproxy\n"); err != nil {
				t.Fatal(err)
			}
			client.CloseWrite()
			got, err := io.ReadAll(c)
			if err != nil || string(got) != "through haproxy\n" {
				t.Fatalf("server read %q, %v", got, err)
			}
			if _, err := io.WriteString(c, "answer\n"); err != nil {
				t.Fatal(err)
			}
			c.CloseWrite()
			got, err = io.ReadAll(client)
			if err != nil || string(got) != "answer\n" {
				t.Fatalf("client read %q, %v", got, err)
			}
		})
	}
}
