package interop

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorpcx/gorpcx/internal/realpeer"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/transport"
)

// These tests run examples/interop-server as a process with the flags
// of its admission control (docs: the interop-server specification,
// "Serving the open internet"), over real sockets: whoami, the PROXY
// protocol behind a real HAProxy, TLS, shedding at -max-sessions, the
// per-peer limits and the idle timeout.

const (
	echoRequest = `{"jsonrpc":"2.0","id":1,"method":"echo","params":["hi"]}`
	echoReply   = `{"jsonrpc":"2.0","result":"hi","id":1}`
	whoamiCall  = `{"jsonrpc":"2.0","id":"w","method":"whoami","params":[]}`
)

// fastBound bounds a wait that must end long before the server's own
// timeouts (the 10 s TLS handshake and first-message timeouts) could
// end it instead: a connection refused "at once" is closed within it, a
// client that is not locked out is answered within it. It is generous,
// to tell a refusal or an answer from a wait for a timeout, never to
// measure speed.
const fastBound = server.DefaultHandshakeTimeout / 2

// dialFrom connects to addr from the loopback address from (any when
// empty), as a raw JSON-RPC connection.
func dialFrom(t *testing.T, from, addr string) *rawConn {
	t.Helper()
	d := net.Dialer{Timeout: procWait}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawConn{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// echoes checks that c is served: an echo is answered.
func (c *rawConn) echoes(what string) {
	c.t.Helper()
	if got := c.roundTrip(echoRequest); got != echoReply {
		c.t.Fatalf("%s: echo answered %s, want %s", what, got, echoReply)
	}
}

// closedError reports whether err is how a reader sees a connection the
// server closed: the end of the stream, or a reset when the server
// closed it with bytes of ours unread.
func closedError(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// refused checks that the server closes c without serving it: an echo
// sent on it gets no answer, the connection ends within fastBound.
func (c *rawConn) refused(what string) {
	c.t.Helper()
	start := time.Now()
	c.conn.SetWriteDeadline(start.Add(fastBound))
	_, _ = io.WriteString(c.conn, echoRequest+"\n") // may fail: already closed
	c.conn.SetReadDeadline(start.Add(fastBound))
	got, err := c.r.ReadString('\n')
	el := time.Since(start)
	switch {
	case err == nil:
		c.t.Errorf("%s: served (%s), want the connection closed", what, strings.TrimSpace(got))
	case !closedError(err):
		c.t.Errorf("%s: read %q, %v after %v; want the connection closed at once", what, got, err, el.Round(time.Microsecond))
	default:
		c.t.Logf("%s: closed after %v", what, el.Round(time.Microsecond))
	}
}

// whoami is the result of the method whoami.
type whoami struct {
	Peer  string  `json:"peer"`
	Local string  `json:"local"`
	Via   *string `json:"via"`
}

// whoami calls whoami on c.
func (c *rawConn) whoami() whoami {
	c.t.Helper()
	reply := c.roundTrip(whoamiCall)
	var r struct {
		Result *struct {
			whoami
			Via json.RawMessage `json:"via"`
		} `json:"result"`
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(reply), &r); err != nil || r.Result == nil || r.ID != "w" || r.Result.Via == nil {
		c.t.Fatalf("whoami: reply %s, want a result with peer, local and via", reply)
	}
	w := r.Result.whoami
	if string(r.Result.Via) != "null" {
		var via string
		if err := json.Unmarshal(r.Result.Via, &via); err != nil {
			c.t.Fatalf("whoami: via is %s, want a string or null", r.Result.Via)
		}
		w.Via = &via
	}
	return w
}

func TestAdmissionWhoamiDirect(t *testing.T) {
	t.Parallel()
	p, addr := startInteropServer(t)
	for _, from := range []string{"", "127.0.0.11"} {
		c := dialFrom(t, from, addr)
		// Byte for byte: the client's own address, the server's, no
		// balancer.
		want := `{"jsonrpc":"2.0","result":{"peer":"` + c.conn.LocalAddr().String() + `","local":"` + addr + `","via":null},"id":"w"}`
		if got := c.roundTrip(whoamiCall); got != want {
			t.Errorf("whoami from %q: got %s, want %s", from, got, want)
		}
	}
	stopInteropServer(t, p)
}

// v2Header is a PROXY protocol v2 header for a TCP over IPv4 connection
// from src to dst.
func v2Header(src, dst netip.AddrPort) []byte {
	b := []byte("\r\n\r\n\x00\r\nQUIT\n")
	b = append(b, 0x21, 0x11, 0, 12) // version 2, PROXY; TCP over IPv4; 12 bytes
	s, d := src.Addr().As4(), dst.Addr().As4()
	b = append(append(b, s[:]...), d[:]...)
	b = binary.BigEndian.AppendUint16(b, src.Port())
	return binary.BigEndian.AppendUint16(b, dst.Port())
}

// Behind a real HAProxy that sends PROXY protocol headers, whoami names
// the client's own address as the peer and HAProxy as the balancer.
func TestAdmissionBehindHAProxy(t *testing.T) {
	t.Parallel()
	realpeer.Need(t, "haproxy", "haproxy")
	const client = "127.0.0.12"
	for _, tt := range []struct {
		mode, send string
		tls        bool // TLS from the client through HAProxy, after the header
	}{
		{"v1", "send-proxy", false},
		{"v2", "send-proxy-v2", false},
		{"any", "send-proxy", false},
		{"any", "send-proxy-v2", false},
		{"v2", "send-proxy-v2", true},
	} {
		name := tt.mode + "/" + tt.send
		if tt.tls {
			name += "/tls"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			flags := []string{"-proxy-protocol", tt.mode}
			if tt.tls {
				flags = append(flags, "-tls")
			}
			p, addr := startInteropServer(t, flags...)
			front := realpeer.StartHAProxy(t, realpeer.HAProxyConfig{Server: addr, ServerOptions: tt.send})
			c := dialFrom(t, client, front)
			if tt.tls {
				tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true})
				tc.SetDeadline(time.Now().Add(procWait))
				if err := tc.Handshake(); err != nil {
					t.Fatalf("TLS through HAProxy: %v", err)
				}
				c = &rawConn{t: t, conn: tc, r: bufio.NewReader(tc)}
			}
			w := c.whoami()
			if w.Peer != c.conn.LocalAddr().String() {
				t.Errorf("peer %q, want the client's own address %s", w.Peer, c.conn.LocalAddr())
			}
			if w.Local != addr {
				t.Errorf("local %q, want the server's address %s", w.Local, addr)
			}
			if w.Via == nil {
				t.Errorf("via null, want HAProxy's address")
			} else if ap, err := netip.ParseAddrPort(*w.Via); err != nil || ap.Addr() != netip.MustParseAddr("127.0.0.1") || ap.Port() == 0 {
				t.Errorf("via %q, want HAProxy's 127.0.0.1:PORT", *w.Via)
			}
			c.echoes("through HAProxy")
			stopInteropServer(t, p)
		})
	}

	t.Run("header of a version not accepted", func(t *testing.T) {
		t.Parallel()
		p, addr := startInteropServer(t, "-proxy-protocol", "v2")
		front := realpeer.StartHAProxy(t, realpeer.HAProxyConfig{Server: addr, ServerOptions: "send-proxy"})
		dialFrom(t, client, front).refused("a v1 header to -proxy-protocol v2")
		stopInteropServer(t, p)
	})

	t.Run("balancer not trusted", func(t *testing.T) {
		t.Parallel()
		// HAProxy connects from 127.0.0.1, which is not 127.0.0.2.
		p, addr := startInteropServer(t, "-proxy-protocol", "v2", "-trusted", "127.0.0.2")
		front := realpeer.StartHAProxy(t, realpeer.HAProxyConfig{Server: addr, ServerOptions: "send-proxy-v2"})
		dialFrom(t, client, front).refused("a header from HAProxy at 127.0.0.1 with -trusted 127.0.0.2")
		stopInteropServer(t, p)
	})
}

// Without a balancer in front, a -proxy-protocol server refuses a
// header from a client that is not trusted, serves such a client
// without a header as itself, and refuses a trusted source that sends
// no header.
func TestAdmissionProxyDirect(t *testing.T) {
	t.Parallel()
	p, addr := startInteropServer(t, "-proxy-protocol", "v2")
	dst := netip.MustParseAddrPort(addr)

	t.Run("header from an untrusted client", func(t *testing.T) {
		c := dialFrom(t, "127.0.0.12", addr)
		c.conn.SetWriteDeadline(time.Now().Add(procWait))
		if _, err := c.conn.Write(v2Header(netip.MustParseAddrPort("192.0.2.7:4000"), dst)); err != nil {
			t.Fatal(err)
		}
		c.refused("a v2 header from 127.0.0.12, not in -trusted")
	})

	t.Run("untrusted client without a header", func(t *testing.T) {
		c := dialFrom(t, "127.0.0.12", addr)
		w := c.whoami()
		if w.Peer != c.conn.LocalAddr().String() || w.Local != addr || w.Via != nil {
			t.Errorf("whoami = %+v, want peer %s, local %s, no via", w, c.conn.LocalAddr(), addr)
		}
	})

	t.Run("trusted source without a header", func(t *testing.T) {
		c := dialFrom(t, "127.0.0.1", addr)
		c.refused("no header from 127.0.0.1, in -trusted")
	})

	stopInteropServer(t, p)
}

// serverCert connects to the TLS server at addr without verifying it
// and returns the certificate it presents.
func serverCert(t *testing.T, addr string) *x509.Certificate {
	t.Helper()
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: procWait}, Config: &tls.Config{InsecureSkipVerify: true}}
	conn, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		t.Fatal("the server presented no certificate")
	}
	return certs[0]
}

// dialTLS connects to addr with TLS configured by cfg, bounded by
// procWait, as a raw JSON-RPC connection.
func dialTLS(t *testing.T, addr string, cfg *tls.Config) (*rawConn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), procWait)
	defer cancel()
	d := tls.Dialer{NetDialer: &net.Dialer{}, Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { conn.Close() })
	return &rawConn{t: t, conn: conn, r: bufio.NewReader(conn)}, nil
}

// verifiedBy returns a client configuration that trusts cert alone, for
// serverName.
func verifiedBy(cert *x509.Certificate, serverName string) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12}
}

func TestAdmissionTLS(t *testing.T) {
	t.Parallel()

	t.Run("self-signed", func(t *testing.T) {
		t.Parallel()
		p, addr := startInteropServer(t, "-tls")
		cert := serverCert(t, addr)
		for _, name := range []string{"localhost", "127.0.0.1"} {
			c, err := dialTLS(t, addr, verifiedBy(cert, name))
			if err != nil {
				t.Fatalf("TLS verified for %s: %v", name, err)
			}
			c.echoes("TLS verified for " + name)
			if w := c.whoami(); w.Peer != c.conn.LocalAddr().String() || w.Local != addr || w.Via != nil {
				t.Errorf("whoami over TLS = %+v, want peer %s, local %s, no via", w, c.conn.LocalAddr(), addr)
			}
		}
		// The check is real: the certificate names no other host.
		var hostErr x509.HostnameError
		if _, err := dialTLS(t, addr, verifiedBy(cert, "example.com")); !errors.As(err, &hostErr) {
			t.Errorf("TLS for example.com: %v, want a x509.HostnameError", err)
		}

		// A client that does not speak TLS is closed at once, not held
		// until the handshake times out.
		c := dialFrom(t, "", addr)
		start := time.Now()
		c.send(echoRequest)
		c.conn.SetReadDeadline(start.Add(fastBound))
		got, err := io.ReadAll(c.r)
		if err != nil && !closedError(err) {
			t.Errorf("a plain client: read %q, %v after %v; want the connection closed at once", got, err, time.Since(start).Round(time.Millisecond))
		}
		if strings.Contains(string(got), `"result"`) {
			t.Errorf("a plain client was answered: %q", got)
		}
		t.Logf("plain client closed after %v (it read %d bytes)", time.Since(start).Round(time.Microsecond), len(got))
		stopInteropServer(t, p)
	})

	t.Run("-tls-cert and -tls-key", func(t *testing.T) {
		t.Parallel()
		cert, err := transport.SelfSigned(0, "localhost")
		if err != nil {
			t.Fatal(err)
		}
		key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600); err != nil {
			t.Fatal(err)
		}
		p, addr := startInteropServer(t, "-tls", "-tls-cert", certFile, "-tls-key", keyFile)
		leaf, err := x509.ParseCertificate(cert.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		c, err := dialTLS(t, addr, verifiedBy(leaf, "localhost"))
		if err != nil {
			t.Fatalf("TLS verified by the certificate of -tls-cert: %v", err)
		}
		c.echoes("TLS with -tls-cert")
		stopInteropServer(t, p)
	})
}

// silentFlood holds connections that never send a byte, and counts
// those the server closes.
type silentFlood struct {
	conns  []net.Conn
	closed chan struct{} // one value per connection the server closed
	wg     sync.WaitGroup
}

// flood opens n silent connections to addr.
func flood(t *testing.T, addr string, n int) *silentFlood {
	t.Helper()
	f := &silentFlood{closed: make(chan struct{}, n)}
	t.Cleanup(f.stop)
	d := net.Dialer{Timeout: procWait}
	for range n {
		conn, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("silent connection %d: %v", len(f.conns)+1, err)
		}
		f.conns = append(f.conns, conn)
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			// Ends when the server closes the connection, or when stop
			// closes it (a net.ErrClosed, not counted).
			conn.SetReadDeadline(time.Now().Add(2 * procWait))
			var b [1]byte
			if _, err := conn.Read(b[:]); closedError(err) {
				f.closed <- struct{}{}
			}
		}()
	}
	return f
}

// waitClosed waits until the server has closed n connections in all,
// and fails t if it has not within procWait. got is how many were seen
// closed before.
func (f *silentFlood) waitClosed(t *testing.T, got, n int) int {
	t.Helper()
	timer := time.NewTimer(procWait)
	defer timer.Stop()
	for got < n {
		select {
		case <-f.closed:
			got++
		case <-timer.C:
			t.Fatalf("the server closed %d of the silent connections within %v, want %d", got, procWait, n)
		}
	}
	return got
}

func (f *silentFlood) stop() {
	for _, c := range f.conns {
		c.Close()
	}
	f.wg.Wait()
}

// 500 connections that never start their TLS handshake do not lock a
// real TLS client out of a server with -max-sessions 5: they are
// counted from accept, the oldest are shed to make room for each new
// one, and the client is answered while they are held.
func TestAdmissionShedsSilentTLS(t *testing.T) {
	t.Parallel()
	const (
		n    = 500
		held = 5
	)
	p, addr := startInteropServer(t, "-tls", "-max-sessions", "5")
	start := time.Now()
	f := flood(t, addr, n)
	dialed := time.Since(start)
	// Every one is accepted and counted, so all but the last max are
	// shed, long before the handshake timeout.
	closed := f.waitClosed(t, 0, n-held)
	shed := time.Since(start)

	c0 := time.Now()
	c, err := dialTLS(t, addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("a TLS client during the flood: %v", err)
	}
	c.conn.SetDeadline(c0.Add(fastBound))
	c.send(echoRequest)
	got, err := c.read()
	if err != nil || got != echoReply {
		t.Fatalf("a TLS client during the flood: read %q, %v after %v; want %s", got, err, time.Since(c0).Round(time.Millisecond), echoReply)
	}
	answered := time.Since(c0)
	// The client took the place of one silent connection.
	f.waitClosed(t, closed, n-held+1)

	// The evictions are logged at a bounded rate: at most the burst,
	// then 10 lines a second (the server started before start).
	lines := strings.Count(p.stderr.String(), "evicting the least useful connection")
	if limit := 50 + 10*int(time.Since(start).Seconds()+1); lines == 0 || lines > limit {
		t.Errorf("%d log lines for %d evictions, want 1 to %d", lines, n-held+1, limit)
	}
	t.Logf("%d silent connections dialed in %v, %d shed by %v; a TLS client answered in %v; %d eviction log lines",
		n, dialed.Round(time.Millisecond), n-held, shed.Round(time.Millisecond), answered.Round(time.Millisecond), lines)
	f.stop()
	stopInteropServer(t, p)
}

func TestAdmissionPerPeer(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		flags []string
		// Two connections from first are served; one more from third
		// is refused (served when refuseThird is false); one from other
		// is served.
		first, third, other string
		refuseThird         bool
	}{
		{"per-ip", []string{"-per-ip", "2", "-exempt", "none"}, "127.0.0.13", "127.0.0.13", "127.0.0.14", true},
		{"per-subnet", []string{"-per-subnet", "2", "-per-ip", "-1", "-exempt", "none"}, "127.0.0.13", "127.0.0.15", "127.0.1.13", true},
		{"loopback exempt by default", []string{"-per-ip", "2"}, "127.0.0.13", "127.0.0.13", "127.0.0.14", false},
		{"exempt network", []string{"-per-ip", "2", "-exempt", "127.0.0.12/30"}, "127.0.0.13", "127.0.0.13", "127.0.0.14", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, addr := startInteropServer(t, tt.flags...)
			a, b := dialFrom(t, tt.first, addr), dialFrom(t, tt.first, addr)
			a.echoes("first connection from " + tt.first)
			b.echoes("second connection from " + tt.first)
			third := dialFrom(t, tt.third, addr)
			if tt.refuseThird {
				third.refused("third connection from " + tt.third)
			} else {
				third.echoes("third connection from " + tt.third)
			}
			dialFrom(t, tt.other, addr).echoes("connection from " + tt.other)
			// The two held are still served.
			a.echoes("first connection, after the third")
			b.echoes("second connection, after the third")
			if tt.refuseThird {
				// Once one of them ends, its place is free again (the
				// server sees the end a moment after the close).
				a.conn.Close()
				for i := 0; ; i++ {
					c := dialFrom(t, tt.third, addr)
					c.send(echoRequest)
					if got, err := c.read(); err == nil {
						if got != echoReply {
							t.Fatalf("after a close: echo answered %s", got)
						}
						t.Logf("served again after %d refusals", i)
						break
					} else if !closedError(err) || i == 100 {
						t.Fatalf("after a close, attempt %d: %v", i+1, err)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			stopInteropServer(t, p)
		})
	}
}

func TestAdmissionIdleTimeout(t *testing.T) {
	t.Parallel()
	const idle = 300 * time.Millisecond
	p, addr := startInteropServer(t, "-idle-timeout", idle.String())
	for _, tt := range []struct {
		name string
		talk bool // one request before going idle
	}{{"silent", false}, {"after a request", true}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			c := dialFrom(t, "", addr)
			if tt.talk {
				c.echoes("before going idle")
			}
			m, err := c.read()
			el := time.Since(start)
			if !errors.Is(err, io.EOF) {
				t.Fatalf("an idle connection: read %q, %v after %v; want it closed", m, err, el.Round(time.Microsecond))
			}
			if el < idle {
				t.Errorf("an idle connection was closed after %v, before the idle timeout of %v", el, idle)
			}
			t.Logf("closed after %v", el.Round(time.Microsecond))
		})
	}
	t.Run("busy", func(t *testing.T) {
		t.Parallel()
		// A request every 50 ms, for four times the timeout.
		c := dialFrom(t, "", addr)
		for end := time.Now().Add(4 * idle); time.Now().Before(end); {
			c.echoes("a connection that keeps sending")
			time.Sleep(idle / 6)
		}
	})
	t.Run("switched off", func(t *testing.T) {
		t.Parallel()
		p, addr := startInteropServer(t, "-idle-timeout", "-1s")
		c := dialFrom(t, "", addr)
		c.echoes("before a pause")
		time.Sleep(2 * idle)
		c.echoes("after a pause of twice the other server's timeout")
		stopInteropServer(t, p)
	})
	t.Cleanup(func() { stopInteropServer(t, p) })
}

// A connection that sends no whole message within the first-message
// timeout is closed: a silent one, and one that sends a byte every
// 50 ms without ever finishing a message; one that talks at once stays.
func TestAdmissionFirstMessageTimeout(t *testing.T) {
	t.Parallel()
	const first = 300 * time.Millisecond
	p, addr := startInteropServer(t, "-first-message-timeout", first.String())
	t.Cleanup(func() { stopInteropServer(t, p) })
	for _, tt := range []struct {
		name string
		drip bool
	}{{"silent", false}, {"one byte at a time", true}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			c := dialFrom(t, "", addr)
			stop := make(chan struct{})
			dripped := make(chan struct{})
			go func() {
				defer close(dripped)
				for tt.drip {
					select {
					case <-stop:
						return
					case <-time.After(first / 6):
					}
					if _, err := c.conn.Write([]byte(" ")); err != nil {
						return
					}
				}
			}()
			m, err := c.read()
			close(stop)
			<-dripped
			el := time.Since(start)
			if !errors.Is(err, io.EOF) {
				t.Fatalf("read %q, %v after %v; want the connection closed", m, err, el)
			}
			if el < first {
				t.Errorf("closed after %v, before the first-message timeout of %v", el, first)
			}
		})
	}
	t.Run("talks at once", func(t *testing.T) {
		t.Parallel()
		c := dialFrom(t, "", addr)
		c.echoes("a first message at once")
		time.Sleep(2 * first)
		c.echoes("after twice the first-message timeout")
	})
}

// admissionFlags are the flags of the contract's "Serving the open
// internet" table that the program has.
var admissionFlags = []string{
	"-tls", "-tls-cert", "-tls-key", "-max-sessions", "-proxy-protocol",
	"-trusted", "-per-ip", "-per-subnet", "-exempt", "-idle-timeout",
	"-first-message-timeout",
}

func TestAdmissionFlags(t *testing.T) {
	t.Parallel()
	bin := example(t, "interop-server")

	t.Run("help", func(t *testing.T) {
		stdout, stderr, code := runProc(t, "", bin, "-h")
		if code != 0 {
			t.Errorf("-h: exit %d, want 0; stderr:\n%s", code, stderr)
		}
		help := stdout + stderr
		for _, f := range append([]string{"-addr", "-protocol", "-framing", "-max-message", "-concurrency", "-processing-timeout", "-log"}, admissionFlags...) {
			if !strings.Contains(help, "  "+f+"\n") && !strings.Contains(help, "  "+f+" ") {
				t.Errorf("-h does not list %s:\n%s", f, help)
			}
		}
	})

	t.Run("bad values", func(t *testing.T) {
		for _, tt := range []struct {
			args []string
			flag string // what the first line of stderr names
		}{
			{[]string{"-proxy-protocol", "v3"}, "-proxy-protocol"},
			{[]string{"-trusted", "notacidr"}, "-trusted"},
			{[]string{"-trusted", "10.0.0.0/33"}, "-trusted"},
			{[]string{"-exempt", "example.com"}, "-exempt"},
			{[]string{"-tls", "-tls-cert", "cert.pem"}, "-tls-cert"},
			{[]string{"-tls", "-tls-key", "key.pem"}, "-tls-key"},
			{[]string{"-tls-cert", "cert.pem", "-tls-key", "key.pem"}, "-tls"},
			{[]string{"-max-sessions", "0"}, "-max-sessions"},
			{[]string{"-max-sessions", "many"}, "-max-sessions"},
			{[]string{"-per-ip", "two"}, "-per-ip"},
			{[]string{"-per-subnet", "1.5"}, "-per-subnet"},
			{[]string{"-idle-timeout", "300"}, "-idle-timeout"},
			{[]string{"-first-message-timeout", "ten"}, "-first-message-timeout"},
		} {
			stdout, stderr, code := runProc(t, "", bin, tt.args...)
			first, _, _ := strings.Cut(stderr, "\n")
			if code != 2 || stdout != "" || !strings.Contains(first, tt.flag) {
				t.Errorf("interop-server %q: exit %d, stdout %q, first line of stderr %q; want exit 2 and a message naming %s",
					tt.args, code, stdout, first, tt.flag)
			}
		}
	})
}
