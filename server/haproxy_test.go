package server

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/internal/realpeer"
	"github.com/gorpcx/gorpcx/session"
	"github.com/gorpcx/gorpcx/transport"
)

// balancerKey is where the tests' NewSession keeps the balancer's
// address for the handler.
type balancerKey struct{}

// whoami answers "PEER via BALANCER" (or "PEER direct").
var whoami = session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	via, _ := ctx.Value(balancerKey{}).(string)
	if via == "" {
		via = "direct"
	}
	return session.FromContext(ctx).Peer() + " via " + via, nil
})

func withBalancer(conn *transport.Conn, opts *session.Options) error {
	if b, ok := conn.Balancer(); ok {
		opts.Context = context.WithValue(context.Background(), balancerKey{}, b.String())
	}
	return nil
}

// Behind a real HAProxy sending PROXY protocol v1 or v2, the server
// sees each client's own address, keeps the balancer's readable, and
// applies the per-IP limit to the client's address, not to the
// balancer's.
func TestBehindHAProxy(t *testing.T) {
	for _, version := range []string{"send-proxy", "send-proxy-v2"} {
		t.Run(version, func(t *testing.T) {
			srv := start(t, &Server{
				Proxy:      &transport.ProxyProtocol{Mode: transport.ProxyAny},
				Peers:      PeerGroups{PerIP: 1, Exempt: noExempt()},
				NewSession: withBalancer,
				Options:    session.Options{Handler: whoami},
			})
			front := realpeer.StartHAProxy(t, realpeer.HAProxyConfig{Server: srv.Addr().String(), ServerOptions: version})
			ask := func(from string) (string, error) {
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
				conn, err := d.Dial("tcp", front)
				if err != nil {
					t.Fatal(err)
				}
				s := session.New(newlineStream(conn), &session.Options{Side: session.Client})
				t.Cleanup(s.Abort)
				var got string
				err = s.Call(context.Background(), "whoami", nil, &got)
				return got, err
			}
			got, err := ask("127.0.0.8")
			if err != nil {
				t.Fatal(err)
			}
			peer, via, ok := strings.Cut(got, " via ")
			if !ok {
				t.Fatalf("whoami = %q", got)
			}
			ap, err := netip.ParseAddrPort(peer)
			if err != nil || ap.Addr() != netip.MustParseAddr("127.0.0.8") {
				t.Errorf("the session's peer is %q, want the client's address 127.0.0.8:PORT", peer)
			}
			if vp, err := netip.ParseAddrPort(via); err != nil || vp.Addr() != netip.MustParseAddr("127.0.0.1") {
				t.Errorf("the balancer is %q, want HAProxy's 127.0.0.1:PORT", via)
			}
			// All connections come from HAProxy's one address, but the
			// limit of one per IP applies to each client's own.
			if _, err := ask("127.0.0.8"); err == nil {
				t.Error("a second connection of 127.0.0.8 was served past its per-IP limit")
			}
			if got, err := ask("127.0.0.9"); err != nil || !strings.HasPrefix(got, "127.0.0.9:") {
				t.Errorf("another client behind the same balancer: %q, %v", got, err)
			}
			if st := srv.Stats(); st.RefusedPerIP != 1 {
				t.Errorf("RefusedPerIP = %d, want 1", st.RefusedPerIP)
			}
		})
	}
}

func newlineStream(conn net.Conn) framing.Stream { return framing.NewStream(framing.Newline{}, conn) }
