package transport

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
)

func BenchmarkParseNetAddress(b *testing.B) {
	for _, s := range []string{"electrum.example.org:50002", "192.0.2.1:50001", "[2001:db8::1]:443"} {
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseNetAddress(s, "", 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkNetAddressAppendText(b *testing.B) {
	a, err := ParseNetAddress("[2001:db8::1]:443", "", 0)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = a.AppendText(buf[:0])
	}
}

// BenchmarkConnWrite measures the cost of Conn over a loopback socket:
// it should be that of the socket.
func BenchmarkConnWrite(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ln, err := Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.AcceptConn()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(io.Discard, c)
	}()
	c, err := Dial(ctx, "tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 4096)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
	}
	c.Close()
	<-done
}

// BenchmarkWebSocketRoundTrip measures one message out and its echo
// back over a loopback WebSocket: WriteMessage and ReadMessage on the
// client, the same on the server.
func BenchmarkWebSocketRoundTrip(b *testing.B) {
	for _, size := range []int{64, 4096} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			ln, err := Listen(ctx, "tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			served := make(chan struct{})
			srv := &http.Server{ReadHeaderTimeout: testTimeout, Handler: &WebSocketHandler{Serve: func(c *WebSocketConn) {
				defer close(served)
				for {
					msg, err := c.ReadMessage()
					if err != nil {
						return
					}
					if err := c.WriteMessage(msg); err != nil {
						return
					}
				}
			}}}
			go srv.Serve(ln)
			defer srv.Close()
			c, err := DialWebSocket(ctx, "ws://"+ln.Addr().String()+"/")
			if err != nil {
				b.Fatal(err)
			}
			msg := bytes.Repeat([]byte("x"), size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.WriteMessage(msg); err != nil {
					b.Fatal(err)
				}
				if _, err := c.ReadMessage(); err != nil {
					b.Fatal(err)
				}
			}
			c.Close()
			<-served
		})
	}
}

// BenchmarkProxyAccept measures a connection's set-up on a listener,
// from the client's dial to the server's first byte of data: accept,
// Handshake (which reads the PROXY protocol header), one read. "off"
// is the same without the PROXY protocol, for comparison.
func BenchmarkProxyAccept(b *testing.B) {
	for _, bc := range []struct {
		name   string
		mode   ProxyMode
		header []byte
	}{
		{"off", ProxyOff, nil},
		{"v1", ProxyV1, v1Header("203.0.113.7:40000", "198.51.100.1:50001")},
		{"v2", ProxyV2, v2Header("[2001:db8::7]:40000", "[2001:db8::1]:50001", nil)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			lc := ListenConfig{Proxy: &ProxyProtocol{Mode: bc.mode}}
			ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			msg := append(bc.header, 'x')
			buf := make([]byte, 1)
			var d net.Dialer
			b.ReportAllocs()
			for b.Loop() {
				client, err := d.DialContext(ctx, "tcp", ln.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				if _, err := client.Write(msg); err != nil {
					b.Fatal(err)
				}
				c, err := ln.AcceptConn()
				if err != nil {
					b.Fatal(err)
				}
				if err := c.Handshake(ctx); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, buf); err != nil || buf[0] != 'x' {
					b.Fatal(err)
				}
				c.Close()
				client.Close()
			}
		})
	}
}
