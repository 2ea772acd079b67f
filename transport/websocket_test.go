package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

// wsServer serves h over HTTP/1.1 on a loopback listener, TLS if cfg
// is not nil, and returns its ws:// or wss:// URL. Cleanup shuts the
// server down and waits for every ServeHTTP to return (the server does
// not wait for the connections it handed over).
func wsServer(t *testing.T, h *WebSocketHandler, cfg *tls.Config) string {
	t.Helper()
	ln, err := Listen(testContext(t), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		closed  bool
		serving sync.WaitGroup
	)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if closed {
			mu.Unlock()
			return
		}
		serving.Add(1)
		mu.Unlock()
		defer serving.Done()
		h.ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: handler, TLSConfig: cfg, ReadHeaderTimeout: testTimeout}
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
		mu.Lock()
		closed = true
		mu.Unlock()
		serving.Wait()
	})
	scheme := "ws://"
	if cfg != nil {
		scheme = "wss://"
	}
	return scheme + ln.Addr().String() + "/rpc"
}

// echo answers each message with itself until the peer closes.
func echo(c *WebSocketConn) {
	c.SetDeadline(time.Now().Add(testTimeout))
	for {
		msg, err := c.ReadMessage()
		if err != nil {
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

	msgs := []string{`{"jsonrpc":"2.0","method":"ping","id":1}`, "", strings.Repeat("x", 1000), strings.Repeat("y", 5000), "after"}
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
	want := msgs
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
	if sc.Subprotocol() != "" || c.Subprotocol() != "" {
		t.Errorf("Subprotocol() = %q and %q with none offered", sc.Subprotocol(), c.Subprotocol())
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

// A message received over the limit closes the connection with status
// 1009: the reader gets a fatal *MessageTooLargeError, again on every
// later call, and the peer a *WebSocketCloseError with code 1009.
func TestWebSocketReadLimit(t *testing.T) {
	tests := []struct {
		name   string
		size   int // of the message over the limit of 1000
		binary bool
	}{
		{"one byte over", 1001, false},
		{"in the pooled buffer", 3000, true},
		{"past the pooled buffer", 100_000, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			errs := make(chan error, 2)
			url := wsServer(t, &WebSocketHandler{MaxMessage: 1000, Binary: tt.binary, Serve: func(c *WebSocketConn) {
				c.SetDeadline(time.Now().Add(testTimeout))
				if m, err := c.ReadMessage(); err != nil || len(m) != 1000 {
					errs <- fmt.Errorf("message at the limit: %d bytes, %v", len(m), err)
					return
				}
				_, err := c.ReadMessage()
				errs <- err
				_, err = c.ReadMessage()
				errs <- err
			}}, nil)
			c, err := (&WebSocketDialer{MaxMessage: -1, Binary: tt.binary}).Dial(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(testTimeout))
			if err := c.WriteMessage(make([]byte, 1000)); err != nil {
				t.Fatal(err)
			}
			if err := c.WriteMessage(make([]byte, tt.size)); err != nil {
				t.Fatal(err)
			}
			// The client reads the close frame (and answers it) while
			// the server closes.
			_, err = c.ReadMessage()
			var ce *WebSocketCloseError
			if !errors.As(err, &ce) || ce.Code != 1009 {
				t.Fatalf("client ReadMessage = %v, want a *WebSocketCloseError with code 1009", err)
			}
			if !strings.HasPrefix(ce.Error(), "transport: WebSocket closed by the peer with status 1009 ") {
				t.Errorf("Error() = %q", ce.Error())
			}
			for i := range 2 {
				err := <-errs
				var tl *MessageTooLargeError
				if !errors.As(err, &tl) || tl.Limit != 1000 || tl.Size != -1 || !tl.Fatal() {
					t.Fatalf("server ReadMessage %d = %v, want a fatal *MessageTooLargeError", i+1, err)
				}
				if got := tl.Error(); got != "transport: WebSocket message over the limit of 1000 bytes" {
					t.Errorf("Error() = %q", got)
				}
			}
		})
	}
}

func TestWebSocketOversizedFromServer(t *testing.T) {
	ctx := testContext(t)
	peerErr := make(chan error, 1)
	url := wsServer(t, &WebSocketHandler{Serve: func(c *WebSocketConn) {
		c.SetDeadline(time.Now().Add(testTimeout))
		c.WriteMessage(make([]byte, 5000))
		_, err := c.ReadMessage()
		peerErr <- err
	}}, nil)
	c, err := (&WebSocketDialer{MaxMessage: 100}).Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(testTimeout))
	for range 2 {
		_, err = c.ReadMessage()
		var tl *MessageTooLargeError
		if !errors.As(err, &tl) || tl.Limit != 100 || tl.Size != -1 || !tl.Fatal() {
			t.Fatalf("ReadMessage of 5000 bytes = %v", err)
		}
	}
	if err := c.WriteMessage([]byte("late")); err == nil {
		t.Error("WriteMessage after the connection closed succeeded")
	}
	var ce *WebSocketCloseError
	if err := <-peerErr; !errors.As(err, &ce) || ce.Code != 1009 {
		t.Errorf("server ReadMessage = %v, want code 1009", err)
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
// respond on it; it returns the ws:// URL. Cleanup waits for respond.
func rawServer(t *testing.T, respond func(c net.Conn, br *bufio.Reader, req *http.Request)) string {
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
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		respond(c, br, req)
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return "ws://" + ln.Addr().String() + "/"
}

// switchProtocols completes the server's side of the handshake of req
// by hand.
func switchProtocols(c net.Conn, req *http.Request) error {
	sum := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	_, err := io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: "+base64.StdEncoding.EncodeToString(sum[:])+"\r\n\r\n")
	return err
}

// rawClient opens a WebSocket to url by hand and returns the
// connection and a reader of what follows the handshake response.
func rawClient(t *testing.T, url string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, br, resp := rawHandshake(t, url, "")
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %s", resp.Status)
	}
	return c, br
}

// rawHandshake sends a WebSocket handshake request to url, with the
// Origin header if origin is not empty, and returns the connection, a
// reader of what follows the response head, and the response.
func rawHandshake(t *testing.T, url, origin string) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	host := strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/rpc")
	c, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(testTimeout))
	head := "GET /rpc HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	if origin != "" {
		head += "Origin: " + origin + "\r\n"
	}
	if _, err := io.WriteString(c, head+"\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c, br, resp
}

// Frame opcodes (RFC 6455, section 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// writeFrame writes one frame with a payload under 64 KiB, masked (as
// a client must) if masked is set.
func writeFrame(w io.Writer, fin bool, op byte, payload []byte, masked bool) error {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	var hdr []byte
	var mbit byte
	if masked {
		mbit = 0x80
	}
	if len(payload) < 126 {
		hdr = []byte{b0, mbit | byte(len(payload))}
	} else {
		hdr = []byte{b0, mbit | 126, byte(len(payload) >> 8), byte(len(payload))}
	}
	p := payload
	if masked {
		key := [4]byte{1, 2, 3, 4}
		hdr = append(hdr, key[:]...)
		p = make([]byte, len(payload))
		for i := range payload {
			p[i] = payload[i] ^ key[i%4]
		}
	}
	_, err := w.Write(append(hdr, p...))
	return err
}

// readFrame reads one frame, unmasking it.
func readFrame(br *bufio.Reader) (op byte, payload []byte, err error) {
	var hdr [2]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := int(hdr[1] & 0x7f)
	if n >= 126 {
		ext := make([]byte, 2)
		if n == 127 {
			ext = make([]byte, 8)
		}
		if _, err := io.ReadFull(br, ext); err != nil {
			return 0, nil, err
		}
		n = 0
		for _, b := range ext {
			n = n<<8 | int(b)
		}
	}
	var key [4]byte
	masked := hdr[1]&0x80 != 0
	if masked {
		if _, err := io.ReadFull(br, key[:]); err != nil {
			return 0, nil, err
		}
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(br, payload); err != nil {
		return 0, nil, err
	}
	if masked {
		for i := range payload {
			payload[i] ^= key[i%4]
		}
	}
	return hdr[0] & 0x0f, payload, nil
}

func TestWebSocketHandshakeFailures(t *testing.T) {
	t.Run("not upgraded", func(t *testing.T) {
		url := rawServer(t, func(c net.Conn, _ *bufio.Reader, _ *http.Request) {
			io.WriteString(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
		})
		_, err := DialWebSocket(testContext(t), url)
		if err == nil || !strings.Contains(err.Error(), "websocket handshake: ") {
			t.Errorf("Dial to a 404 = %v", err)
		}
	})

	t.Run("endless headers", func(t *testing.T) {
		url := rawServer(t, func(c net.Conn, _ *bufio.Reader, _ *http.Request) {
			io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\n")
			line := "X-Filler: " + strings.Repeat("f", 1000) + "\r\n"
			for range 200 { // 200 KB, over the 64 KiB limit
				if _, err := io.WriteString(c, line); err != nil {
					return
				}
			}
		})
		_, err := DialWebSocket(testContext(t), url)
		if err == nil || !strings.Contains(err.Error(), "exceeded 65536 bytes") {
			t.Errorf("Dial to a server with endless headers = %v", err)
		}
	})

	t.Run("silent", func(t *testing.T) {
		url := rawServer(t, func(c net.Conn, _ *bufio.Reader, _ *http.Request) {
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
		url := rawServer(t, func(c net.Conn, _ *bufio.Reader, _ *http.Request) {
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
	if _, err := DialWebSocket(ctx, url); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("a refused origin: %v", err)
	}
	c, err := (&WebSocketDialer{Origin: "https://ok.test", Protocols: []string{"jsonrpc"}, Header: http.Header{"X-Test": {"1"}}}).Dial(ctx, url)
	if err != nil {
		t.Fatalf("accepted origin: %v", err)
	}
	c.Close()

	// Plain HTTP requests are turned away; CheckOrigin comes first.
	for _, tt := range []struct {
		origin string
		want   int
	}{{"", http.StatusForbidden}, {"https://ok.test", http.StatusUpgradeRequired}} {
		req, err := http.NewRequestWithContext(ctx, "GET", "http"+strings.TrimPrefix(url, "ws"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if tt.origin != "" {
			req.Header.Set("Origin", tt.origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("plain GET with Origin %q = %s, want %d", tt.origin, resp.Status, tt.want)
		}
	}
	http.DefaultClient.CloseIdleConnections()

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

// A message the peer sends in several frames is read as one, with a
// ping between the frames answered on the way; the limit applies to
// the whole message.
func TestWebSocketFragmentedMessage(t *testing.T) {
	frames := func(c net.Conn, br *bufio.Reader) (pong, closeCode []byte) {
		writeFrame(c, false, opText, []byte("abc"), false)
		writeFrame(c, true, opPing, []byte("p1"), false)
		writeFrame(c, false, opContinuation, []byte("def"), false)
		writeFrame(c, true, opContinuation, []byte("g"), false)
		for {
			op, payload, err := readFrame(br)
			if err != nil {
				return pong, closeCode
			}
			switch op {
			case opPong:
				pong = payload
			case opClose:
				return pong, payload
			}
		}
	}
	tests := []struct {
		name    string
		max     int
		want    string
		tooBig  bool
		closing []byte // close frame's payload the server gets
	}{
		{"joined", 7, "abcdefg", false, []byte{0x03, 0xe8}}, // 1000 from Close
		{"over the limit", 6, "", true, []byte{0x03, 0xf1}}, // 1009
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := make(chan [2][]byte, 1)
			url := rawServer(t, func(c net.Conn, br *bufio.Reader, req *http.Request) {
				if switchProtocols(c, req) != nil {
					return
				}
				pong, closing := frames(c, br)
				seen <- [2][]byte{pong, closing}
			})
			c, err := (&WebSocketDialer{MaxMessage: tt.max}).Dial(testContext(t), url)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(testTimeout))
			msg, err := c.ReadMessage()
			var tl *MessageTooLargeError
			if tt.tooBig {
				if !errors.As(err, &tl) || tl.Limit != tt.max {
					t.Errorf("ReadMessage = %q, %v; want a *MessageTooLargeError", msg, err)
				}
			} else if err != nil || string(msg) != tt.want {
				t.Errorf("ReadMessage = %q, %v; want %q", msg, err, tt.want)
			}
			c.Close()
			got := <-seen
			if string(got[0]) != "p1" {
				t.Errorf("pong payload = %q, want %q", got[0], "p1")
			}
			if len(got[1]) < 2 || !bytes.Equal(got[1][:2], tt.closing) {
				t.Errorf("close frame = %x, want code %x", got[1], tt.closing)
			}
		})
	}
}

// A peer that never answers pings: the side that pings closes the
// connection, and ReadMessage (then WriteMessage) returns
// ErrWebSocketPingTimeout. The silent peer is made by hand, on either
// side of the handshake.
func TestWebSocketPingTimeout(t *testing.T) {
	// silent reads what arrives, answering nothing, until the
	// connection closes, and returns the number of pings it got.
	silent := func(br *bufio.Reader) int {
		pings := 0
		for {
			op, _, err := readFrame(br)
			if err != nil {
				return pings
			}
			if op == opPing {
				pings++
			}
		}
	}
	check := func(t *testing.T, c *WebSocketConn) {
		t.Helper()
		c.SetDeadline(time.Now().Add(testTimeout))
		_, err := c.ReadMessage()
		var te interface{ Timeout() bool }
		if !errors.Is(err, ErrWebSocketPingTimeout) || !errors.As(err, &te) || !te.Timeout() {
			t.Errorf("ReadMessage = %v, want ErrWebSocketPingTimeout", err)
		}
		if err.Error() != "transport: WebSocket peer did not answer a ping in time" {
			t.Errorf("Error() = %q", err)
		}
		if err := c.WriteMessage([]byte("x")); !errors.Is(err, ErrWebSocketPingTimeout) {
			t.Errorf("WriteMessage after the timeout = %v", err)
		}
	}

	t.Run("server pings", func(t *testing.T) {
		done := make(chan struct{})
		url := wsServer(t, &WebSocketHandler{PingInterval: 10 * time.Millisecond, PingTimeout: 30 * time.Millisecond, Serve: func(c *WebSocketConn) {
			defer close(done)
			check(t, c)
		}}, nil)
		_, br := rawClient(t, url)
		if n := silent(br); n == 0 {
			t.Error("the server sent no ping")
		}
		<-done
	})

	t.Run("client pings", func(t *testing.T) {
		pings := make(chan int, 1)
		url := rawServer(t, func(c net.Conn, br *bufio.Reader, req *http.Request) {
			if switchProtocols(c, req) == nil {
				pings <- silent(br)
			}
		})
		c, err := (&WebSocketDialer{PingInterval: 10 * time.Millisecond, PingTimeout: 30 * time.Millisecond}).Dial(testContext(t), url)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		check(t, c)
		if n := <-pings; n == 0 {
			t.Error("the client sent no ping")
		}
	})
}

// answerPings reads frames on a hand-made client connection, answering
// each ping with a pong, until a data frame arrives; it returns that
// frame's payload and the number of pings answered.
func answerPings(c net.Conn, br *bufio.Reader) (string, int, error) {
	pings := 0
	for {
		op, payload, err := readFrame(br)
		if err != nil {
			return "", pings, err
		}
		switch op {
		case opPing:
			pings++
			if err := writeFrame(c, true, opPong, payload, true); err != nil {
				return "", pings, err
			}
		case opText, opBinary:
			return string(payload), pings, nil
		}
	}
}

// Pings answered keep the connection open however many there are.
func TestWebSocketPingAnswered(t *testing.T) {
	got := make(chan string, 1)
	url := wsServer(t, &WebSocketHandler{PingInterval: time.Millisecond, PingTimeout: testTimeout, Serve: func(c *WebSocketConn) {
		c.SetDeadline(time.Now().Add(testTimeout))
		msg, err := c.ReadMessage() // answering pings until the client's message
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(msg)
		c.WriteMessage([]byte("bye"))
		c.ReadMessage()
	}}, nil)
	c, br := rawClient(t, url)
	// Ping after ping is answered; a ping whose pong was not matched
	// would be the last before the testTimeout.
	pings := 0
	for pings < 20 {
		op, payload, err := readFrame(br)
		if err != nil {
			t.Fatalf("after %d pings: %v", pings, err)
		}
		if op == opPing {
			pings++
			writeFrame(c, true, opPong, payload, true)
		}
	}
	writeFrame(c, true, opText, []byte("still here"), true)
	if msg, _, err := answerPings(c, br); err != nil || msg != "bye" {
		t.Fatalf("client got %q, %v", msg, err)
	}
	if msg := <-got; msg != "still here" {
		t.Errorf("server read %q", msg)
	}
}

// Regression test: a pong cannot be read while the program does not
// call ReadMessage (a session under back-pressure), and the peer is
// not blamed for it.
func TestWebSocketPingNotBlamedWhileNotReading(t *testing.T) {
	got := make(chan string, 1)
	url := wsServer(t, &WebSocketHandler{PingInterval: time.Millisecond, PingTimeout: 10 * time.Millisecond, Serve: func(c *WebSocketConn) {
		time.Sleep(200 * time.Millisecond) // 20 ping timeouts without reading
		c.SetDeadline(time.Now().Add(testTimeout))
		msg, err := c.ReadMessage()
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(msg)
		c.WriteMessage([]byte("bye"))
		c.ReadMessage()
	}}, nil)
	c, br := rawClient(t, url)
	writeFrame(c, true, opText, []byte("hello"), true)
	msg, pings, err := answerPings(c, br)
	if err != nil || msg != "bye" {
		t.Fatalf("client got %q, %v", msg, err)
	}
	if pings == 0 {
		t.Error("no ping was sent")
	}
	if msg := <-got; msg != "hello" {
		t.Errorf("server read %q, want hello", msg)
	}
}

// Regression test: a ping waits behind a message being sent, which
// the peer reads slowly; the peer is not blamed for the late pong.
func TestWebSocketPingNotBlamedWhileSending(t *testing.T) {
	const size = 8 << 20 // far more than the sockets' buffers hold
	got := make(chan string, 1)
	url := wsServer(t, &WebSocketHandler{MaxMessage: -1, PingInterval: time.Millisecond, PingTimeout: 50 * time.Millisecond, Serve: func(c *WebSocketConn) {
		c.raw.(*Conn).NetConn().(*net.TCPConn).SetWriteBuffer(64 << 10)
		c.SetDeadline(time.Now().Add(testTimeout))
		read := make(chan string, 1)
		go func() {
			msg, err := c.ReadMessage() // waits, with nothing arriving
			if err != nil {
				read <- err.Error()
				return
			}
			read <- string(msg)
		}()
		if err := c.WriteMessage(make([]byte, size)); err != nil {
			got <- err.Error()
			<-read
			return
		}
		got <- <-read
		c.WriteMessage([]byte("bye"))
		c.ReadMessage()
	}}, nil)
	c, br := rawClient(t, url)
	c.(*net.TCPConn).SetReadBuffer(64 << 10)
	time.Sleep(300 * time.Millisecond) // 6 ping timeouts before reading
	for {
		op, payload, err := readFrame(br)
		if err != nil {
			t.Fatal(err)
		}
		if op == opPing {
			writeFrame(c, true, opPong, payload, true)
		}
		if op == opText && len(payload) == size {
			break
		}
	}
	writeFrame(c, true, opText, []byte("got it"), true)
	if msg, _, err := answerPings(c, br); err != nil || msg != "bye" {
		t.Fatalf("client got %q, %v", msg, err)
	}
	if msg := <-got; msg != "got it" {
		t.Errorf("server read %q", msg)
	}
}

// Negative PingInterval: no pings at all.
func TestWebSocketPingsOff(t *testing.T) {
	url := rawServer(t, func(c net.Conn, br *bufio.Reader, req *http.Request) {
		if switchProtocols(c, req) != nil {
			return
		}
		if op, _, err := readFrame(br); err != nil || op != opText {
			t.Errorf("first frame: opcode %x, %v; want a text frame, no ping", op, err)
		}
	})
	c, err := (&WebSocketDialer{PingInterval: -1}).Dial(testContext(t), url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(50 * time.Millisecond) // a ping, if any, would come first
	if err := c.WriteMessage([]byte("x")); err != nil {
		t.Fatal(err)
	}
}

func TestWebSocketOrigin(t *testing.T) {
	okTest := func(r *http.Request) error {
		if r.Header.Get("Origin") != "https://ok.test" {
			return errors.New("not ok.test")
		}
		return nil
	}
	tests := []struct {
		name     string
		patterns []string
		check    func(*http.Request) error
		origin   string // "self" is the server's own host
		want     int
	}{
		{"no Origin", nil, nil, "", 101},
		{"same host", nil, nil, "self", 101},
		{"other host", nil, nil, "https://evil.test", 403},
		{"opaque origin", nil, nil, "null", 403},
		{"host pattern", []string{"*.ok.test"}, nil, "https://a.OK.test", 101},
		{"host pattern, other host", []string{"*.ok.test"}, nil, "https://ok.test.evil", 403},
		{"scheme pattern", []string{"https://ok.test"}, nil, "https://ok.test", 101},
		{"scheme pattern, other scheme", []string{"https://ok.test"}, nil, "http://ok.test", 403},
		{"malformed pattern", []string{"["}, nil, "", 500},
		{"CheckOrigin accepts", nil, okTest, "https://ok.test", 101},
		{"CheckOrigin refuses", nil, okTest, "", 403},
		{"CheckOrigin replaces patterns", []string{"*.evil.test"}, okTest, "https://a.evil.test", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := wsServer(t, &WebSocketHandler{OriginPatterns: tt.patterns, CheckOrigin: tt.check, Serve: func(c *WebSocketConn) {
				c.SetDeadline(time.Now().Add(testTimeout))
				c.ReadMessage()
			}}, nil)
			origin := tt.origin
			if origin == "self" {
				origin = "http://" + strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/rpc")
			}
			c, _, resp := rawHandshake(t, url, origin)
			if resp.StatusCode != tt.want {
				t.Errorf("Origin %q: %s, want %d", origin, resp.Status, tt.want)
			}
			c.Close()
		})
	}

	// The dialer sends its Origin, and none by default.
	origins := make(chan string, 2)
	url := wsServer(t, &WebSocketHandler{OriginPatterns: []string{"ok.test"}, Serve: func(c *WebSocketConn) {
		origins <- c.Request().Header.Get("Origin")
	}}, nil)
	for _, origin := range []string{"", "https://ok.test"} {
		c, err := (&WebSocketDialer{Origin: origin}).Dial(testContext(t), url)
		if err != nil {
			t.Fatal(err)
		}
		if got := <-origins; got != origin {
			t.Errorf("Origin sent = %q, want %q", got, origin)
		}
		c.Close()
	}
	_, err := (&WebSocketDialer{Origin: "https://evil.test"}).Dial(testContext(t), url)
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("Dial with a refused Origin = %v", err)
	}
}

// Accept used alone, by a handler that returns at once: the connection
// outlives the handler.
func TestWebSocketAcceptAlone(t *testing.T) {
	ctx := testContext(t)
	h := &WebSocketHandler{} // no Serve: Accept does not need it
	type accepted struct {
		c   *WebSocketConn
		err error
	}
	results := make(chan accepted, 2)
	ln, err := Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: testTimeout, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := h.Accept(w, r)
		results <- accepted{c, err}
	})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	defer func() {
		srv.Close()
		<-done
	}()

	// A plain GET is refused, and Accept says so.
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if a := <-results; a.c != nil || a.err == nil || resp.StatusCode != http.StatusUpgradeRequired {
		t.Errorf("plain GET: Accept = %v, %v; status %s", a.c, a.err, resp.Status)
	}

	c, err := DialWebSocket(ctx, "ws://"+ln.Addr().String()+"/alone")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(testTimeout))
	a := <-results
	if a.err != nil {
		t.Fatal(a.err)
	}
	sc := a.c
	defer sc.Close()
	sc.SetDeadline(time.Now().Add(testTimeout))
	// The handler has returned: its request's context is done.
	select {
	case <-sc.Request().Context().Done():
	case <-ctx.Done():
		t.Fatal("the request's context is not done after the handler returned")
	}
	if sc.Request().URL.Path != "/alone" || sc.RemoteAddress().Host().String() != "127.0.0.1" {
		t.Errorf("Request() = %v, RemoteAddress() = %v", sc.Request().URL, sc.RemoteAddress())
	}
	if err := c.WriteMessage([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	if m, err := sc.ReadMessage(); err != nil || string(m) != "hi" {
		t.Fatalf("server ReadMessage = %q, %v", m, err)
	}
	if err := sc.WriteMessage([]byte("back")); err != nil {
		t.Fatal(err)
	}
	if m, err := c.ReadMessage(); err != nil || string(m) != "back" {
		t.Fatalf("client ReadMessage = %q, %v", m, err)
	}
	// The server's Close ends the client's reading with io.EOF.
	read := make(chan error, 1)
	go func() {
		_, err := c.ReadMessage()
		read <- err
	}()
	sc.Close()
	if err := <-read; !errors.Is(err, io.EOF) {
		t.Errorf("client ReadMessage after the server closed = %v, want io.EOF", err)
	}
}

func TestWebSocketSubprotocol(t *testing.T) {
	protos := make(chan string, 1)
	url := wsServer(t, &WebSocketHandler{Protocols: []string{"jsonrpc", "other"}, Serve: func(c *WebSocketConn) {
		protos <- c.Subprotocol()
	}}, nil)
	c, err := (&WebSocketDialer{Protocols: []string{"x", "jsonrpc"}}).Dial(testContext(t), url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := <-protos; got != "jsonrpc" || c.Subprotocol() != "jsonrpc" {
		t.Errorf("Subprotocol() = %q on the server, %q on the client", got, c.Subprotocol())
	}
}

func TestWebSocketDeadlines(t *testing.T) {
	ctx := testContext(t)
	url := wsServer(t, &WebSocketHandler{Serve: echo}, nil)

	t.Run("passed while idle", func(t *testing.T) {
		c, err := DialWebSocket(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(-time.Second))
		if _, err := c.ReadMessage(); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("ReadMessage past the deadline = %v", err)
		}
		if err := c.WriteMessage([]byte("x")); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("WriteMessage past the deadline = %v", err)
		}
		// Moved, the deadlines let the connection work again.
		c.SetDeadline(time.Time{})
		c.SetWriteDeadline(time.Now().Add(testTimeout))
		if err := c.WriteMessage([]byte("again")); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(testTimeout))
		if m, err := c.ReadMessage(); err != nil || string(m) != "again" {
			t.Errorf("ReadMessage after the deadline moved = %q, %v", m, err)
		}
	})

	t.Run("passing during a read", func(t *testing.T) {
		c, err := DialWebSocket(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		read := make(chan error, 1)
		go func() {
			_, err := c.ReadMessage()
			read <- err
		}()
		// Once the read is under way (the echo server sends nothing):
		for i := 0; c.steps.Load()&1 == 0 && i < 1000; i++ {
			time.Sleep(time.Millisecond)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
		if err := <-read; !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("ReadMessage = %v, want os.ErrDeadlineExceeded", err)
		}
		if _, err := c.ReadMessage(); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("second ReadMessage = %v, want os.ErrDeadlineExceeded", err)
		}
		c.SetDeadline(time.Time{})
		if err := c.WriteMessage([]byte("x")); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("WriteMessage on the closed connection = %v", err)
		}
	})

	t.Run("moved before it passes", func(t *testing.T) {
		c, err := DialWebSocket(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(time.Millisecond))
		c.SetReadDeadline(time.Now().Add(testTimeout))
		time.Sleep(20 * time.Millisecond) // the first deadline would have passed
		if err := c.WriteMessage([]byte("late")); err != nil {
			t.Fatal(err)
		}
		if m, err := c.ReadMessage(); err != nil || string(m) != "late" {
			t.Errorf("ReadMessage = %q, %v", m, err)
		}
	})
}

// Close of a connection whose peer never answers the close frame
// returns, having sent the frame.
func TestWebSocketCloseSilentPeer(t *testing.T) {
	closing := make(chan []byte, 1)
	url := rawServer(t, func(c net.Conn, br *bufio.Reader, req *http.Request) {
		if switchProtocols(c, req) != nil {
			return
		}
		for {
			op, payload, err := readFrame(br)
			if err != nil {
				closing <- nil
				return
			}
			if op == opClose {
				closing <- payload
				io.Copy(io.Discard, br) // and never answer
				return
			}
		}
	})
	c, err := DialWebSocket(testContext(t), url)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if got := <-closing; !bytes.Equal(got, []byte{0x03, 0xe8}) {
		t.Errorf("close frame = %x, want 03e8 (1000)", got)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

// No goroutine of a connection (the pinger, the deadlines' timers)
// outlives Close, on either side.
func TestWebSocketCloseLeavesNoGoroutines(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	ctx := testContext(t)
	ln, err := Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var serving sync.WaitGroup
	srv := &http.Server{ReadHeaderTimeout: testTimeout, Handler: &WebSocketHandler{PingInterval: time.Millisecond, Serve: func(c *WebSocketConn) {
		serving.Add(1)
		defer serving.Done()
		echo(c)
	}}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	for range 3 {
		c, err := (&WebSocketDialer{PingInterval: time.Millisecond}).Dial(ctx, "ws://"+ln.Addr().String()+"/")
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(testTimeout))
		for range 20 {
			if err := c.WriteMessage([]byte("x")); err != nil {
				t.Fatal(err)
			}
			if _, err := c.ReadMessage(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Millisecond) // pings on both sides meanwhile
		}
		c.Close()
	}
	srv.Close()
	<-done
	serving.Wait()
	goleak.VerifyNone(t, ignore)
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
