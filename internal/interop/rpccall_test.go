package interop

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gorpcx/gorpcx/internal/testcert"
	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// These tests run examples/rpccall as a process against servers started
// by the test.

// rpccallCase is one run of rpccall.
type rpccallCase struct {
	name  string
	args  []string
	stdin string
	code  int
	// stdout is the exact standard output; stderr a text standard error
	// must contain ("" means it must be empty).
	stdout, stderr string
}

func runRPCCall(t *testing.T, tests []rpccallCase) {
	t.Helper()
	bin := example(t, "rpccall")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runProc(t, tc.stdin, bin, tc.args...)
			if code != tc.code || stdout != tc.stdout ||
				(tc.stderr == "" && stderr != "") || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("rpccall %q:\nexit %d, want %d\nstdout %q, want %q\nstderr %q, want it to contain %q",
					tc.args, code, tc.code, stdout, tc.stdout, stderr, tc.stderr)
			}
		})
	}
}

func TestRPCCall(t *testing.T) {
	t.Parallel()
	gs := startGoServer(t, protocol.V2, 0)
	addr := gs.Addr().String()

	batchFile := filepath.Join(t.TempDir(), "batch")
	if err := os.WriteFile(batchFile, []byte(`# a comment, then a blank line

echo ["one"]
add {"a": 1, "b": 2}
no_such_method
echo {"value": {"k": [true]}}
fail [7, "seven"]
`), 0o600); err != nil {
		t.Fatal(err)
	}

	runRPCCall(t, []rpccallCase{{
		name:   "positional params",
		args:   []string{addr, "echo", `[{"a": [1, 2], "b": "x"}]`},
		stdout: "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": \"x\"\n}\n",
	}, {
		name:   "named params",
		args:   []string{addr, "add", `{"a": 1, "b": 2.5}`},
		stdout: "3.5\n",
	}, {
		name:   "no params",
		args:   []string{addr, "stats"},
		stdout: "{\n  \"errors\": 0,\n  \"recv_count\": 1,\n  \"send_count\": 0\n}\n",
	}, {
		name:   "error response",
		args:   []string{addr, "fail", `[-5, "boom"]`},
		code:   1,
		stderr: "error -5: boom\n",
	}, {
		name:   "unknown method",
		args:   []string{addr, "no_such_method"},
		code:   1,
		stderr: "error -32601: unknown method \"no_such_method\"\n",
	}, {
		// (The server answers after rpccall has gone.)
		name:   "no answer in time",
		args:   []string{"-timeout", "200ms", addr, "sleep", "[1]"},
		code:   3,
		stderr: "no answer within 200ms\n",
	}, {
		name:   "batch file",
		args:   []string{"-batch", batchFile, addr},
		code:   1,
		stdout: "#1 echo: \"one\"\n#2 add: 3\n#4 echo: {\n  \"k\": [\n    true\n  ]\n}\n",
		stderr: "#3 no_such_method: error -32601: unknown method \"no_such_method\"\n#5 fail: error 7: seven\n",
	}, {
		name:   "batch from standard input",
		args:   []string{"-batch", "-", addr},
		stdin:  "echo [1]\nadd [2, 3]\n",
		stdout: "#1 echo: 1\n#2 add: 5\n",
	}, {
		name:   "no arguments",
		code:   64,
		stderr: "usage: rpccall",
	}, {
		name:   "params not JSON",
		args:   []string{addr, "echo", "[1,"},
		code:   64,
		stderr: "is not valid JSON",
	}, {
		name:   "params not a structure",
		args:   []string{addr, "echo", "5"},
		code:   64,
		stderr: "5 is not a JSON array or object",
	}, {
		name:   "named params in 1.0",
		args:   []string{"-protocol", "v1", addr, "echo", `{"value": 1}`},
		code:   64,
		stderr: "JSON-RPC 1.0 has no named params",
	}, {
		name:   "unknown dialect",
		args:   []string{"-protocol", "v3", addr, "echo"},
		code:   64,
		stderr: "-protocol must be v2, v1, loose or auto",
	}, {
		name:   "-insecure without -tls",
		args:   []string{"-insecure", addr, "echo"},
		code:   64,
		stderr: "-insecure is for -tls connections",
	}, {
		name:   "unknown proxy scheme",
		args:   []string{"-proxy", "gopher://127.0.0.1:1", addr, "echo"},
		code:   64,
		stderr: `scheme "gopher" is not socks4, socks4a, socks5 or socks5h`,
	}, {
		name:   "empty batch file",
		args:   []string{"-batch", "-", addr},
		stdin:  "# nothing\n",
		code:   64,
		stderr: "no requests",
	}})
}

func TestRPCCallConnectionFailures(t *testing.T) {
	t.Parallel()
	// A port nobody listens on any more.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()

	// A server that reads a request and hangs up without answering.
	hangup, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		conn, err := hangup.Accept()
		if err != nil {
			return
		}
		bufio.NewReader(conn).ReadString('\n')
		conn.Close()
	}()
	t.Cleanup(func() {
		hangup.Close()
		wg.Wait()
	})

	runRPCCall(t, []rpccallCase{{
		name:   "connection refused",
		args:   []string{refused, "echo", "[1]"},
		code:   2,
		stderr: "rpccall: cannot connect: transport: dial tcp " + refused + ": connect: connection refused",
	}, {
		name:   "connection lost before the answer",
		args:   []string{hangup.Addr().String(), "echo", "[1]"},
		code:   2,
		stderr: "connection lost before the answer: EOF",
	}})
}

func TestRPCCallDialects(t *testing.T) {
	t.Parallel()
	v1 := startGoServer(t, protocol.V1, 0).Addr().String()
	loose := startGoServer(t, protocol.Loose, 0).Addr().String()
	runRPCCall(t, []rpccallCase{{
		name:   "1.0",
		args:   []string{"-protocol", "v1", v1, "add", "[1, 2]"},
		stdout: "3\n",
	}, {
		name:   "1.0 error",
		args:   []string{"-protocol", "v1", v1, "fail", `[4, "four"]`},
		code:   1,
		stderr: "error 4: four\n",
	}, {
		// JSON-RPC 1.0 has no batches: the requests go one by one.
		name:   "1.0 batch",
		args:   []string{"-protocol", "v1", "-batch", "-", v1},
		stdin:  "echo [1]\nno_such_method\n",
		code:   1,
		stdout: "#1 echo: 1\n",
		stderr: "#2 no_such_method: error -32601: unknown method \"no_such_method\"\n",
	}, {
		// A 2.0 client cannot read 1.0 responses, and says so.
		name:   "2.0 against a 1.0 server",
		args:   []string{v1, "echo", "[1]"},
		code:   3,
		stderr: "malformed response: ",
	}, {
		name:   "loose",
		args:   []string{"-protocol", "loose", loose, "echo", `{"value": "x"}`},
		stdout: "\"x\"\n",
	}})
}

func TestRPCCallTLS(t *testing.T) {
	t.Parallel()
	cert, _ := testcert.New(t)
	srv := &server.Server{
		TLS:     &tls.Config{Certificates: []tls.Certificate{cert}},
		Options: session.Options{Handler: (&goServer{sleeping: make(chan *session.Session, 1)}).methods()},
	}
	if err := srv.Listen(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), procWait)
		defer cancel()
		srv.Shutdown(ctx)
	})
	addr := srv.Addr().String()
	runRPCCall(t, []rpccallCase{{
		// The certificate is verified by default: this one is
		// self-signed.
		name:   "verified",
		args:   []string{"-tls", addr, "echo", "[1]"},
		code:   2,
		stderr: "certificate",
	}, {
		name:   "insecure",
		args:   []string{"-tls", "-insecure", addr, "echo", `["over TLS"]`},
		stdout: "\"over TLS\"\n",
		stderr: "rpccall: warning: -insecure: the server's certificate is not verified",
	}, {
		name:   "no TLS against TLS",
		args:   []string{"-timeout", "500ms", addr, "echo", "[1]"},
		code:   2,
		stderr: "connection lost before the answer",
	}})
}

func TestRPCCallProxy(t *testing.T) {
	t.Parallel()
	gs := startGoServer(t, protocol.V2, 0)
	_, port, err := net.SplitHostPort(gs.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	byIP, byName := "127.0.0.1:"+port, "localhost:"+port
	// Each scheme, and what the proxy must have been asked: curl's
	// schemes resolve locally (socks5, socks4) or at the proxy (socks5h,
	// socks4a).
	for _, tt := range []struct {
		scheme, target, asked string
	}{
		{"socks5", byIP, "SOCKS5 IPv4 127.0.0.1:" + port},
		{"socks5h", byName, "SOCKS5 name localhost:" + port},
		{"socks4", byIP, "SOCKS4 IPv4 127.0.0.1:" + port},
		{"socks4a", byName, "SOCKS4a name localhost:" + port},
	} {
		t.Run(tt.scheme, func(t *testing.T) {
			proxy := startSOCKS5(t)
			runRPCCall(t, []rpccallCase{{
				name:   tt.scheme,
				args:   []string{"-proxy", tt.scheme + "://" + proxy.addr, tt.target, "echo", `["via the proxy"]`},
				stdout: "\"via the proxy\"\n",
			}})
			if got := proxy.requests(); len(got) != 1 || got[0] != tt.asked {
				t.Errorf("the proxy was asked %q, want [%q]", got, tt.asked)
			}
		})
	}
}

// socks5 is a minimal SOCKS proxy (SOCKS5 without authentication,
// SOCKS4 and SOCKS4a; CONNECT only), enough to see that rpccall goes
// through -proxy with each scheme. It records each CONNECT it served.
type socks5 struct {
	addr string
	mu   sync.Mutex
	asks []string
}

func (p *socks5) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.asks...)
}

func startSOCKS5(t *testing.T) *socks5 {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &socks5{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	track := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			track(conn)
			wg.Add(1)
			go func() {
				defer wg.Done()
				if target := p.handshake(conn); target != nil {
					track(target)
					wg.Add(1)
					go func() {
						defer wg.Done()
						io.Copy(target, conn)
						target.Close()
					}()
					io.Copy(conn, target)
				}
				conn.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return p
}

// handshake serves a SOCKS5 or SOCKS4(a) CONNECT request and returns
// the connection to the target, or nil.
func (p *socks5) handshake(conn net.Conn) net.Conn {
	var version [1]byte
	if _, err := io.ReadFull(conn, version[:]); err != nil {
		return nil
	}
	var ask, target string
	var reply []byte
	switch version[0] {
	case 5:
		var n [1]byte
		if _, err := io.ReadFull(conn, n[:]); err != nil {
			return nil
		}
		if _, err := io.ReadFull(conn, make([]byte, n[0])); err != nil {
			return nil
		}
		if _, err := conn.Write([]byte{5, 0}); err != nil { // no authentication
			return nil
		}
		var req [4]byte
		if _, err := io.ReadFull(conn, req[:]); err != nil || req[1] != 1 {
			return nil
		}
		var host string
		switch req[3] {
		case 1:
			var ip [4]byte
			if _, err := io.ReadFull(conn, ip[:]); err != nil {
				return nil
			}
			host, ask = net.IP(ip[:]).String(), "SOCKS5 IPv4"
		case 3:
			var l [1]byte
			if _, err := io.ReadFull(conn, l[:]); err != nil {
				return nil
			}
			name := make([]byte, l[0])
			if _, err := io.ReadFull(conn, name); err != nil {
				return nil
			}
			host, ask = string(name), "SOCKS5 name"
		default:
			conn.Write([]byte{5, 8, 0, 1, 0, 0, 0, 0, 0, 0}) // address type not supported
			return nil
		}
		var port [2]byte
		if _, err := io.ReadFull(conn, port[:]); err != nil {
			return nil
		}
		target = net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(port[:]))))
		reply = []byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	case 4:
		var req [7]byte // command, port, IPv4
		if _, err := io.ReadFull(conn, req[:]); err != nil || req[0] != 1 {
			return nil
		}
		r := bufio.NewReader(io.LimitReader(conn, 512))
		if _, err := r.ReadString(0); err != nil { // user ID
			return nil
		}
		host := net.IP(req[3:7]).String()
		ask = "SOCKS4 IPv4"
		if req[3] == 0 && req[4] == 0 && req[5] == 0 && req[6] != 0 { // SOCKS4a: a name follows
			name, err := r.ReadString(0)
			if err != nil {
				return nil
			}
			host, ask = strings.TrimSuffix(name, "\x00"), "SOCKS4a name"
		}
		target = net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(req[1:3]))))
		reply = []byte{0, 90, 0, 0, 0, 0, 0, 0}
	default:
		return nil
	}
	p.mu.Lock()
	p.asks = append(p.asks, ask+" "+target)
	p.mu.Unlock()
	tc, err := net.DialTimeout("tcp", target, procWait)
	if err != nil {
		return nil
	}
	if _, err := conn.Write(reply); err != nil {
		tc.Close()
		return nil
	}
	return tc
}
