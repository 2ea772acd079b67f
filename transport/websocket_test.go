package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// wsServer serves h over HTTP/1.1 on a loopback listener, TLS if cfg
// is not nil, and returns its ws:// or wss:// URL. Cleanup shuts the
// server down and waits for every connection's Serve to return.
func wsServer(t *testing.T, h *WebSocketHandler, cfg *tls.Config) string {
	t.Helper()
	ln, err := Listen(testContext(t), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var serving sync.WaitGroup
	serve := h.Serve
	h.Serve = func(c *WebSocketConn) {
		serving.Add(1)
		defer serving.Done()
		serve(c)
	}
	srv := &http.Server{Handler: h, TLSConfig: cfg, ReadHeaderTimeout: testTimeout}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if cfg != nil {
			srv.ServeTLS(ln, "", "")
		} else {
			srv.Serve(ln)
		}
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
		serving.Wait()
	})
	scheme := "ws://"
	if cfg != nil {
		scheme = "wss://"
	}
	return scheme + ln.Addr().String() + "/rpc"
}

// echo answers each message with itself, and an oversized one with
// "too large", until the peer closes.
func echo(c *WebSocketConn) {
	c.SetDeadline(time.Now().Add(testTimeout))
	for {
		msg, err := c.ReadMessage()
		var tl *MessageTooLargeError
		switch {
		case errors.As(err, &tl):
			msg = []byte("too large")
		case err != nil:
			return
		}
		if err := c.WriteMessage(msg); err != nil {
			return
		}
	}
}

func TestWebSocketEcho(t *testing.T) {
	ctx := testContext(t)
	peers := make(chan *WebSocketConn, 1)
	url := wsServer(t, &WebSocketHandler{
		MaxMessage: 1000,
		Serve: func(c *WebSocketConn) {
			peers <- c
			echo(c)
		},
	}, nil)
	d := &WebSocketDialer{MaxMessage: -1}
	c, err := d.Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(testTimeout))

	msgs := []string{`{"jsonrpc":"2.0","method":"ping","id":1}`, "", strings.Repeat("x", 1000), strings.Repeat("y", 1001), "after"}
	var got []string
	for _, m := range msgs {
		if err := c.WriteMessage([]byte(m)); err != nil {
			t.Fatal(err)
		}
		reply, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(reply))
	}
	want := []string{msgs[0], "", msgs[2], "too large", "after"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("replies (-want +got):\n%s", diff)
	}

	if c.RemoteAddress().String() != strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/rpc") || c.Proxy() != nil || c.Request() != nil {
		t.Errorf("client RemoteAddress() = %v, Proxy() = %v", c.RemoteAddress(), c.Proxy())
	}
	if _, ok := c.TLSState(); ok {
		t.Error("TLSState() reports TLS on ws://")
	}
	sc := <-peers
	if got := sc.RemoteAddress(); got.Host().String() != "127.0.0.1" || got.Port() == 0 {
		t.Errorf("server RemoteAddress() = %v", got)
	}
	if sc.Request() == nil || sc.Request().URL.Path != "/rpc" {
		t.Errorf("server Request() = %v", sc.Request())
	}
}

func TestWebSocketLimits(t *testing.T) {
	ctx := testContext(t)
	url := wsServer(t, &WebSocketHandler{MaxMessage: -1, Binary: true, Serve: echo}, nil)
	c, err := (&WebSocketDialer{MaxMessage: 10, Binary: true}).Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(testTimeout))
	c.SetWriteDeadline(time.Now().Add(testTimeout))

	// Sending over the limit fails without sending.
	err = c.WriteMessage(make([]byte, 11))
	var tl *MessageTooLargeError
	if !errors.As(err, &tl) || tl.Limit != 10 || tl.Size != 11 || tl.Fatal() || tl.CostHint() != 500 {
		t.Fatalf("WriteMessage over the limit = %v", err)
	}
	if got := tl.Error(); got != "transport: WebSocket message of 11 bytes over the limit of 10 bytes" {
		t.Errorf("Error() = %q", got)
	}
	if err := c.WriteMessage([]byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	if m, err := c.ReadMessage(); err != nil || string(m) != "0123456789" {
		t.Fatalf("ReadMessage = %q, %v", m, err)
	}
}

func TestWebSocketOversizedFromServer(t *testing.T) {
	ctx := testContext(t)
	url := wsServer(t, &WebSocketHandler{Serve: func(c *WebSocketConn) {
		c.WriteMessage(make([]byte, 5000))
		c.WriteMessage([]byte("next"))
		c.ReadMessage() // until the client closes
	}}, nil)
	c, err := (&WebSocketDialer{MaxMessage: 100}).Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(testTimeout))
	_, err = c.ReadMessage()
	var tl *MessageTooLargeError
	if !errors.As(err, &tl) || tl.Limit != 100 || tl.Size != -1 {
		t.Fatalf("ReadMessage of 5000 bytes = %v", err)
	}
	if got := tl.Error(); got != "transport: WebSocket message over the limit of 100 bytes" {
		t.Errorf("Error() = %q", got)
	}
	if m, err := c.ReadMessage(); err != nil || string(m) != "next" {
		t.Fatalf("ReadMessage after the oversized one = %q, %v", m, err)
	}
}

func TestWebSocketPeerCloses(t *testing.T) {
	ctx := testContext(t)
	url := wsServer(t, &WebSocketHandler{Serve: func(c *WebSocketConn) {}}, nil)
	c, err := DialWebSocket(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(testTimeout))
	if _, err := c.ReadMessage(); !errors.Is(err, io.EOF) {
		t.Errorf("ReadMessage after the server closed = %v, want io.EOF", err)
	}
}

func TestWebSocketTLSVia(t *testing.T) {
	ctx := testContext(t)
	cert, pool := testCert(t)
	states := make(chan bool, 1)
	url := wsServer(t, &WebSocketHandler{Serve: func(c *WebSocketConn) {
		_, ok := c.TLSState()
		states <- ok
		echo(c)
	}}, &tls.Config{Certificates: []tls.Certificate{cert}})
	hostport := strings.TrimSuffix(strings.TrimPrefix(url, "wss://"), "/rpc")
	// Through a "proxy" to a name the certificate holds.
	via := &recordingDialer{name: "proxy", fixed: hostport}
	d := &WebSocketDialer{Dialer: Dialer{TLS: &tls.Config{RootCAs: pool}, Via: via, Timeout: testTimeout}}
	c, err := d.Dial(ctx, "wss://gorpcx.test/rpc")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(testTimeout))
	if diff := cmp.Diff([]string{"tcp gorpcx.test:443"}, via.Calls()); diff != "" {
		t.Errorf("Via calls (-want +got):\n%s", diff)
	}
	if c.RemoteAddress().String() != "gorpcx.test:443" || c.Proxy() != via {
		t.Errorf("RemoteAddress() = %v, Proxy() = %v", c.RemoteAddress(), c.Proxy())
	}
	if st, ok := c.TLSState(); !ok || st.ServerName != "gorpcx.test" {
		t.Errorf("TLSState() = %q, %v", st.ServerName, ok)
	}
	if err := c.WriteMessage([]byte("secure")); err != nil {
		t.Fatal(err)
	}
	if m, err := c.ReadMessage(); err != nil || string(m) != "secure" {
		t.Fatalf("ReadMessage = %q, %v", m, err)
	}
	if !<-states {
		t.Error("server TLSState() reports no TLS")
	}
}

func TestWebSocketDialErrors(t *testing.T) {
	ctx := testContext(t)
	tests := []struct {
		url  string
		want string
	}{
		{"http://127.0.0.1:1/", `URL scheme "http" is not ws or wss`},
		{"ws://user@127.0.0.1:1/", "user information"},
		{"ws://exa mple:1/", "invalid character"},
		{"ws://-bad.test/", `invalid host "-bad.test"`},
		{"ws://127.0.0.1:0/", `invalid port "0"`},
		{"ws:///path", "missing host"},
		{"ws://%zz/", "invalid URL escape"},
	}
	for _, tt := range tests {
		via := &recordingDialer{name: "rec"}
		c, err := (&WebSocketDialer{Dialer: Dialer{Via: via}}).Dial(ctx, tt.url)
		var de *DialError
		if c != nil || !errors.As(err, &de) || de.Network != "websocket" || de.Address != tt.url || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Dial(%q) = %v, %v; want a *DialError containing %q", tt.url, c, err, tt.want)
		}
		if len(via.Calls()) != 0 {
			t.Errorf("Dial(%q) dialed %q", tt.url, via.Calls())
		}
	}

	// Refused connection: the cause is the socket error, once.
	ln, err := Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = DialWebSocket(ctx, "ws://"+addr+"/")
	if !strings.HasPrefix(err.Error(), "transport: dial websocket ws://"+addr+"/: ") || strings.Count(err.Error(), "transport:") != 1 {
		t.Errorf("refused = %v", err)
	}
}

// rawServer accepts one connection, reads the request head and runs
// respond on it; it returns the ws:// URL.
func rawServer(t *testing.T, respond func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(testTimeout))
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		respond(c)
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return "ws://" + ln.Addr().String() + "/"
}

func TestWebSocketHandshakeFailures(t *testing.T) {
	t.Run("not upgraded", func(t *testing.T) {
		url := rawServer(t, func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
		})
		_, err := DialWebSocket(testContext(t), url)
		if err == nil || !strings.Contains(err.Error(), "websocket handshake: ") {
			t.Errorf("Dial to a 404 = %v", err)
		}
	})

	t.Run("endless headers", func(t *testing.T) {
		url := rawServer(t, func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\n")
			line := "X-Filler: " + strings.Repeat("f", 1000) + "\r\n"
			for range 200 { // 200 KB, over the 64 KiB limit
				if _, err := io.WriteString(c, line); err != nil {
					return
				}
			}
		})
		_, err := DialWebSocket(testContext(t), url)
		if !errors.Is(err, errHandshakeTooLarge) {
			t.Errorf("Dial to a server with endless headers = %v", err)
		}
	})

	t.Run("silent", func(t *testing.T) {
		url := rawServer(t, func(c net.Conn) {
			io.Copy(io.Discard, c) // until the client gives up
		})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := DialWebSocket(ctx, url)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Dial to a silent server = %v, want context.DeadlineExceeded", err)
		}
	})

	t.Run("silent with Timeout", func(t *testing.T) {
		url := rawServer(t, func(c net.Conn) {
			io.Copy(io.Discard, c)
		})
		_, err := (&WebSocketDialer{Dialer: Dialer{Timeout: 50 * time.Millisecond}}).Dial(context.Background(), url)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Dial to a silent server = %v, want context.DeadlineExceeded", err)
		}
	})
}

func TestWebSocketHandlerRefusals(t *testing.T) {
	ctx := testContext(t)
	h := &WebSocketHandler{
		Serve: func(c *WebSocketConn) {},
		CheckOrigin: func(r *http.Request) error {
			if r.Header.Get("Origin") != "https://ok.test" {
				return errors.New("origin refused")
			}
			return nil
		},
	}
	url := wsServer(t, h, nil)
	if _, err := DialWebSocket(ctx, url); err == nil {
		t.Error("a refused origin was accepted")
	}
	c, err := (&WebSocketDialer{Origin: "https://ok.test", Protocols: []string{"jsonrpc"}, Header: http.Header{"X-Test": {"1"}}}).Dial(ctx, url)
	if err != nil {
		t.Fatalf("accepted origin: %v", err)
	}
	c.Close()

	// Plain HTTP requests are turned away.
	resp, err := http.Get("http" + strings.TrimPrefix(url, "ws"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("plain GET = %s, want 400", resp.Status)
	}

	// A ResponseWriter that cannot hand over its connection.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/rpc", nil))
	if rec.Code != http.StatusHTTPVersionNotSupported {
		t.Errorf("ServeHTTP without Hijacker = %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	(&WebSocketHandler{}).ServeHTTP(rec, httptest.NewRequest("GET", "/rpc", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("ServeHTTP without Serve = %d", rec.Code)
	}
}

func TestRemoteOfRequest(t *testing.T) {
	tests := []struct{ in, want string }{
		{"192.0.2.1:1234", "192.0.2.1:1234"},
		{"[::ffff:192.0.2.1]:1234", "192.0.2.1:1234"},
		{"[2001:db8::1]:80", "[2001:db8::1]:80"},
		{"@", ""},
		{"", ""},
	}
	for _, tt := range tests {
		r := &http.Request{RemoteAddr: tt.in}
		if got := remoteOfRequest(r).String(); got != tt.want {
			t.Errorf("remoteOfRequest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The message stream and error shapes that the framing package defines
// (transport does not import it): a session can use a WebSocketConn as
// a framed stream, and charge for its oversized messages.
var (
	_ interface {
		ReadMessage() ([]byte, error)
		WriteMessage(msg []byte) error
		Close() error
	} = (*WebSocketConn)(nil)
	_ interface {
		error
		Fatal() bool
		CostHint() float64
	} = (*MessageTooLargeError)(nil)
)
