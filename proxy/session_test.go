package proxy_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/proxy"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
	"github.com/gorpcx/gorpcx/transport"
)

// startPeerServer starts a gorpcx server on address (127.0.0.1:0 when
// empty) whose method "peer" returns the peer address it sees. It is
// shut down at the end of the test.
func startPeerServer(t testing.TB, address string) *server.Server {
	t.Helper()
	if address == "" {
		address = "127.0.0.1:0"
	}
	srv := &server.Server{
		Address: address,
		Options: session.Options{Handler: handler.Methods{
			"peer": session.HandlerFunc(func(ctx context.Context, _ *jsonrpc2.Request) (any, error) {
				return session.FromContext(ctx).Peer(), nil
			}),
		}},
	}
	if err := srv.Listen(testContext(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		srv.Wait()
	})
	return srv
}

// callPeer runs a session through via to target with server.Dialer and
// returns the peer address the server saw. The session stays open
// until the test ends.
func callPeer(t testing.TB, via transport.ContextDialer, target string) netip.AddrPort {
	t.Helper()
	ctx := testContext(t)
	d := server.Dialer{Via: via}
	s, err := d.Dial(ctx, "tcp", target)
	if err != nil {
		t.Fatalf("server.Dialer.Dial via %v: %v", via, err)
	}
	t.Cleanup(func() { s.Close() })
	return callPeerOn(t, s)
}

// callPeerOn calls "peer" on s.
func callPeerOn(t testing.TB, s *session.Session) netip.AddrPort {
	t.Helper()
	var peer string
	if err := s.Call(testContext(t), "peer", nil, &peer); err != nil {
		t.Fatalf("call: %v", err)
	}
	ap, err := netip.ParseAddrPort(peer)
	if err != nil {
		t.Fatalf("peer %q: %v", peer, err)
	}
	return ap
}

// dialPeer dials target through via with transport.Dialer, checks the
// connection's details, runs a session on it and returns the
// connection and the peer address the server saw.
func dialPeer(t testing.TB, via *proxy.SOCKS, target string) (*transport.Conn, netip.AddrPort) {
	t.Helper()
	d := transport.Dialer{Via: via}
	conn, err := d.Dial(testContext(t), "tcp", target)
	if err != nil {
		t.Fatalf("transport.Dialer.Dial via %v: %v", via, err)
	}
	if got := conn.RemoteAddress().String(); got != target {
		t.Errorf("RemoteAddress() = %s, want the target %s", got, target)
	}
	if got := conn.Proxy(); got != via {
		t.Errorf("Proxy() = %v, want %v", got, via)
	}
	if got, want := conn.RemoteAddr().String(), via.Address; got != want {
		t.Errorf("RemoteAddr() = %s, want the proxy %s", got, want)
	}
	if _, ok := conn.NetConn().(*proxy.Conn); !ok {
		t.Errorf("NetConn() is a %T, want a *proxy.Conn", conn.NetConn())
	}
	s := session.New(framing.NewStream(framing.Newline{}, conn), &session.Options{Side: session.Client})
	t.Cleanup(func() { s.Close() })
	return conn, callPeerOn(t, s)
}

// checkPeer checks that the server saw a loopback connection other
// than the client's own, with the port the proxy reported as bound if
// it reported one.
func checkPeer(t testing.TB, conn *transport.Conn, peer netip.AddrPort) {
	t.Helper()
	local := conn.LocalAddr().(*net.TCPAddr).AddrPort()
	if !peer.Addr().IsLoopback() || peer.Port() == local.Port() {
		t.Errorf("server saw %s; want the proxy's loopback connection, not the client's %s", peer, local)
	}
	bound := conn.NetConn().(*proxy.Conn).BoundAddr().(*net.TCPAddr).AddrPort()
	if bound.Port() != 0 && bound != peer {
		t.Errorf("server saw %s, proxy reported it bound %s", peer, bound)
	}
}

func TestSessionThroughFakeProxy(t *testing.T) {
	srv := startPeerServer(t, "")
	_, port, _ := net.SplitHostPort(srv.Addr().String())
	for _, tt := range []struct {
		p      proxy.Protocol
		target string
	}{
		{proxy.SOCKS5, "localhost:" + port},
		{proxy.SOCKS4, "127.0.0.1:" + port},
		{proxy.SOCKS4a, "localhost:" + port},
	} {
		t.Run(tt.p.String(), func(t *testing.T) {
			r := &relay{}
			fp := startFakeProxy(t, r.Serve)
			via := &proxy.SOCKS{Protocol: tt.p, Address: fp.Addr()}

			peer := callPeer(t, via, tt.target)
			if !peer.Addr().IsLoopback() {
				t.Errorf("server saw %s", peer)
			}
			conn, peer := dialPeer(t, via, tt.target)
			checkPeer(t, conn, peer)
			if bound := conn.NetConn().(*proxy.Conn).BoundAddr().String(); bound != peer.String() {
				t.Errorf("server saw %s, the relay reported %s", peer, bound)
			}
			if n := len(r.Requests()); n != 2 {
				t.Errorf("the proxy carried %d connections, want 2", n)
			}
		})
	}
}

func TestTransportDialError(t *testing.T) {
	fp := startFakeProxy(t, (&script{Method: "\x05\x00", Reply: string(reply5(2, zeroBound))}).Serve)
	via := &proxy.SOCKS{Address: fp.Addr(), Auth: proxy.Auth{Username: "alice", Password: "hunter2"}}
	d := transport.Dialer{Via: via}
	_, err := d.Dial(testContext(t), "tcp", "example.org:50001")
	var de *transport.DialError
	var re *proxy.RefusedError
	if !errors.As(err, &de) || !errors.As(err, &re) || re.Code != 2 {
		t.Fatalf("error %v: want a transport.DialError wrapping a refusal", err)
	}
	if msg := err.Error(); strings.Contains(msg, "hunter2") || !strings.Contains(msg, via.String()) {
		t.Errorf("error %q: want the proxy named, without its password", msg)
	}
}
