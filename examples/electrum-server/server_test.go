package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gorpcx/gorpcx/internal/realpeer"
	"github.com/gorpcx/gorpcx/internal/testcert"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// wait bounds every wait in these tests: a line of output, a reply, a
// process. It is generous, to avoid hangs only, never to measure
// anything.
const wait = 20 * time.Second

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testServer is the program's run, in this process, with its standard
// input, output and error in the test's hands.
type testServer struct {
	tcp, tls string // the addresses it printed
	stdin    io.WriteCloser
	lines    chan string // standard output after the listening lines
	log      *syncBuffer // standard error
	cancel   context.CancelFunc
	done     chan int // run's exit status
}

// startServer runs the program with args until the test ends, and
// waits for its listening lines (two when args has -tls-addr).
func startServer(t *testing.T, args ...string) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s := &testServer{stdin: inW, lines: make(chan string, 10_000), log: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	go func() {
		code := run(ctx, args, inR, outW, s.log)
		outW.Close()
		s.done <- code
	}()
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			select {
			case s.lines <- sc.Text():
			default: // nobody reads that many; drop
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		inW.Close()
		select {
		case code := <-s.done:
			if code != 0 {
				t.Errorf("run returned %d\n%s", code, s.log.String())
			}
		case <-time.After(wait):
			t.Errorf("run did not return within %v of its context's end", wait)
		}
		for range s.lines {
		}
	})
	s.tcp = strings.TrimPrefix(s.line(t), "listening on ")
	for _, a := range args {
		if a == "-tls-addr" {
			s.tls = strings.TrimPrefix(s.line(t), "listening on ")
		}
	}
	return s
}

// line returns the next line of standard output.
func (s *testServer) line(t *testing.T) string {
	t.Helper()
	select {
	case l, ok := <-s.lines:
		if !ok {
			t.Fatalf("standard output ended early\n%s", s.log.String())
		}
		return l
	case <-time.After(wait):
		t.Fatalf("no line on standard output within %v\n%s", wait, s.log.String())
	}
	return ""
}

// command writes a line to the program's standard input.
func (s *testServer) command(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(s.stdin, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

// blockLine reads a "block HEIGHT HASH" line and returns its fields.
func (s *testServer) blockLine(t *testing.T) (int, string) {
	t.Helper()
	l := s.line(t)
	f := strings.Fields(l)
	if len(f) != 3 || f[0] != "block" {
		t.Fatalf("line %q is not a block", l)
	}
	height, err := strconv.Atoi(f[1])
	if err != nil {
		t.Fatalf("line %q: %v", l, err)
	}
	return height, f[2]
}

// message is a JSON-RPC message as the server sends it.
type message struct {
	ID     *int            `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// rpcConn is a raw JSON-RPC connection to the server, as a wallet has.
type rpcConn struct {
	t     *testing.T
	conn  net.Conn
	r     *bufio.Reader
	next  int
	notes []message // notifications read while waiting for replies
}

// dial connects to addr, over TLS with conf when it is not nil.
func dial(t *testing.T, addr string, conf *tls.Config) *rpcConn {
	t.Helper()
	d := net.Dialer{Timeout: wait}
	var conn net.Conn
	var err error
	if conf != nil {
		conn, err = tls.DialWithDialer(&d, "tcp", addr, conf)
	} else {
		conn, err = d.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rpcConn{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// read returns the next message, or io.EOF once the server has closed
// the connection.
func (c *rpcConn) read() (message, error) {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(wait))
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		return message{}, err
	}
	var m message
	if err := json.Unmarshal(line, &m); err != nil {
		c.t.Fatalf("bad message %q: %v", line, err)
	}
	return m, nil
}

// call sends a request (params raw JSON, or "" for none at all) and
// returns its reply; notifications read meanwhile are kept in c.notes.
func (c *rpcConn) call(method, params string) message {
	c.t.Helper()
	id := c.next
	c.next++
	req := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q`, id, method)
	if params != "" {
		req += `,"params":` + params
	}
	if _, err := io.WriteString(c.conn, req+"}\n"); err != nil {
		c.t.Fatal(err)
	}
	for {
		m, err := c.read()
		if err != nil {
			c.t.Fatalf("%s %s: %v", method, params, err)
		}
		if m.ID == nil {
			c.notes = append(c.notes, m)
			continue
		}
		if *m.ID != id {
			c.t.Fatalf("%s: reply to id %d, want %d", method, *m.ID, id)
		}
		return m
	}
}

// notification returns the next notification.
func (c *rpcConn) notification() message {
	c.t.Helper()
	if len(c.notes) > 0 {
		m := c.notes[0]
		c.notes = c.notes[1:]
		return m
	}
	m, err := c.read()
	if err != nil {
		c.t.Fatalf("waiting for a notification: %v", err)
	}
	if m.ID != nil {
		c.t.Fatalf("a reply to %d, not a notification", *m.ID)
	}
	return m
}

// compact returns s, JSON, without white space.
func compact(t *testing.T, s []byte) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, s); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return b.String()
}

// headerHex returns the hex of c's header at height.
func headerHex(c *chain, height int) string {
	h, _ := c.header(height)
	return hex.EncodeToString(h[:])
}

func TestMethods(t *testing.T) {
	s := startServer(t, "-height", "10", "-tls-addr", "127.0.0.1:0")
	c, _ := newChain(10)
	branch, root := naiveProof(c, 3, 10)
	var branchHex []string
	for _, h := range branch {
		branchHex = append(branchHex, h.String())
	}
	proof, _ := json.Marshal(map[string]any{"branch": branchHex, "header": headerHex(c, 3), "root": root.String()})
	branch, root = naiveProof(c, 9, 10)
	branchHex = branchHex[:0]
	for _, h := range branch {
		branchHex = append(branchHex, h.String())
	}
	chunkProof, _ := json.Marshal(headersResult{Count: 2, Hex: headerHex(c, 8) + headerHex(c, 9), Max: 2016, Branch: branchHex, Root: root.String()})
	scripthash := strings.Repeat("ab", 32)
	_, tcpPort, _ := net.SplitHostPort(s.tcp)
	_, tlsPort, _ := net.SplitHostPort(s.tls)
	all := ""
	for i := range 11 {
		all += headerHex(c, i)
	}

	tests := []struct {
		method, params string
		want           string // the result, compact JSON
		code           int    // else the error code
	}{
		{"server.version", `["electrum/4.3.4","1.4"]`, `["gorpcx-electrum-example 1.0","1.4"]`, 0},
		{"server.version", `["electrum/4.3.4","1.4"]`, "", codeBadRequest}, // once per session
		{"blockchain.headers.subscribe", "", `{"height":10,"hex":"` + headerHex(c, 10) + `"}`, 0},
		{"blockchain.headers.subscribe", "[]", `{"height":10,"hex":"` + headerHex(c, 10) + `"}`, 0},
		{"blockchain.block.header", "[3]", `"` + headerHex(c, 3) + `"`, 0},
		{"blockchain.block.header", `{"height":0}`, `"` + regtestGenesisHex + `"`, 0},
		{"blockchain.block.header", "[3,0]", `"` + headerHex(c, 3) + `"`, 0},
		{"blockchain.block.header", "[3,10]", string(proof), 0},
		{"blockchain.block.header", "[11]", "", codeBadRequest},
		{"blockchain.block.header", "[-1]", "", codeBadRequest},
		{"blockchain.block.header", "[3,2]", "", codeBadRequest},
		{"blockchain.block.header", "[3,11]", "", codeBadRequest},
		{"blockchain.block.header", `["x"]`, "", -32602},
		{"blockchain.block.header", "", "", -32602},
		{"blockchain.block.headers", "[8,5]", `{"count":3,"hex":"` + headerHex(c, 8) + headerHex(c, 9) + headerHex(c, 10) + `","max":2016}`, 0},
		{"blockchain.block.headers", "[0,5000]", `{"count":11,"hex":"` + all + `","max":2016}`, 0},
		{"blockchain.block.headers", "[8,2,10]", string(chunkProof), 0},
		{"blockchain.block.headers", "[11,1]", `{"count":0,"hex":"","max":2016}`, 0},
		{"blockchain.block.headers", "[-1,1]", "", codeBadRequest},
		{"blockchain.estimatefee", "[25]", "0.00001", 0},
		{"blockchain.estimatefee", "[2]", "0.00012", 0},
		{"blockchain.estimatefee", `[2,"CONSERVATIVE"]`, "0.00012", 0},
		{"blockchain.estimatefee", "[0]", "", codeBadRequest},
		{"blockchain.estimatefee", `[2,"FAST"]`, "", codeBadRequest},
		{"blockchain.relayfee", "", "0.00001", 0},
		{"mempool.get_fee_histogram", "", "[]", 0},
		{"server.banner", "", strconv.Quote(banner), 0},
		{"server.donation_address", "", `""`, 0},
		{"server.peers.subscribe", "", "[]", 0},
		{"server.ping", "", "null", 0},
		{"server.features", "", `{"genesis_hash":"0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206","hosts":{"127.0.0.1":{"tcp_port":` + tcpPort + `,"ssl_port":` + tlsPort + `}},"protocol_max":"1.4","protocol_min":"1.4","pruning":null,"server_version":"gorpcx-electrum-example 1.0","hash_function":"sha256"}`, 0},
		{"blockchain.scripthash.subscribe", `["` + scripthash + `"]`, "null", 0},
		{"blockchain.scripthash.subscribe", `["` + scripthash + `"]`, "null", 0}, // again: no change
		{"blockchain.scripthash.subscribe", `["zz"]`, "", codeBadRequest},
		{"blockchain.scripthash.subscribe", `["` + strings.Repeat("g", 64) + `"]`, "", codeBadRequest},
		{"blockchain.scripthash.unsubscribe", `["` + scripthash + `"]`, "true", 0},
		{"blockchain.scripthash.unsubscribe", `["` + scripthash + `"]`, "false", 0},
		{"blockchain.scripthash.get_history", `["` + scripthash + `"]`, "[]", 0},
		{"blockchain.scripthash.get_balance", `["` + scripthash + `"]`, `{"confirmed":0,"unconfirmed":0}`, 0},
		{"blockchain.scripthash.listunspent", `["` + scripthash + `"]`, "[]", 0},
		{"blockchain.scripthash.listunspent", `[1]`, "", -32602},
		{"blockchain.transaction.get", `["00"]`, "", -32601},
	}
	for _, conf := range []*tls.Config{nil, {InsecureSkipVerify: true}} {
		addr := s.tcp
		if conf != nil {
			addr = s.tls
		}
		conn := dial(t, addr, conf)
		for _, tt := range tests {
			m := conn.call(tt.method, tt.params)
			switch {
			case tt.code != 0 && m.Error == nil:
				t.Errorf("%s: %s %s = %s, want error %d", addr, tt.method, tt.params, m.Result, tt.code)
			case tt.code != 0 && m.Error.Code != tt.code:
				t.Errorf("%s: %s %s: error %d %q, want %d", addr, tt.method, tt.params, m.Error.Code, m.Error.Message, tt.code)
			case tt.code == 0 && m.Error != nil:
				t.Errorf("%s: %s %s: error %d %q", addr, tt.method, tt.params, m.Error.Code, m.Error.Message)
			case tt.code == 0 && compact(t, m.Result) != tt.want:
				t.Errorf("%s: %s %s = %s, want %s", addr, tt.method, tt.params, compact(t, m.Result), tt.want)
			}
		}
	}
}

func TestVersionNegotiation(t *testing.T) {
	s := startServer(t)
	tests := []struct {
		params string
		ok     bool
	}{
		{`["electrum/4.3.4","1.4"]`, true},
		{`["electrum/4.3.4",["1.2","1.4.2"]]`, true},
		{`["electrum/4.3.4",["1.4","1.4"]]`, true},
		{`["electrum/4.3.4"]`, true},
		{`[]`, true},
		{`{"client_name":"x","protocol_version":"1.4"}`, true},
		{`["electrum/4.3.4",["1.5","1.6"]]`, false},
		{`["electrum/4.3.4","1.3"]`, false},
		{`["electrum/4.3.4","1.x"]`, false},
		{`["electrum/4.3.4",["1.4"]]`, false},
		{`["electrum/4.3.4",14]`, false},
	}
	for _, tt := range tests {
		conn := dial(t, s.tcp, nil)
		m := conn.call("server.version", tt.params)
		if tt.ok {
			if m.Error != nil || compact(t, m.Result) != `["gorpcx-electrum-example 1.0","1.4"]` {
				t.Errorf("server.version %s = %s %+v, want 1.4", tt.params, m.Result, m.Error)
			}
			continue
		}
		if m.Error == nil || m.Error.Code != codeBadRequest {
			t.Errorf("server.version %s = %s %+v, want error %d", tt.params, m.Result, m.Error, codeBadRequest)
			continue
		}
		// An unsupported version closes the connection after the reply.
		if m, err := conn.read(); err != io.EOF {
			t.Errorf("server.version %s: after the error, %+v %v, want EOF", tt.params, m, err)
		}
	}
}

// checkTip checks that the notification m carries the tip at height,
// whose hash the program printed.
func checkTip(t *testing.T, m message, height int, hash string) {
	t.Helper()
	if m.Method != "blockchain.headers.subscribe" {
		t.Fatalf("notification %s, want blockchain.headers.subscribe", m.Method)
	}
	var params []tipResult
	if err := json.Unmarshal(m.Params, &params); err != nil || len(params) != 1 {
		t.Fatalf("notification params %s: %v", m.Params, err)
	}
	var h header
	if n, err := hex.Decode(h[:], []byte(params[0].Hex)); err != nil || n != headerSize {
		t.Fatalf("notification header %q: %v", params[0].Hex, err)
	}
	if params[0].Height != height || h.hash().String() != hash {
		t.Fatalf("notification of %d %s, want %d %s", params[0].Height, h.hash(), height, hash)
	}
}

func TestHeadersPushed(t *testing.T) {
	s := startServer(t, "-height", "5", "-tls-addr", "127.0.0.1:0", "-log", "debug")
	conns := []*rpcConn{dial(t, s.tcp, nil), dial(t, s.tls, &tls.Config{InsecureSkipVerify: true})}
	for _, c := range conns {
		if m := c.call("blockchain.headers.subscribe", ""); m.Error != nil {
			t.Fatal(m.Error)
		}
	}
	s.command(t, "mine 2")
	var hashes []string
	for want := 6; want <= 7; want++ {
		height, hash := s.blockLine(t)
		if height != want {
			t.Fatalf("mined block %d, want %d", height, want)
		}
		hashes = append(hashes, hash)
	}
	for _, c := range conns {
		// Keep-latest may replace a tip not yet written by the next one:
		// the last notification is the tip, those before it in order.
		last := 5
		for last < 7 {
			m := c.notification()
			var params []tipResult
			if err := json.Unmarshal(m.Params, &params); err != nil || len(params) != 1 || params[0].Height <= last {
				t.Fatalf("notification %s after height %d", m.Params, last)
			}
			last = params[0].Height
			checkTip(t, m, last, hashes[last-6])
		}
		// The pushed header builds on the one before.
		m := c.call("blockchain.block.header", "[6]")
		var prev header
		var prevHex string
		if err := json.Unmarshal(m.Result, &prevHex); err != nil {
			t.Fatal(err)
		}
		hex.Decode(prev[:], []byte(prevHex))
		if prev.hash().String() != hashes[0] {
			t.Fatalf("header 6 has hash %s, want %s", prev.hash(), hashes[0])
		}
	}
}

func TestCommands(t *testing.T) {
	s := startServer(t, "-height", "0", "-log", "debug")
	for _, bad := range []string{"bogus", "mine 0", "mine x", "mine 2017", "mine 1 2"} {
		s.command(t, bad)
	}
	s.command(t, "")
	s.command(t, "mine")
	s.command(t, "  mine   3 ")
	for want := 1; want <= 4; want++ {
		if height, _ := s.blockLine(t); height != want {
			t.Fatalf("block %d, want %d", height, want)
		}
	}
	log := s.log.String()
	if got := strings.Count(log, "WARN\tcommand"); got != 5 {
		t.Fatalf("%d warnings about commands, want 5\n%s", got, log)
	}
}

func TestMineEvery(t *testing.T) {
	s := startServer(t, "-height", "3", "-mine-every", "20ms")
	for want := 4; want <= 6; want++ {
		if height, _ := s.blockLine(t); height != want {
			t.Fatalf("block %d, want %d", height, want)
		}
	}
}

// writeKeyPair writes a certificate and its key as PEM files and
// returns their paths.
func writeKeyPair(t *testing.T, cert tls.Certificate) (string, string) {
	t.Helper()
	dir := t.TempDir()
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestTLSCertificateFiles(t *testing.T) {
	cert, pool := testcert.New(t)
	certFile, keyFile := writeKeyPair(t, cert)
	s := startServer(t, "-tls-addr", "127.0.0.1:0", "-tls-cert", certFile, "-tls-key", keyFile)
	conn := dial(t, s.tls, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if m := conn.call("server.ping", ""); m.Error != nil || string(m.Result) != "null" {
		t.Fatalf("server.ping = %s %+v", m.Result, m.Error)
	}
}

func TestBadCommandLine(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.pem")
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"-h"}, 0},
		{[]string{"-bogus"}, 2},
		{[]string{"extra"}, 2},
		{[]string{"-addr", ""}, 2},
		{[]string{"-tls-cert", "c.pem"}, 2},
		{[]string{"-tls-cert", "c.pem", "-tls-key", "k.pem"}, 2},
		{[]string{"-height", "-1"}, 2},
		{[]string{"-height", "1000001"}, 2},
		{[]string{"-mine-every", "1ms"}, 2},
		{[]string{"-mine-every", "-1s"}, 2},
		{[]string{"-log", "loud"}, 2},
		{[]string{"-tls-addr", "127.0.0.1:0", "-tls-cert", missing, "-tls-key", missing}, 1},
		{[]string{"-addr", "127.0.0.1:notaport"}, 1},
	}
	for _, tt := range tests {
		var stderr syncBuffer
		code := run(context.Background(), tt.args, nil, io.Discard, &stderr)
		if code != tt.code {
			t.Errorf("run %q = %d, want %d\n%s", tt.args, code, tt.code, stderr.String())
		}
	}
}

// Two nodes joined through a real nats-server: a block mined on one
// reaches the other's chain and its subscribed wallet.
func TestFleetThroughNATS(t *testing.T) {
	nats := realpeer.StartNATS(t)
	a := startServer(t, "-height", "5", "-nats", nats.URL)
	b := startServer(t, "-height", "5", "-nats", nats.URL)
	wallet := dial(t, b.tcp, nil)
	if m := wallet.call("blockchain.headers.subscribe", ""); m.Error != nil {
		t.Fatal(m.Error)
	}
	a.command(t, "mine")
	height, hash := a.blockLine(t)
	if height != 6 {
		t.Fatalf("node a mined block %d, want 6", height)
	}
	// Node b appends it and prints it as its own new block.
	if h, got := b.blockLine(t); h != 6 || got != hash {
		t.Fatalf("node b added block %d %s, want 6 %s", h, got, hash)
	}
	checkTip(t, wallet.notification(), 6, hash)
}
