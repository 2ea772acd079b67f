package server

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gorpcx/gorpcx/session"
	"github.com/gorpcx/gorpcx/transport"
)

// dialAs connects to addr from 127.0.0.1 and sends a PROXY protocol v1
// header naming client as the connection's source.
func dialAs(t *testing.T, client, addr string) net.Conn {
	t.Helper()
	c := dialFrom(t, "127.0.0.1", addr)
	if _, err := c.Write([]byte("PROXY TCP4 " + client + " 127.0.0.1 40000 50001\r\n")); err != nil {
		t.Fatal(err)
	}
	return c
}

func ticking(srv *Server) bool {
	srv.groups.mu.Lock()
	defer srv.groups.mu.Unlock()
	return srv.groups.ticking
}

// Regression: the loop that recalculates the throttling of sessions
// sharing a group's cost was started only when a connection joined its
// groups at accept. A connection behind a PROXY header joins them after
// the header, so behind a balancer the loop did not run (until some
// later accept), and what the groups retain, and its decay, was not
// felt by sessions whose own cost barely moved.
func TestSharedCostRecalculatedBehindProxyHeader(t *testing.T) {
	srv := start(t, &Server{
		Proxy:   &transport.ProxyProtocol{Mode: transport.ProxyV1},
		Peers:   PeerGroups{Exempt: noExempt()},
		Options: session.Options{Handler: hello},
	})
	c := dialAs(t, "192.0.2.1", srv.Addr().String())
	if !echoOK(c) {
		t.Fatal("the connection behind a PROXY header is not served")
	}
	if g := srv.Groups(); len(g) != 2 || g[0].Prefix != netip.MustParsePrefix("192.0.2.1/32") {
		t.Fatalf("groups %+v, want the client's", g)
	}
	if !ticking(srv) {
		t.Error("the shared cost's recalculation loop does not run for a session behind a PROXY header")
	}
}

// Regression: for a listener given to Serve, whether a connection
// joins its peer groups at accept or after its PROXY header was decided
// by Server.Proxy, not by the listener. A transport.Listener with the
// PROXY protocol on, served by a Server without Proxy, grouped every
// client under the balancer's address (so the per-IP limit refused the
// second client behind it); a plain listener served by a Server with
// Proxy set never joined any group (so no per-peer limit applied).
func TestServeGroupsByTheListenersProxyProtocol(t *testing.T) {
	t.Run("transport listener with PROXY protocol", func(t *testing.T) {
		ln, err := (&transport.ListenConfig{Proxy: &transport.ProxyProtocol{Mode: transport.ProxyV1}}).Listen(context.Background(), "tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := serveOn(t, &Server{Peers: PeerGroups{PerIP: 1, Exempt: noExempt()}, Options: session.Options{Handler: hello}}, ln)
		for _, client := range []string{"192.0.2.1", "192.0.2.2"} {
			if !echoOK(dialAs(t, client, ln.Addr().String())) {
				t.Errorf("client %s behind the balancer not served", client)
			}
		}
		if st := srv.Stats(); st.RefusedPerIP != 0 {
			t.Errorf("RefusedPerIP = %d, want 0: two clients behind one balancer", st.RefusedPerIP)
		}
	})
	t.Run("plain listener, Server.Proxy set", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := serveOn(t, &Server{
			Proxy:   &transport.ProxyProtocol{Mode: transport.ProxyV1},
			Peers:   PeerGroups{PerIP: 1, Exempt: noExempt()},
			Options: session.Options{Handler: hello},
		}, ln)
		if !echoOK(dialFrom(t, "127.0.0.2", ln.Addr().String())) {
			t.Fatal("first connection not served")
		}
		if echoOK(dialFrom(t, "127.0.0.2", ln.Addr().String())) {
			t.Error("second connection of one IP served past a per-IP limit of 1")
		}
		if st := srv.Stats(); st.RefusedPerIP != 1 {
			t.Errorf("RefusedPerIP = %d, want 1", st.RefusedPerIP)
		}
	})
}

// serveOn serves ln with srv and shuts it down when the test ends.
func serveOn(t *testing.T, srv *Server, ln net.Listener) *Server {
	t.Helper()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		<-served
	})
	return srv
}

// proxyHeaderDialer dials from 127.0.0.1 and begins each connection
// with a PROXY protocol v1 header naming client.
type proxyHeaderDialer struct{ client string }

func (d proxyHeaderDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	var nd net.Dialer
	c, err := nd.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write([]byte("PROXY TCP4 " + d.client + " 127.0.0.1 40000 50001\r\n")); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Regression: net/http reads a connection's RemoteAddr before it reads
// anything from it, so an http.Server on a transport.Listener with the
// PROXY protocol gave every request the balancer's address, and the
// server's WebSockets were grouped (and limited per IP) under it, not
// under their clients' addresses, as Server.WebSocket's doc promises.
func TestWebSocketBehindProxyHeaderGroupedByClient(t *testing.T) {
	srv := &Server{Peers: PeerGroups{PerIP: 1, Exempt: noExempt()}, Options: session.Options{Handler: hello}}
	ln, err := (&transport.ListenConfig{Proxy: &transport.ProxyProtocol{Mode: transport.ProxyV1}}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv.WebSocket(nil), ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	url := "ws://" + ln.Addr().String() + "/"
	for _, client := range []string{"192.0.2.1", "192.0.2.2"} {
		d := transport.WebSocketDialer{Dialer: transport.Dialer{Via: proxyHeaderDialer{client}}}
		wc, err := d.Dial(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		s := session.New(wc, &session.Options{Side: session.Client})
		t.Cleanup(s.Abort)
		var got string
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = s.Call(ctx, "x", nil, &got)
		cancel()
		if err != nil || !strings.HasPrefix(got, "hello "+client+":") {
			t.Errorf("client %s: %q, %v; want served as its own address", client, got, err)
		}
	}
	if st := srv.Stats(); st.RefusedPerIP != 0 {
		t.Errorf("RefusedPerIP = %d, want 0: two clients behind one balancer", st.RefusedPerIP)
	}
}
