package transport_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorpcx/gorpcx/transport"
)

func ExampleParseNetAddress() {
	for _, s := range []string{"electrum.example.org:50002", "[2001:DB8::1]:443", "192.0.2.1", "bad host:1"} {
		addr, err := transport.ParseNetAddress(s, "", 50001) // 50001 if no port is given
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s: host %s (%v), port %d\n", addr, addr.Host(), addr.Host().Kind(), addr.Port())
	}
	// Output:
	// electrum.example.org:50002: host electrum.example.org (name), port 50002
	// [2001:db8::1]:443: host 2001:db8::1 (IPv6), port 443
	// 192.0.2.1:50001: host 192.0.2.1 (IPv4), port 50001
	// transport: invalid address "bad host:1": invalid host "bad host": invalid character ' ' in host name
}

func ExampleParseService() {
	defaults := transport.ServiceDefaults{
		Protocol: "tcp",
		Ports:    map[string]int{"tcp": 50001, "ssl": 50002},
	}
	for _, s := range []string{"SSL://electrum.example.org", "electrum.example.org", "ssl://[::1]:1234"} {
		svc, err := transport.ParseService(s, defaults)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(svc.Protocol(), svc.Address())
	}
	// Output:
	// ssl electrum.example.org:50002
	// tcp electrum.example.org:50001
	// ssl [::1]:1234
}

func ExampleListen() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	ln, err := transport.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.AcceptConn()
		if err != nil {
			return
		}
		defer c.Close()
		fmt.Println("server: peer is IPv4:", c.RemoteAddress().Host().Kind() == transport.HostIPv4)
		io.Copy(c, c) // echo until the client half-closes
	}()

	c, err := transport.Dial(ctx, "tcp", ln.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	io.WriteString(c, "ping")
	c.CloseWrite()
	reply, _ := io.ReadAll(c)
	<-done
	ln.Close()
	fmt.Printf("client: %q from %s, proxy %v\n", reply, c.RemoteAddress().Host(), c.Proxy())
	// Output:
	// server: peer is IPv4: true
	// client: "ping" from 127.0.0.1, proxy <nil>
}

// torDialer stands in for a SOCKS proxy dialer such as one from
// golang.org/x/net/proxy or gorpcx's proxy package.
type torDialer struct{ addr string }

func (d torDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	// A real proxy dialer would connect to the proxy and ask it for
	// address; this one only shows what it is asked for.
	return nil, fmt.Errorf("asked to reach %s over %s", address, network)
}

func (d torDialer) String() string { return "socks5://" + d.addr }

func ExampleDialer_via() {
	d := &transport.Dialer{Via: torDialer{"127.0.0.1:9050"}, Timeout: 30 * time.Second}
	_, err := d.Dial(context.Background(), "tcp", "electrum.example.onion:50001")
	fmt.Println(err)
	// Output:
	// transport: dial tcp electrum.example.onion:50001 via socks5://127.0.0.1:9050: asked to reach electrum.example.onion:50001 over tcp
}

func ExampleWebSocketHandler() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	ln, err := transport.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	// Each WebSocket connection answers every message with its length.
	handler := &transport.WebSocketHandler{Serve: func(c *transport.WebSocketConn) {
		for {
			msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			c.WriteMessage(fmt.Appendf(nil, "%d bytes", len(msg)))
		}
	}}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	c, err := transport.DialWebSocket(ctx, "ws://"+ln.Addr().String()+"/")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	c.WriteMessage([]byte(`{"jsonrpc":"2.0","method":"server.version","id":0}`))
	reply, err := c.ReadMessage()
	fmt.Printf("%s %v\n", reply, err)
	// Output:
	// 50 bytes <nil>
}

// Accept hands the connection to the handler's caller, here a
// goroutine of the program's own that counts the connections it runs;
// the HTTP handler returns at once.
func ExampleWebSocketHandler_Accept() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	ln, err := transport.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	ws := &transport.WebSocketHandler{MaxMessage: 64 << 10}
	var running sync.WaitGroup
	var count atomic.Int64
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r)
		if err != nil {
			return // Accept has answered with an HTTP error
		}
		running.Add(1)
		go func() {
			defer running.Done()
			defer c.Close()
			n := count.Add(1)
			msg, err := c.ReadMessage()
			if err == nil {
				c.WriteMessage(fmt.Appendf(nil, "connection %d got %q", n, msg))
			}
			c.ReadMessage() // until the client closes
		}()
	})
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	c, err := transport.DialWebSocket(ctx, "ws://"+ln.Addr().String()+"/")
	if err != nil {
		fmt.Println(err)
		return
	}
	c.WriteMessage([]byte("hello"))
	reply, err := c.ReadMessage()
	fmt.Printf("%s %v\n", reply, err)
	c.Close()
	running.Wait()
	// Output:
	// connection 1 got "hello" <nil>
}

func ExampleListenConfig_deadPeers() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// A server whose clients sit behind links that drop idle
	// connections slowly: probe an idle peer after a minute, every 15
	// seconds, 4 times, and (on Linux) give up on data that has gone
	// unacknowledged for two minutes.
	lc := &transport.ListenConfig{
		KeepAlive:   &net.KeepAliveConfig{Enable: true, Idle: time.Minute, Interval: 15 * time.Second, Count: 4},
		UserTimeout: 2 * time.Minute,
	}
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()

	// A client with the default keep-alive and no TCP_USER_TIMEOUT.
	d := &transport.Dialer{UserTimeout: -1}
	c, err := d.Dial(ctx, "tcp", ln.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	sc, err := ln.AcceptConn()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sc.Close()
	fmt.Println("accepted a connection from", sc.RemoteAddress().Host())
	// Output:
	// accepted a connection from 127.0.0.1
}

// A server behind a load balancer such as HAProxy (send-proxy or
// send-proxy-v2 on its server line) sees each client's real address.
// Here the client plays the balancer and writes a version 1 header by
// hand.
func ExampleListenConfig_proxy() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	lc := transport.ListenConfig{Proxy: &transport.ProxyProtocol{
		Mode:    transport.ProxyAny,
		Trusted: transport.DefaultTrusted(), // the balancer runs on this host
	}}
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()

	balancer, err := transport.Dial(ctx, "tcp", ln.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer balancer.Close()
	io.WriteString(balancer, "PROXY TCP4 203.0.113.7 127.0.0.1 40000 50001\r\nhello\n")

	c, err := ln.AcceptConn()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	if err := c.Handshake(ctx); err != nil { // reads the header
		fmt.Println(err)
		return
	}
	via, _ := c.Balancer()
	fmt.Println("client", c.RemoteAddress(), "via", via.Host())
	line := make([]byte, 6)
	io.ReadFull(c, line)
	fmt.Printf("%q\n", line)
	// Output:
	// client 203.0.113.7:40000 via 127.0.0.1
	// "hello\n"
}

func ExampleParsePrefixes() {
	trusted, err := transport.ParsePrefixes("10.0.0.0/8, 192.0.2.7, 2001:db8::/32")
	fmt.Println(trusted, err)
	_, err = transport.ParsePrefixes("10.0.0.0/8,lb.example.org")
	fmt.Println(err)
	// Output:
	// [10.0.0.0/8 192.0.2.7/32 2001:db8::/32] <nil>
	// transport: invalid network list "10.0.0.0/8,lb.example.org": invalid network "lb.example.org": not an IP address or a CIDR prefix
}
