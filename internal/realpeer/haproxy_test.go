package realpeer

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestStartHAProxy checks that the HAProxy started forwards a
// connection to the server, and that its readiness check did not reach
// the server first.
func TestStartHAProxy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	front := StartHAProxy(t, HAProxyConfig{Server: ln.Addr().String()})

	c, err := net.DialTimeout("tcp", front, wait)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(wait))
	if _, err := io.WriteString(c, "through"); err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()

	ln.(*net.TCPListener).SetDeadline(time.Now().Add(wait))
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetDeadline(time.Now().Add(wait))
	got, err := io.ReadAll(s)
	if err != nil || string(got) != "through" {
		t.Fatalf("the server read %q, %v; want the client's bytes and nothing else", got, err)
	}
}

func TestHAProxyConfig(t *testing.T) {
	got := haproxyConfig(HAProxyConfig{Server: "/tmp/x.sock", ServerOptions: "send-proxy-v2"}, "127.0.0.1:1", "127.0.0.1:2")
	for _, want := range []string{"bind 127.0.0.1:1\n", "bind 127.0.0.1:2\n", "monitor-uri /ready", "server s1 /tmp/x.sock send-proxy-v2\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("the configuration lacks %q:\n%s", want, got)
		}
	}
}
