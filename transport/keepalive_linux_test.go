package transport

import (
	"crypto/tls"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tcpOptions are the dead-peer options of a socket as the system reports them.
type tcpOptions struct {
	keepAlive   bool
	idle        int // seconds
	interval    int // seconds
	count       int
	userTimeout int // milliseconds
}

func readTCPOptions(t *testing.T, c *Conn) tcpOptions {
	t.Helper()
	inner := c.NetConn()
	if tc, ok := inner.(*tls.Conn); ok {
		inner = tc.NetConn()
	}
	sc, ok := inner.(syscall.Conn)
	if !ok {
		t.Fatalf("%T has no SyscallConn", inner)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var got tcpOptions
	var gerr error
	get := func(fd, level, opt int) int {
		v, err := syscall.GetsockoptInt(fd, level, opt)
		if err != nil && gerr == nil {
			gerr = err
		}
		return v
	}
	if err := rc.Control(func(fd uintptr) {
		got.keepAlive = get(int(fd), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE) != 0
		got.idle = get(int(fd), syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE)
		got.interval = get(int(fd), syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL)
		got.count = get(int(fd), syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT)
		got.userTimeout = get(int(fd), syscall.IPPROTO_TCP, tcpUserTimeout)
	}); err != nil {
		t.Fatal(err)
	}
	if gerr != nil {
		t.Fatalf("getsockopt: %v", gerr)
	}
	return got
}

// systemKeepAliveProbes is the system's TCP_KEEPCNT for new sockets.
func systemKeepAliveProbes(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_keepalive_probes")
	if err != nil {
		t.Skipf("cannot read the system's keep-alive probe count: %v", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTCPDeadPeerOptions(t *testing.T) {
	tests := []struct {
		name        string
		keepAlive   *net.KeepAliveConfig
		userTimeout time.Duration
		want        func(t *testing.T) tcpOptions // the keep-alive fields only matter when on
	}{
		{"defaults", nil, 0, func(*testing.T) tcpOptions {
			return tcpOptions{true, 30, 10, 3, 60000}
		}},
		{"custom", &net.KeepAliveConfig{Enable: true, Idle: 5 * time.Second, Interval: 2 * time.Second, Count: 4}, 7500 * time.Millisecond, func(*testing.T) tcpOptions {
			return tcpOptions{true, 5, 2, 4, 7500}
		}},
		{"zero fields take the defaults, sub-unit values round up", &net.KeepAliveConfig{Enable: true, Idle: 45 * time.Second}, 1500 * time.Microsecond, func(*testing.T) tcpOptions {
			return tcpOptions{true, 45, 10, 3, 2}
		}},
		{"negative count leaves the system's", &net.KeepAliveConfig{Enable: true, Count: -1}, time.Hour, func(t *testing.T) tcpOptions {
			return tcpOptions{true, 30, 10, systemKeepAliveProbes(t), 3600000}
		}},
		{"user timeout capped", nil, 1000 * 24 * time.Hour, func(*testing.T) tcpOptions {
			return tcpOptions{true, 30, 10, 3, math.MaxInt32}
		}},
		{"keep-alive off", &net.KeepAliveConfig{Enable: false, Idle: time.Second}, 0, func(*testing.T) tcpOptions {
			return tcpOptions{keepAlive: false, userTimeout: 60000}
		}},
		{"user timeout off", nil, -1, func(*testing.T) tcpOptions {
			return tcpOptions{true, 30, 10, 3, 0}
		}},
		{"both off", &net.KeepAliveConfig{}, -time.Second, func(*testing.T) tcpOptions {
			return tcpOptions{}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want(t)
			ctx := testContext(t)
			lc := &ListenConfig{KeepAlive: tt.keepAlive, UserTimeout: tt.userTimeout}
			ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			d := &Dialer{KeepAlive: tt.keepAlive, UserTimeout: tt.userTimeout}
			dialed, err := d.Dial(ctx, "tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer dialed.Close()
			accepted, err := ln.AcceptConn()
			if err != nil {
				t.Fatal(err)
			}
			defer accepted.Close()
			for _, side := range []struct {
				name string
				c    *Conn
			}{{"dialed", dialed}, {"accepted", accepted}} {
				got := readTCPOptions(t, side.c)
				if !want.keepAlive {
					got.idle, got.interval, got.count = 0, 0, 0
				}
				if got != want {
					t.Errorf("%s side: options %+v, want %+v", side.name, got, want)
				}
			}
		})
	}
}

// TestTCPDeadPeerOptionsWithTLS checks that a TLS listener and dialer
// set the options on the socket beneath.
func TestTCPDeadPeerOptionsWithTLS(t *testing.T) {
	ctx := testContext(t)
	ln, pool := tlsListen(t, "tcp", "127.0.0.1:0")
	accepted := serveEcho(t, ln)
	c, err := (&Dialer{TLS: &tls.Config{RootCAs: pool}, UserTimeout: 5 * time.Second}).Dial(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, want := readTCPOptions(t, c), (tcpOptions{true, 30, 10, 3, 5000}); got != want {
		t.Errorf("dialed side: options %+v, want %+v", got, want)
	}
	// The accepted connection is open until the round trip below ends.
	if got, want := readTCPOptions(t, <-accepted), (tcpOptions{true, 30, 10, 3, 60000}); got != want {
		t.Errorf("accepted side: options %+v, want %+v", got, want)
	}
	roundTrip(t, c, "tls")
}
