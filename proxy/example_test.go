package proxy_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/proxy"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
	"github.com/gorpcx/gorpcx/transport"
)

// A gorpcx session through a SOCKS5 proxy that resolves the server's
// name, with fresh random credentials for each connection as Tor's
// stream isolation wants. (The proxy here is a small one written for
// the examples, on 127.0.0.1; for Tor, Address is 127.0.0.1:9050.)
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv := &server.Server{Options: session.Options{Handler: handler.Methods{
		"greet": session.HandlerFunc(func(context.Context, *jsonrpc2.Request) (any, error) {
			return "hello through the proxy", nil
		}),
	}}}
	if err := srv.Listen(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(ctx)
	socks, err := newFakeProxy((&relay{}).Serve)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer socks.Close()

	tor := &proxy.SOCKS{Address: socks.Addr(), Auth: proxy.Auth{Random: true}}
	d := server.Dialer{Via: tor}
	_, port, _ := net.SplitHostPort(srv.Addr().String())
	client, err := d.Dial(ctx, "tcp", "localhost:"+port)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	var greeting string
	if err := client.Call(ctx, "greet", nil, &greeting); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(greeting)
	// Output: hello through the proxy
}

// A connection through a proxy, made by package transport, reports the
// target as its remote address and the proxy that carried it.
func Example_transport() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	echoServer, err := newFakeProxy(echo)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer echoServer.Close()
	socks, err := newFakeProxy((&relay{}).Serve)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer socks.Close()

	p := &proxy.SOCKS{Protocol: proxy.SOCKS4a, Address: socks.Addr(), Auth: proxy.Auth{Username: "gorpcx"}}
	d := transport.Dialer{Via: p}
	_, port, _ := net.SplitHostPort(echoServer.Addr())
	conn, err := d.Dial(ctx, "tcp", "localhost:"+port)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	io.WriteString(conn, "ping")
	conn.CloseWrite() // half-close passes through the proxy
	reply, _ := io.ReadAll(conn)

	fmt.Println(string(reply))
	fmt.Println("remote address:", conn.RemoteAddress().Host())
	fmt.Println("proxy is p:", conn.Proxy() == p)
	// Output:
	// ping
	// remote address: localhost
	// proxy is p: true
}

func ExampleSOCKS_String() {
	p := &proxy.SOCKS{
		Address: "127.0.0.1:9050",
		Auth:    proxy.Auth{Username: "alice", Password: "never shown"},
	}
	fmt.Println(p)
	fmt.Printf("%#v\n", p.Auth)
	// Output:
	// SOCKS5 proxy at 127.0.0.1:9050, user "alice"
	// proxy.Auth{Username:"alice", Password:"xxxxx", Random:false}
}

func ExampleParseURL() {
	for _, u := range []string{
		"socks5h://127.0.0.1:9050",
		"socks5://alice:secret@proxy.example:1080",
		"socks4://10.0.0.1",
		"socks4a://bob@[::1]:1081",
		"https://proxy.example",
	} {
		p, err := proxy.ParseURL(u)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(p)
	}
	// Output:
	// SOCKS5 proxy at 127.0.0.1:9050
	// SOCKS5 proxy at proxy.example:1080, user "alice", local resolution
	// SOCKS4 proxy at 10.0.0.1:1080, local resolution
	// SOCKS4a proxy at [::1]:1081, user "bob"
	// proxy: URL scheme "https" is not socks4, socks4a, socks5 or socks5h
}

// Find a proxy on one of several ports of a host, as for Tor's 9050
// (the daemon) and 9150 (the Tor Browser).
func ExampleDetector_DetectHost() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// A SOCKS5 proxy on one port; nothing on the other.
	socks, err := newFakeProxy((&script{Method: "\x05\x00", Reply: string(reply5(3, zeroBound))}).Serve)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer socks.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	open := socks.ln.Addr().(*net.TCPAddr).Port

	// The test targets stay on this machine; the proxy refuses them
	// ("network unreachable"), which is enough to tell its protocol.
	d := proxy.Detector{Target: "127.0.0.1:9", NameTarget: "localhost:9"}
	p, err := d.DetectHost(ctx, "127.0.0.1", closed, open)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Protocol, p.Address == "127.0.0.1:"+strconv.Itoa(open))
	// Output: SOCKS5 true
}

// The error of a proxy that refuses a connection holds its reply code.
func ExampleRefusedError() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	socks, err := newFakeProxy((&script{Reply: string(reply4(91, zeroBound))}).Serve)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer socks.Close()

	p := &proxy.SOCKS{Protocol: proxy.SOCKS4, Address: socks.Addr()}
	_, err = p.DialContext(ctx, "tcp", "192.0.2.1:80")
	var refused *proxy.RefusedError
	if errors.As(err, &refused) {
		fmt.Println(refused.Code, refused.Reason)
	}
	// Output: 91 request rejected or failed
}
