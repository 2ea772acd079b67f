package proxy_test

import (
	"io"
	"net"
	"testing"

	"github.com/gorpcx/gorpcx/proxy"
)

// BenchmarkHandshake measures a whole dial through a proxy over an
// in-memory pipe: the request, the reply and its parsing.
func BenchmarkHandshake(b *testing.B) {
	serve4 := func(c net.Conn) {
		if _, err := readRequest4(c); err != nil {
			return
		}
		c.Write(reply4(90, zeroBound))
		io.Copy(io.Discard, c)
	}
	serve5 := func(c net.Conn) {
		var req request
		if _, err := readGreeting(c); err != nil {
			return
		}
		c.Write([]byte{5, 0})
		if readConnect5(c, &req) != nil {
			return
		}
		c.Write(reply5(0, zeroBound))
		io.Copy(io.Discard, c)
	}
	for _, bc := range []struct {
		name    string
		p       proxy.Protocol
		handler func(net.Conn)
		target  string
	}{
		{"SOCKS4", proxy.SOCKS4, serve4, "192.0.2.1:50001"},
		{"SOCKS4a", proxy.SOCKS4a, serve4, "electrum.example.org:50001"},
		{"SOCKS5", proxy.SOCKS5, serve5, "electrum.example.org:50001"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			fwd := &pipeForward{handler: bc.handler}
			defer fwd.wg.Wait()
			s := &proxy.SOCKS{Protocol: bc.p, Forward: fwd}
			ctx := testContext(b)
			b.ReportAllocs()
			for b.Loop() {
				c, err := s.DialContext(ctx, "tcp", bc.target)
				if err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
}
