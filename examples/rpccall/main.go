// Rpccall is a command-line JSON-RPC client for any server that speaks
// newline-delimited JSON-RPC over TCP or a Unix socket: an Electrum
// server, an aiorpcX server, a gorpcx server and its admin interface
// (package admin). It shows the client side of gorpcx (server.Dialer,
// aiorpcX's connect_rs) with TLS, a proxy, the three dialects, calls
// and batches.
//
// Run it with
//
//	go run ./examples/rpccall [flags] ADDRESS method [params-json]
//	go run ./examples/rpccall [flags] -batch FILE ADDRESS
//
// ADDRESS is host:port for TCP, or unix:PATH for the Unix socket at
// PATH. For example, against examples/interop-server and its admin
// socket (-admin PATH), and an Electrum server:
//
//	go run ./examples/rpccall 127.0.0.1:50001 add '[2, 3]'
//	go run ./examples/rpccall unix:/run/app/admin.sock getinfo
//	go run ./examples/rpccall unix:/run/app/admin.sock disconnect '["203.0.113.0/24"]'
//	go run ./examples/rpccall -tls electrum.example.org:50002 server.version '["rpccall", "1.4"]'
//
// params-json is a JSON array (positional params) or object (named
// params); without it the request has no params. The result is printed
// on standard output as indented JSON. A batch file holds one request a
// line, "method [params-json]"; blank lines and lines starting with #
// are skipped; each result is printed on standard output and each error
// on standard error, numbered in the order of the file. JSON-RPC 1.0 has
// no batches: with -protocol v1 the requests are sent one by one.
//
// Flags:
//
//	-tls        connect with TLS, verifying the server's certificate
//	-insecure   with -tls, do not verify the certificate
//	-proxy URL  connect through a SOCKS proxy: socks5://, socks5h://,
//	            socks4:// or socks4a://, as user:pass@host:port (the h and
//	            a schemes let the proxy resolve the host name)
//	-protocol   v2, v1 or loose (v2)
//	-timeout D  bound on connecting and on waiting for the answer (30s)
//	-batch FILE send the requests of FILE as one batch ("-": standard input)
//	-max-message N
//	            largest answer read, in bytes (1000000; negative: no
//	            limit); a longer one is dropped and the call times out
//
// Exit status: 0 on success; 1 if the server answered with an error (to
// any request of a batch); 2 if the connection could not be made or was
// lost; 3 if no answer came within the timeout, or the answer was
// malformed; 64 for a bad command line.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// Exit statuses.
const (
	exitOK         = 0
	exitErrorReply = 1
	exitConnection = 2
	exitNoAnswer   = 3
	exitUsage      = 64
)

const (
	defaultTimeout = 30 * time.Second
	usageLine      = "usage: rpccall [flags] host:port|unix:PATH method [params-json]\n       rpccall [flags] -batch FILE host:port|unix:PATH"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// config is the parsed command line.
type config struct {
	network  string // "tcp" or "unix"
	address  string
	method   string
	params   json.RawMessage
	batch    []request // with -batch
	dialer   server.Dialer
	timeout  time.Duration
	protocol protocol.Dialect
}

// request is one request to send.
type request struct {
	method string
	params json.RawMessage // nil: none
}

// usageError is a bad command line. An empty message means the reason
// has already been printed.
type usageError struct{ msg string }

// Error returns the message.
func (e *usageError) Error() string { return e.msg }

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// parse reads the command line; stdin is read by -batch -.
func parse(args []string, stdin io.Reader, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("rpccall", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usageLine)
		fs.PrintDefaults()
	}
	useTLS := fs.Bool("tls", false, "connect with TLS")
	insecure := fs.Bool("insecure", false, "with -tls, do not verify the server's certificate")
	proxyURL := fs.String("proxy", "", "connect through the SOCKS proxy at `URL` (socks5://, socks5h://, socks4://, socks4a://)")
	dialect := fs.String("protocol", "v2", "JSON-RPC dialect: v2, v1 or loose")
	timeout := fs.Duration("timeout", defaultTimeout, "bound on connecting and on waiting for the answer")
	batchFile := fs.String("batch", "", "send the requests of `FILE` as one batch (- for standard input)")
	maxMessage := fs.Int("max-message", framing.DefaultMax, "largest answer read, in `bytes` (negative: no limit)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, &usageError{} // the flag package has printed the reason
	}

	cfg := &config{timeout: *timeout}
	d, err := protocol.ParseDialect(*dialect)
	if err != nil || d == protocol.Auto {
		return nil, usagef("-protocol must be v2, v1 or loose, not %q", *dialect)
	}
	cfg.protocol = d
	if *timeout <= 0 {
		return nil, usagef("-timeout must be positive, not %v", *timeout)
	}
	if *insecure && !*useTLS {
		return nil, usagef("-insecure is for -tls connections")
	}
	if *useTLS {
		cfg.dialer.TLS = &tls.Config{InsecureSkipVerify: *insecure}
	}
	if *proxyURL != "" {
		via, err := proxyDialer(*proxyURL)
		if err != nil {
			return nil, usagef("-proxy: %v", err)
		}
		cfg.dialer.Via = via
	}
	if *maxMessage == 0 {
		return nil, usagef("-max-message must not be 0 (negative: no limit)")
	}
	cfg.dialer.Framer = framing.Newline{Max: *maxMessage}
	cfg.dialer.Timeout = *timeout
	cfg.dialer.Options = session.Options{Dialect: cfg.protocol, RequestTimeout: *timeout}

	rest := fs.Args()
	if *batchFile != "" {
		if len(rest) != 1 {
			return nil, usagef("with -batch, give only host:port or unix:PATH")
		}
		reqs, err := readBatch(*batchFile, stdin, cfg.protocol)
		if err != nil {
			return nil, err
		}
		cfg.batch = reqs
		return cfg, cfg.setAddress(rest[0])
	}
	if len(rest) < 2 || len(rest) > 3 {
		return nil, usagef("give host:port or unix:PATH, a method and optionally params")
	}
	if err := cfg.setAddress(rest[0]); err != nil {
		return nil, err
	}
	cfg.method = rest[1]
	if len(rest) == 3 {
		p, err := parseParams(rest[2], cfg.protocol)
		if err != nil {
			return nil, usagef("params: %v", err)
		}
		cfg.params = p
	}
	return cfg, nil
}

// setAddress sets the network and address to dial from arg: unix:PATH
// for a Unix socket, else a TCP host:port.
func (cfg *config) setAddress(arg string) error {
	path, ok := strings.CutPrefix(arg, "unix:")
	if !ok {
		cfg.network, cfg.address = "tcp", arg
		return nil
	}
	switch {
	case path == "":
		return usagef("unix: needs the socket's path, as unix:/run/app/admin.sock")
	case cfg.dialer.Via != nil:
		return usagef("-proxy cannot carry a Unix socket connection")
	}
	cfg.network, cfg.address = "unix", path
	return nil
}

// parseParams checks that s is a JSON array or object (an array in
// JSON-RPC 1.0) and returns it.
func parseParams(s string, d protocol.Dialect) (json.RawMessage, error) {
	p := json.RawMessage(strings.TrimSpace(s))
	if !json.Valid(p) {
		return nil, fmt.Errorf("%.60q is not valid JSON", s)
	}
	switch {
	case p[0] == '[':
	case p[0] == '{' && d == protocol.V1:
		return nil, errors.New("JSON-RPC 1.0 has no named params: give an array")
	case p[0] == '{':
	default:
		return nil, fmt.Errorf("%.60s is not a JSON array or object", p)
	}
	return p, nil
}

// run makes the call or sends the batch the command line asks for and
// returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, err := parse(args, stdin, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(stderr, "rpccall:", msg)
			fmt.Fprintln(stderr, usageLine)
		}
		return exitUsage
	}

	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	client, err := cfg.dialer.Dial(ctx, cfg.network, cfg.address)
	if err != nil {
		fmt.Fprintf(stderr, "rpccall: cannot connect: %v\n", err)
		return exitConnection
	}
	defer client.Abort()

	if cfg.batch != nil {
		return sendBatch(ctx, client, cfg, stdout, stderr)
	}
	var params any
	if cfg.params != nil {
		params = cfg.params
	}
	var result json.RawMessage
	err = client.Call(ctx, cfg.method, params, &result)
	if err != nil {
		return report(stderr, "", err, cfg.timeout)
	}
	printResult(stdout, "", result)
	return exitOK
}

// printResult prints result as indented JSON, after prefix.
func printResult(w io.Writer, prefix string, result json.RawMessage) {
	var buf bytes.Buffer
	if err := json.Indent(&buf, result, "", "  "); err != nil {
		buf.Reset()
		buf.Write(result)
	}
	fmt.Fprintf(w, "%s%s\n", prefix, buf.Bytes())
}

// report prints the failure of a call after prefix and returns the exit
// status it calls for.
func report(stderr io.Writer, prefix string, err error, timeout time.Duration) int {
	var rpcErr *jsonrpc2.Error
	var pe *protocol.ProtocolError
	var ce *session.ConnectionError
	switch {
	case errors.As(err, &pe):
		// The session sets only Reply for a batch response that leaves
		// out this request.
		je := pe.Err
		if je == nil {
			je = pe.Reply
		}
		msg := pe.Error()
		if je != nil {
			msg = je.Message
		}
		fmt.Fprintf(stderr, "%smalformed response: %s\n", prefix, msg)
		return exitNoAnswer
	case errors.As(err, &rpcErr):
		fmt.Fprintf(stderr, "%serror %d: %s\n", prefix, rpcErr.Code, rpcErr.Message)
		if rpcErr.Data != nil {
			fmt.Fprintf(stderr, "%sdata: %s\n", prefix, *rpcErr.Data)
		}
		return exitErrorReply
	case errors.As(err, &ce):
		fmt.Fprintf(stderr, "%sconnection lost before the answer: %v\n", prefix, ce.Err)
		return exitConnection
	case errors.Is(err, context.DeadlineExceeded):
		fmt.Fprintf(stderr, "%sno answer within %v\n", prefix, timeout)
		return exitNoAnswer
	}
	fmt.Fprintf(stderr, "%s%v\n", prefix, err)
	return exitNoAnswer
}
