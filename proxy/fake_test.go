package proxy_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeProxy is a SOCKS server on 127.0.0.1 written for the tests: each
// connection is given to a handler, which plays a real proxy (relay)
// or a broken one. Close ends every connection and waits for the
// handlers.
type fakeProxy struct {
	ln       net.Listener
	handler  func(fp *fakeProxy, c net.Conn)
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	closed   bool
	accepted atomic.Int32
}

// newFakeProxy starts a fake proxy with handler on 127.0.0.1.
func newFakeProxy(handler func(fp *fakeProxy, c net.Conn)) (*fakeProxy, error) {
	return newFakeProxyOn("127.0.0.1:0", handler)
}

// newFakeProxyOn starts a fake proxy with handler on address.
func newFakeProxyOn(address string, handler func(fp *fakeProxy, c net.Conn)) (*fakeProxy, error) {
	ln, err := net.Listen("tcp", address)
	if err != nil {
		return nil, err
	}
	fp := &fakeProxy{ln: ln, handler: handler, conns: make(map[net.Conn]struct{})}
	fp.wg.Add(1)
	go fp.accept()
	return fp, nil
}

// startFakeProxy starts a fake proxy closed at the end of the test.
func startFakeProxy(t testing.TB, handler func(fp *fakeProxy, c net.Conn)) *fakeProxy {
	t.Helper()
	fp, err := newFakeProxy(handler)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fp.Close)
	return fp
}

// Addr returns the proxy's address.
func (fp *fakeProxy) Addr() string { return fp.ln.Addr().String() }

// Accepted returns how many connections the proxy has accepted.
func (fp *fakeProxy) Accepted() int { return int(fp.accepted.Load()) }

func (fp *fakeProxy) accept() {
	defer fp.wg.Done()
	for {
		c, err := fp.ln.Accept()
		if err != nil {
			return
		}
		fp.accepted.Add(1)
		if !fp.track(c) {
			c.Close()
			return
		}
		fp.wg.Add(1)
		go func() {
			defer fp.wg.Done()
			defer fp.untrack(c)
			defer c.Close()
			fp.handler(fp, c)
		}()
	}
}

// track adds c to the connections closed by Close; it reports false
// after Close.
func (fp *fakeProxy) track(c net.Conn) bool {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	if fp.closed {
		return false
	}
	fp.conns[c] = struct{}{}
	return true
}

func (fp *fakeProxy) untrack(c net.Conn) {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	delete(fp.conns, c)
}

// Dial connects to a target for a handler; Close closes it too.
func (fp *fakeProxy) Dial(address string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", address, 5*time.Second)
	if err != nil {
		return nil, err
	}
	if !fp.track(c) {
		c.Close()
		return nil, net.ErrClosed
	}
	return c, nil
}

// Close stops the proxy, closes every connection and waits for the
// handlers to return.
func (fp *fakeProxy) Close() {
	fp.ln.Close()
	fp.mu.Lock()
	fp.closed = true
	for c := range fp.conns {
		c.Close()
	}
	fp.mu.Unlock()
	fp.wg.Wait()
}

// request is what a client asked the fake proxy for.
type request struct {
	Version    int    // 4 or 5
	Methods    []byte // SOCKS5 methods offered
	User, Pass string // SOCKS5 username and password, or SOCKS4 user ID
	Host       string // the target as sent: an IP address or a host name
	Port       int
}

// Target returns the request's target as "host:port".
func (r request) Target() string { return net.JoinHostPort(r.Host, strconv.Itoa(r.Port)) }

// readFull reads exactly n bytes from c.
func readFull(c net.Conn, n int) ([]byte, error) {
	b := make([]byte, n)
	_, err := io.ReadFull(c, b)
	return b, err
}

// readGreeting reads a SOCKS5 greeting (VER, NMETHODS, METHODS).
func readGreeting(c net.Conn) ([]byte, error) {
	b, err := readFull(c, 2)
	if err != nil {
		return nil, err
	}
	if b[0] != 5 {
		return nil, fmt.Errorf("greeting version %d", b[0])
	}
	return readFull(c, int(b[1]))
}

// readUserPass reads an RFC 1929 request.
func readUserPass(c net.Conn) (user, pass string, err error) {
	b, err := readFull(c, 2)
	if err != nil {
		return "", "", err
	}
	if b[0] != 1 {
		return "", "", fmt.Errorf("auth version %d", b[0])
	}
	u, err := readFull(c, int(b[1]))
	if err != nil {
		return "", "", err
	}
	n, err := readFull(c, 1)
	if err != nil {
		return "", "", err
	}
	p, err := readFull(c, int(n[0]))
	return string(u), string(p), err
}

// readConnect5 reads a SOCKS5 CONNECT request into r.
func readConnect5(c net.Conn, r *request) error {
	b, err := readFull(c, 4)
	if err != nil {
		return err
	}
	if b[0] != 5 || b[1] != 1 || b[2] != 0 {
		return fmt.Errorf("bad request % x", b)
	}
	switch b[3] {
	case 1, 4:
		size := 4
		if b[3] == 4 {
			size = 16
		}
		a, err := readFull(c, size)
		if err != nil {
			return err
		}
		addr, _ := netip.AddrFromSlice(a)
		r.Host = addr.String()
	case 3:
		n, err := readFull(c, 1)
		if err != nil {
			return err
		}
		name, err := readFull(c, int(n[0]))
		if err != nil {
			return err
		}
		r.Host = string(name)
	default:
		return fmt.Errorf("address type %d", b[3])
	}
	p, err := readFull(c, 2)
	r.Port = int(p[0])<<8 | int(p[1])
	return err
}

// readCString reads bytes up to a NUL, at most 1024.
func readCString(c net.Conn) (string, error) {
	var s []byte
	for range 1024 {
		b, err := readFull(c, 1)
		if err != nil {
			return "", err
		}
		if b[0] == 0 {
			return string(s), nil
		}
		s = append(s, b[0])
	}
	return "", errors.New("string too long")
}

// readRequest4 reads a SOCKS4 or SOCKS4a CONNECT request.
func readRequest4(c net.Conn) (request, error) {
	r := request{Version: 4}
	b, err := readFull(c, 8)
	if err != nil {
		return r, err
	}
	if b[0] != 4 || b[1] != 1 {
		return r, fmt.Errorf("bad request % x", b)
	}
	r.Port = int(b[2])<<8 | int(b[3])
	ip := netip.AddrFrom4([4]byte(b[4:8]))
	if r.User, err = readCString(c); err != nil {
		return r, err
	}
	if b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] != 0 {
		r.Host, err = readCString(c)
		return r, err
	}
	r.Host = ip.String()
	return r, nil
}

// readRequest reads a SOCKS4 request, or a SOCKS5 greeting and
// CONNECT request. A SOCKS5 client is asked for no authentication if
// check is nil, else for a username and password, which check judges.
// It reports whether the client may go on.
func readRequest(c net.Conn, check func(user, pass string) bool) (request, bool, error) {
	v, err := readFull(c, 1)
	if err != nil {
		return request{}, false, err
	}
	if v[0] == 4 {
		r, err := readRequest4(&prefixConn{Conn: c, prefix: v})
		return r, true, err
	}
	r := request{Version: 5}
	r.Methods, err = readGreeting(&prefixConn{Conn: c, prefix: v})
	if err != nil {
		return r, false, err
	}
	want, method := byte(0), byte(0xff)
	if check != nil {
		want = 2
	}
	for _, m := range r.Methods {
		if m == want {
			method = m
		}
	}
	if _, err := c.Write([]byte{5, method}); err != nil || method == 0xff {
		return r, false, err
	}
	if method == 2 {
		if r.User, r.Pass, err = readUserPass(c); err != nil {
			return r, false, err
		}
		ok := check(r.User, r.Pass)
		status := byte(0)
		if !ok {
			status = 1
		}
		if _, err := c.Write([]byte{1, status}); err != nil || !ok {
			return r, false, err
		}
	}
	return r, true, readConnect5(c, &r)
}

// prefixConn is a net.Conn that first reads prefix again.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(b []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(b, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// reply5 is a SOCKS5 reply with code rep and bound address bound.
func reply5(rep byte, bound netip.AddrPort) []byte {
	b := []byte{5, rep, 0}
	a := bound.Addr()
	if a.Is4() {
		b = append(b, 1)
	} else {
		b = append(b, 4)
	}
	b = append(b, a.AsSlice()...)
	return append(b, byte(bound.Port()>>8), byte(bound.Port()))
}

// reply4 is a SOCKS4 reply with code cd and address bound.
func reply4(cd byte, bound netip.AddrPort) []byte {
	a := bound.Addr().As4()
	return []byte{0, cd, byte(bound.Port() >> 8), byte(bound.Port()), a[0], a[1], a[2], a[3]}
}

var zeroBound = netip.MustParseAddrPort("0.0.0.0:0")

// relay is a working SOCKS4, SOCKS4a and SOCKS5 proxy: it connects to
// the target and copies both ways, half-close included. It records
// every request.
type relay struct {
	// Check, if set, makes SOCKS5 clients give a username and password
	// and judges them.
	Check func(user, pass string) bool
	// Refuse, if set, makes the relay refuse the hosts for which it
	// returns true: host unreachable (SOCKS5) or rejected (SOCKS4).
	Refuse func(host string) bool

	mu       sync.Mutex
	requests []request
}

// Requests returns the requests seen so far.
func (r *relay) Requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.requests...)
}

// Serve is the fake proxy handler.
func (r *relay) Serve(fp *fakeProxy, c net.Conn) {
	req, ok, err := readRequest(c, r.Check)
	r.mu.Lock()
	r.requests = append(r.requests, req)
	r.mu.Unlock()
	if err != nil || !ok {
		return
	}
	var target net.Conn
	code4, code5 := byte(91), byte(4) // host unreachable
	if r.Refuse == nil || !r.Refuse(req.Host) {
		target, _ = fp.Dial(req.Target())
		code5 = 5 // connection refused
	}
	if target == nil {
		if req.Version == 4 {
			c.Write(reply4(code4, zeroBound))
		} else {
			c.Write(reply5(code5, zeroBound))
		}
		return
	}
	defer target.Close()
	bound := target.LocalAddr().(*net.TCPAddr).AddrPort()
	if req.Version == 4 {
		_, err = c.Write(reply4(90, bound))
	} else {
		_, err = c.Write(reply5(0, bound))
	}
	if err != nil {
		return
	}
	pipe(c, target)
}

// pipe copies a to b and b to a, passing on the end of each stream as a
// half-close, until both are done.
func pipe(a, b net.Conn) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(b, a)
		b.(*net.TCPConn).CloseWrite()
	}()
	io.Copy(a, b)
	a.(*net.TCPConn).CloseWrite()
	<-done
}

// startEcho starts a TCP server on 127.0.0.1 that writes back what it
// reads and half-closes at the end of the stream. It returns the
// address.
func startEcho(t testing.TB) string {
	t.Helper()
	return startFakeProxy(t, echo).Addr()
}

// echo is the handler of an echo server.
func echo(_ *fakeProxy, c net.Conn) {
	io.Copy(c, c)
	c.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, c)
}

// script is a fake proxy that answers each step of a handshake with
// set bytes, right or wrong, and then stops: it closes the connection,
// or with Hang waits for the client to close it.
type script struct {
	// Method is written after a SOCKS5 greeting; if it selects
	// username and password, Auth is written after the RFC 1929
	// request. Reply is written after the CONNECT request (SOCKS4 or
	// SOCKS5). An empty step is silence.
	Method, Auth, Reply string
	// Trickle writes every reply one byte at a time.
	Trickle bool
	// Hang keeps the connection open, silent, once the script is done.
	Hang bool
	// Requested, if set, receives the request once it is read.
	Requested chan<- request
}

// Serve is the fake proxy handler.
func (s *script) Serve(_ *fakeProxy, c net.Conn) {
	if s.Hang {
		defer io.Copy(io.Discard, c)
	}
	v, err := readFull(c, 1)
	if err != nil {
		return
	}
	req := request{Version: int(v[0])}
	if req.Version == 4 {
		if req, err = readRequest4(&prefixConn{Conn: c, prefix: v}); err != nil {
			return
		}
	} else {
		if req.Methods, err = readGreeting(&prefixConn{Conn: c, prefix: v}); err != nil {
			return
		}
		if !s.write(c, s.Method) || len(s.Method) != 2 || s.Method[0] != 5 || s.Method[1] != 0 && s.Method[1] != 2 {
			return
		}
		if s.Method[1] == 2 {
			if req.User, req.Pass, err = readUserPass(c); err != nil {
				return
			}
			if !s.write(c, s.Auth) || s.Auth != "\x01\x00" {
				return
			}
		}
		if err := readConnect5(c, &req); err != nil {
			return
		}
	}
	if s.Requested != nil {
		s.Requested <- req
	}
	s.write(c, s.Reply)
}

// write writes b to c, trickled if so set, and reports whether it
// was written in full and not empty.
func (s *script) write(c net.Conn, b string) bool {
	if b == "" {
		return false
	}
	if !s.Trickle {
		_, err := io.WriteString(c, b)
		return err == nil
	}
	for i := range len(b) {
		if _, err := io.WriteString(c, b[i:i+1]); err != nil {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}
