package transport

import (
	"errors"
	"net"
	"syscall"
	"testing"
)

func TestListenTCPInUse(t *testing.T) {
	ctx := testContext(t)
	ln, err := Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = Listen(ctx, "tcp", ln.Addr().String())
	if !errors.Is(err, ErrAddressInUse) || !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("Listen on a bound port = %v, want ErrAddressInUse", err)
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "listen" {
		t.Errorf("error %v is not a listen *net.OpError", err)
	}
	if err.Error() != op.Error() {
		t.Errorf("message %q changed from net's %q", err, op)
	}
}

func TestListenErrors(t *testing.T) {
	ctx := testContext(t)
	tests := []struct {
		network, address string
		check            func(error) bool
	}{
		{"udp", "127.0.0.1:0", func(err error) bool { return errors.As(err, new(net.UnknownNetworkError)) }},
		{"tcp", "127.0.0.1", func(err error) bool { return errors.As(err, new(*net.AddrError)) }},
		{"tcp", "127.0.0.1:99999", func(err error) bool { return errors.As(err, new(*net.AddrError)) }},
	}
	for _, tt := range tests {
		ln, err := Listen(ctx, tt.network, tt.address)
		if err == nil {
			ln.Close()
			t.Errorf("Listen(%q, %q) succeeded", tt.network, tt.address)
			continue
		}
		var op *net.OpError
		if !errors.As(err, &op) || op.Op != "listen" || !tt.check(err) {
			t.Errorf("Listen(%q, %q) = %v", tt.network, tt.address, err)
			continue
		}
		if op.Net != tt.network {
			t.Errorf("Listen(%q, %q) error names network %q", tt.network, tt.address, op.Net)
		}
		// net leaves Addr nil when it cannot parse the address; errors
		// made here name it.
		if tt.network == "udp" && (op.Addr == nil || op.Addr.String() != tt.address || op.Addr.Network() != tt.network) {
			t.Errorf("Listen(%q, %q) error names %q %v", tt.network, tt.address, op.Net, op.Addr)
		}
	}
}

func TestAcceptReturnsConn(t *testing.T) {
	ctx := testContext(t)
	var lc *ListenConfig // a nil config works like the zero one
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var nl net.Listener = ln
	var d *Dialer // so does a nil Dialer
	c, err := d.Dial(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ac, err := nl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer ac.Close()
	conn, ok := ac.(*Conn)
	if !ok {
		t.Fatalf("Accept returned %T, want *Conn", ac)
	}
	if got, want := conn.RemoteAddress().String(), c.LocalAddr().String(); got != want {
		t.Errorf("RemoteAddress() = %q, want %q", got, want)
	}
	ln.Close()
	ac2, err := nl.Accept()
	if ac2 != nil || !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close = %#v, %v; want a nil net.Conn and net.ErrClosed", ac2, err)
	}
}
