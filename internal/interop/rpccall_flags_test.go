package interop

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gorpcx/gorpcx/internal/testcert"
	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// TestRPCCallCommandLine runs rpccall for the defects of issue 16: -h
// without the batch file's format, a JSON array batch sent as a method
// name, -protocol auto refused, flags after the address taken for
// arguments.
func TestRPCCallCommandLine(t *testing.T) {
	t.Parallel()
	v2 := startGoServer(t, protocol.V2, 0).Addr().String()
	v1 := startGoServer(t, protocol.V1, 0).Addr().String()
	runRPCCall(t, []rpccallCase{{
		name:   "help documents the batch file",
		args:   []string{"-h"},
		stderr: "a file starting with [ is one JSON array of request objects",
	}, {
		name: "JSON array batch",
		args: []string{"-batch", "-", v2},
		stdin: `[{"jsonrpc": "2.0", "id": 1, "method": "echo", "params": ["one"]},
			{"jsonrpc": "2.0", "method": "echo", "params": ["a notification"]},
			{"jsonrpc": "2.0", "id": "x", "method": "add", "params": {"a": 1, "b": 2}}]`,
		stdout: "#1 echo: \"one\"\n#3 add: 3\n",
	}, {
		name:   "JSON array batch in 1.0",
		args:   []string{"-protocol", "v1", "-batch", "-", v1},
		stdin:  `[{"id": 1, "method": "add", "params": [1, 2]}, {"method": "echo", "params": [0]}, {"id": 2, "method": "echo", "params": [7]}]`,
		stdout: "#1 add: 3\n#3 echo: 7\n",
	}, {
		name:   "JSON array batch element without a method",
		args:   []string{"-batch", "-", v2},
		stdin:  `[{"id": 1, "params": []}]`,
		code:   64,
		stderr: `element 1 is not a request object with a "method" string`,
	}, {
		name:   "JSON line in a batch of lines",
		args:   []string{"-batch", "-", v2},
		stdin:  "echo [1]\n{\"method\": \"echo\"}\n",
		code:   64,
		stderr: "-:2: a line starts with a method name, not JSON",
	}, {
		name:   "auto against 2.0",
		args:   []string{"-protocol", "auto", v2, "echo", `{"value": "two"}`},
		stdout: "\"two\"\n",
	}, {
		name:   "auto against 1.0",
		args:   []string{"-protocol", "auto", v1, "add", "[1, 2]"},
		stdout: "3\n",
	}, {
		name:   "auto against 1.0, an error",
		args:   []string{"-protocol", "auto", v1, "fail", `[4, "four"]`},
		code:   1,
		stderr: "error 4: four\n",
	}, {
		name:   "flag after the arguments",
		args:   []string{v2, "echo", "[1]", "-timeout", "1s"},
		code:   64,
		stderr: "flag -timeout comes after the address: flags go first",
	}, {
		name:   "flag with a value after the address",
		args:   []string{v2, "--protocol=v1", "echo"},
		code:   64,
		stderr: "flag --protocol=v1 comes after the address",
	}, {
		name:   "-h after the address",
		args:   []string{v2, "-h"},
		code:   64,
		stderr: "flag -h comes after the address",
	}, {
		name:   "-watch with -batch",
		args:   []string{"-watch", "-batch", "-", v2},
		code:   64,
		stderr: "-watch and -batch do not go together",
	}})
}

// TestRPCCallTLSPlainPort runs rpccall -tls against plain TCP ports: one
// that answers the TLS hello with a JSON-RPC parse error, one that
// never answers. Both fail at once (or within -tls-timeout) with a hint;
// rpccall used to wait for -timeout.
func TestRPCCallTLSPlainPort(t *testing.T) {
	t.Parallel()
	answering := plainListener(t, []byte(`{"jsonrpc": "2.0", "error": {"code": -32700, "message": "parse error"}, "id": null}`+"\n"))
	silent := plainListener(t, nil)
	runRPCCall(t, []rpccallCase{{
		name:   "a plain port that answers",
		args:   []string{"-tls", answering, "echo", "[1]"},
		code:   2,
		stderr: "rpccall: hint: " + answering + " answered, but not with TLS: it looks like a plain TCP port (try without -tls)",
	}, {
		name:   "a plain port that does not answer",
		args:   []string{"-tls", "-tls-timeout", "300ms", silent, "echo", "[1]"},
		code:   2,
		stderr: "no TLS answer within 300ms (-tls-timeout)",
	}})
}

// plainListener listens on a TCP port that reads the first bytes of
// each connection and answers them with reply (nil: nothing), then
// holds the connection until the peer closes it.
func plainListener(t *testing.T, reply []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				r := bufio.NewReader(conn)
				if _, err := r.Peek(1); err != nil {
					return
				}
				if reply != nil {
					conn.Write(reply)
				}
				r.WriteTo(discard{})
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

// discard is io.Discard without its ReaderFrom, which bufio would use.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestRPCCallCA runs rpccall -tls -ca against a server with a
// self-signed certificate.
func TestRPCCallCA(t *testing.T) {
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
	dir := t.TempDir()
	caFile := filepath.Join(dir, "server.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	otherCert, _ := testcert.New(t)
	otherFile := filepath.Join(dir, "other.pem")
	if err := os.WriteFile(otherFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: otherCert.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runRPCCall(t, []rpccallCase{{
		name:   "trusted with -ca",
		args:   []string{"-tls", "-ca", caFile, addr, "echo", `["trusted"]`},
		stdout: "\"trusted\"\n",
	}, {
		name:   "another certificate",
		args:   []string{"-tls", "-ca", otherFile, addr, "echo", "[1]"},
		code:   2,
		stderr: "rpccall: hint: for a server with a self-signed certificate, trust it with -ca FILE",
	}, {
		name:   "untrusted, with the hint",
		args:   []string{"-tls", addr, "echo", "[1]"},
		code:   2,
		stderr: "trust it with -ca FILE (its PEM certificate), or skip verification with -insecure",
	}, {
		name:   "not PEM",
		args:   []string{"-tls", "-ca", notPEM, addr, "echo"},
		code:   64,
		stderr: "no PEM certificate in it",
	}, {
		name:   "-ca without -tls",
		args:   []string{"-ca", caFile, addr, "echo"},
		code:   64,
		stderr: "-ca is for -tls connections",
	}, {
		name:   "-ca with -insecure",
		args:   []string{"-tls", "-insecure", "-ca", caFile, addr, "echo"},
		code:   64,
		stderr: "-ca and -insecure do not go together",
	}})
}
