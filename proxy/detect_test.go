package proxy_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gorpcx/gorpcx/proxy"
)

// socks4Only plays a SOCKS4 proxy: anything else gets a SOCKS4
// rejection. It grants IPv4 targets if connect is set, host names if
// names is set too.
func socks4Only(connect, names bool) func(fp *fakeProxy, c net.Conn) {
	return func(fp *fakeProxy, c net.Conn) {
		v, err := readFull(c, 1)
		if err != nil {
			return
		}
		if v[0] != 4 {
			c.Write(reply4(91, zeroBound))
			return
		}
		req, err := readRequest4(&prefixConn{Conn: c, prefix: v})
		isName := net.ParseIP(req.Host) == nil
		if err != nil || !connect || isName && !names {
			c.Write(reply4(91, zeroBound))
			return
		}
		t, err := fp.Dial(req.Target())
		if err != nil {
			c.Write(reply4(91, zeroBound))
			return
		}
		t.Close()
		c.Write(reply4(90, zeroBound))
	}
}

// notAProxy answers like a web server.
func notAProxy(_ *fakeProxy, c net.Conn) {
	c.SetReadDeadline(time.Now().Add(time.Second))
	c.Read(make([]byte, 64))
	io.WriteString(c, "HTTP/1.0 400 Bad Request\r\n\r\n")
}

func TestDetect(t *testing.T) {
	echo := startEcho(t)
	nameTarget := "localhost:" + mustPortString(t, echo)
	tests := []struct {
		name    string
		handler func(fp *fakeProxy, c net.Conn)
		auth    proxy.Auth
		want    proxy.Protocol
		probes  int // connections the proxy saw
	}{
		{"SOCKS5", (&relay{}).Serve, proxy.Auth{}, proxy.SOCKS5, 1},
		{"SOCKS5 with credentials", (&relay{Check: func(u, p string) bool { return u == "u" && p == "p" }}).Serve, proxy.Auth{Username: "u", Password: "p"}, proxy.SOCKS5, 1},
		{"SOCKS5 wanting credentials", (&relay{Check: func(u, p string) bool { return true }}).Serve, proxy.Auth{}, proxy.SOCKS5, 1},
		{"SOCKS5 refusing the target", (&script{Method: "\x05\x00", Reply: string(reply5(3, zeroBound))}).Serve, proxy.Auth{}, proxy.SOCKS5, 1},
		{"SOCKS4a", socks4Only(true, true), proxy.Auth{}, proxy.SOCKS4a, 2},
		{"SOCKS4 refusing host names", socks4Only(true, false), proxy.Auth{}, proxy.SOCKS4, 3},
		{"SOCKS4 refusing everything", socks4Only(false, false), proxy.Auth{}, proxy.SOCKS4, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fp := startFakeProxy(t, tt.handler)
			fwd := &net.Dialer{}
			d := &proxy.Detector{Auth: tt.auth, Target: echo, NameTarget: nameTarget, Timeout: 5 * time.Second, Forward: fwd}
			got, err := d.Detect(testContext(t), fp.Addr())
			if err != nil {
				t.Fatal(err)
			}
			want := &proxy.SOCKS{Protocol: tt.want, Address: fp.Addr(), Auth: tt.auth, Timeout: 5 * time.Second, Forward: fwd}
			if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(net.Dialer{})); diff != "" {
				t.Errorf("Detect: (-want +got)\n%s", diff)
			}
			if n := fp.Accepted(); n != tt.probes {
				t.Errorf("%d probes, want %d", n, tt.probes)
			}
		})
	}
}

func TestDetectNothing(t *testing.T) {
	echo := startEcho(t)
	d := &proxy.Detector{Target: echo, NameTarget: "localhost:" + mustPortString(t, echo), Timeout: 5 * time.Second}

	t.Run("not a proxy", func(t *testing.T) {
		fp := startFakeProxy(t, notAProxy)
		_, err := d.Detect(testContext(t), fp.Addr())
		if !errors.Is(err, proxy.ErrNotDetected) {
			t.Fatalf("error %v does not match ErrNotDetected", err)
		}
		var pe *proxy.ProtocolError
		if !errors.As(err, &pe) {
			t.Errorf("error %v holds no protocol error", err)
		}
		for _, p := range []string{"SOCKS5", "SOCKS4a", "SOCKS4"} {
			if !strings.Contains(err.Error(), p+" proxy at "+fp.Addr()) {
				t.Errorf("error %q does not name the %s probe", err, p)
			}
		}
		if fp.Accepted() != 3 {
			t.Errorf("%d probes, want 3", fp.Accepted())
		}
	})

	t.Run("nothing listening", func(t *testing.T) {
		addr := closedPort(t)
		_, err := d.Detect(testContext(t), addr)
		if !errors.Is(err, proxy.ErrNotDetected) || strings.Contains(err.Error(), "SOCKS4") {
			t.Errorf("error %v: want one probe only, not detected", err)
		}
	})

	t.Run("silent", func(t *testing.T) {
		fp := startFakeProxy(t, (&script{Hang: true}).Serve)
		d := *d
		d.Timeout = 20 * time.Millisecond
		_, err := d.Detect(testContext(t), fp.Addr())
		if !errors.Is(err, proxy.ErrNotDetected) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v: want not detected after timeouts", err)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		fp := startFakeProxy(t, (&script{Hang: true}).Serve)
		ctx, cancel := context.WithTimeout(testContext(t), 20*time.Millisecond)
		defer cancel()
		_, err := d.Detect(ctx, fp.Addr())
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, proxy.ErrNotDetected) {
			t.Errorf("error %v: want the context's", err)
		}
		_, err = d.DetectHost(ctx, "127.0.0.1", mustPort(t, fp.Addr()))
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, proxy.ErrNotDetected) {
			t.Errorf("DetectHost: error %v: want the context's", err)
		}
	})
}

func TestDetectHost(t *testing.T) {
	echo := startEcho(t)
	d := &proxy.Detector{Target: echo, NameTarget: "localhost:" + mustPortString(t, echo)}
	closed1, closed2 := mustPort(t, closedPort(t)), mustPort(t, closedPort(t))
	fp := startFakeProxy(t, socks4Only(true, true))
	port := mustPort(t, fp.Addr())

	got, err := d.DetectHost(testContext(t), "127.0.0.1", closed1, port, closed2)
	if err != nil {
		t.Fatal(err)
	}
	if got.Protocol != proxy.SOCKS4a || got.Address != fp.Addr() {
		t.Errorf("DetectHost found %v", got)
	}

	_, err = d.DetectHost(testContext(t), "127.0.0.1", closed1, closed2)
	if !errors.Is(err, proxy.ErrNotDetected) {
		t.Fatalf("error %v does not match ErrNotDetected", err)
	}
	for _, p := range []int{closed1, closed2} {
		if !strings.Contains(err.Error(), "127.0.0.1:"+strconv.Itoa(p)) {
			t.Errorf("error %q does not name port %d", err, p)
		}
	}
}

func TestDetectDefaultTargets(t *testing.T) {
	requested := make(chan request, 1)
	fp := startFakeProxy(t, (&script{Method: "\x05\x00", Reply: string(reply5(2, zeroBound)), Requested: requested}).Serve)
	var d proxy.Detector
	got, err := d.Detect(testContext(t), fp.Addr())
	if err != nil || got.Protocol != proxy.SOCKS5 {
		t.Fatalf("Detect: %v, %v", got, err)
	}
	if req := <-requested; req.Target() != proxy.DefaultDetectTarget {
		t.Errorf("probe asked for %s, want %s", req.Target(), proxy.DefaultDetectTarget)
	}

	requested4 := make(chan request, 3)
	fp = startFakeProxy(t, (&script{Reply: string(reply4(91, zeroBound)), Requested: requested4}).Serve)
	if got, err := d.Detect(testContext(t), fp.Addr()); err != nil || got.Protocol != proxy.SOCKS4 {
		t.Fatalf("Detect: %v, %v", got, err)
	}
	if req := <-requested4; req.Target() != proxy.DefaultDetectNameTarget {
		t.Errorf("SOCKS4a probe asked for %s, want %s", req.Target(), proxy.DefaultDetectNameTarget)
	}
}

func TestDetectBadSettings(t *testing.T) {
	tests := []struct {
		name  string
		d     proxy.Detector
		ports []int
	}{
		{"IPv6 target", proxy.Detector{Target: "[::1]:53"}, []int{1080}},
		{"host name target", proxy.Detector{Target: "dns.example:53"}, []int{1080}},
		{"target without port", proxy.Detector{Target: "127.0.0.1"}, []int{1080}},
		{"IPv6 name target", proxy.Detector{NameTarget: "[::1]:80"}, []int{1080}},
		{"name target port 0", proxy.Detector{NameTarget: "example.org:0"}, []int{1080}},
		{"user ID with NUL", proxy.Detector{Auth: proxy.Auth{Username: "a\x00"}}, []int{1080}},
		{"no ports", proxy.Detector{}, nil},
		{"port 0", proxy.Detector{}, []int{0}},
		{"port too large", proxy.Detector{}, []int{65536}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fp := startFakeProxy(t, (&relay{}).Serve)
			d := tt.d
			_, err := d.DetectHost(testContext(t), "127.0.0.1", tt.ports...)
			if err == nil || errors.Is(err, proxy.ErrNotDetected) {
				t.Errorf("DetectHost: %v, want a settings error", err)
			}
			if len(tt.ports) == 1 && tt.ports[0] == 1080 {
				if _, err := d.Detect(testContext(t), fp.Addr()); err == nil || errors.Is(err, proxy.ErrNotDetected) {
					t.Errorf("Detect: %v, want a settings error", err)
				}
			}
			if fp.Accepted() != 0 {
				t.Error("the proxy was contacted")
			}
		})
	}
}
