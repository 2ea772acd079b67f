// Rpccall is a command-line JSON-RPC client for any server that speaks
// newline-delimited JSON-RPC over TCP or a Unix socket: an Electrum
// server, an aiorpcX server, a gorpcx server and its admin interface
// (package admin). It shows the client side of gorpcx (transport.Dialer,
// session.New, aiorpcX's connect_rs) with TLS, a proxy, the dialects,
// calls, batches and a subscription watched across reconnections.
//
// Run it with
//
//	go run ./examples/rpccall [flags] ADDRESS METHOD [PARAMS]
//	go run ./examples/rpccall [flags] -batch FILE ADDRESS
//	go run ./examples/rpccall -watch [flags] ADDRESS METHOD [PARAMS]
//
// ADDRESS is host:port for TCP, or unix:PATH for the Unix socket at
// PATH. Flags go before ADDRESS: a flag after it is refused with an
// error that names it. For example, against examples/interop-server
// and its admin socket (-admin PATH), and an Electrum server:
//
//	go run ./examples/rpccall 127.0.0.1:50001 add '[2, 3]'
//	go run ./examples/rpccall unix:/run/app/admin.sock getinfo
//	go run ./examples/rpccall unix:/run/app/admin.sock disconnect '["203.0.113.0/24"]'
//	go run ./examples/rpccall -tls electrum.example.org:50002 server.version '["rpccall", "1.4"]'
//	go run ./examples/rpccall -tls -ca server.pem 127.0.0.1:50002 server.banner
//	go run ./examples/rpccall -watch 127.0.0.1:50001 blockchain.headers.subscribe
//
// PARAMS is a JSON array (positional params) or object (named params);
// without it the request has no params. The result is printed on
// standard output as indented JSON.
//
// # Batches
//
// A batch file (-batch FILE, "-" for standard input) has one of two
// forms, told apart by its first character other than white space:
//
//   - lines: one request a line, "METHOD [PARAMS]"; blank lines and
//     lines starting with # are skipped. A line starting with [ or { is
//     refused (a method name comes first).
//   - JSON (the file starts with [): one JSON array of request objects,
//     as a JSON-RPC batch is written. Each element's "method" and
//     "params" are sent; its "id" and "jsonrpc" are not, as rpccall
//     numbers its requests itself. An element without "id" is sent as
//     a notification and has no outcome to print.
//
// Each result is printed on standard output and each error on standard
// error, after "#N METHOD: ", N being the request's place in the file.
// JSON-RPC 1.0 has no batches: with -protocol v1 the requests are sent
// one by one.
//
// # Watching a subscription
//
// With -watch, rpccall calls METHOD (a subscription such as Electrum's
// blockchain.headers.subscribe), prints {"result": RESULT} as one line
// of JSON, then prints every notification the server sends as one line
// {"method": METHOD, "params": PARAMS}, in the order received, until it
// gets SIGINT or SIGTERM (exit status 0). When the connection cannot be
// made or is lost, it says so on standard error and tries again after a
// back-off (a client.Client: a random wait below a bound that doubles
// from 250ms up to -backoff-max, 30s; a connection that lasted longer
// than -backoff-max is retried at once); once connected it calls METHOD
// again, prints the new result line and goes on. It gives up only
// when the server answers METHOD with an error (status 1) or a
// malformed response (3), or when TLS cannot work (the certificate is
// not trusted or the port does not speak TLS, status 2). Notifications
// sent while it was disconnected are lost: the new result is the state
// to reconcile with.
//
// # TLS
//
// -tls verifies the server's certificate against the system's roots, or
// against the certificates of -ca FILE (PEM; a self-signed server
// certificate itself, as Electrum servers mostly have, will do).
// -insecure skips verification, with a warning on standard error. The
// TLS handshake must be done within -tls-timeout (5s) of connecting: a
// plain TCP port either answers the TLS hello with something that is
// not TLS (reported at once) or not at all (reported after
// -tls-timeout), both with a hint to drop -tls.
//
// # Dialects
//
// -protocol v2 (the default), v1 or loose set the dialect; auto writes
// 2.0 and reads whatever the server's first answer is (2.0 or 1.0) in
// that dialect from then on, as aiorpcX's JSONRPCAutoDetect does. A
// strict 1.0 server may refuse the 2.0 request: use -protocol v1 for it.
// With auto, a batch is sent as a 2.0 batch.
//
// Flags:
//
//	-tls        connect with TLS, verifying the server's certificate
//	-ca FILE    with -tls, trust the PEM certificates of FILE instead of
//	            the system's roots
//	-insecure   with -tls, do not verify the certificate (warns)
//	-tls-timeout D
//	            bound on the TLS handshake once connected (5s)
//	-proxy URL  connect through a SOCKS proxy: socks5://, socks5h://,
//	            socks4:// or socks4a://, as user:pass@host:port (the h and
//	            a schemes let the proxy resolve the host name)
//	-protocol   v2, v1, loose or auto (v2)
//	-timeout D  bound on connecting and on waiting for an answer (30s)
//	-batch FILE send the requests of FILE as one batch ("-": standard input)
//	-watch      call METHOD, then print its notifications, reconnecting
//	-backoff-max D
//	            with -watch, the longest wait between attempts (30s)
//	-max-message N
//	            largest answer read, in bytes (1000000; negative: no
//	            limit); a longer one is dropped and the call times out
//
// Exit status: 0 on success (and for -watch, after SIGINT or SIGTERM);
// 1 if the server answered with an error (to any request of a batch);
// 2 if the connection could not be made or was lost; 3 if no answer
// came within the timeout, or the answer was malformed; 64 for a bad
// command line.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/protocol"
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
	defaultTimeout    = 30 * time.Second
	defaultTLSTimeout = 5 * time.Second
	defaultBackoffMax = 30 * time.Second
	usageLine         = "usage: rpccall [flags] host:port|unix:PATH METHOD [PARAMS]\n" +
		"       rpccall [flags] -batch FILE host:port|unix:PATH\n" +
		"       rpccall -watch [flags] host:port|unix:PATH METHOD [PARAMS]"
)

// usageText follows usageLine in -h.
const usageText = `
Flags go before the address. PARAMS is a JSON array (positional params)
or an object (named params).

Batch file (-batch FILE, "-" for standard input), in one of two forms:
  lines  one request a line, METHOD [PARAMS]; blank lines and lines
         starting with # are skipped:
           server.version ["rpccall", "1.4"]
           blockchain.block.header [5]
  JSON   a file starting with [ is one JSON array of request objects:
           [{"jsonrpc": "2.0", "id": 1, "method": "server.version",
             "params": ["rpccall", "1.4"]},
            {"jsonrpc": "2.0", "method": "server.ping"}]
         "method" and "params" are sent; "id" and "jsonrpc" are not
         (rpccall numbers the requests); an element without "id" is a
         notification.
Results go to standard output, errors to standard error, each after
"#N METHOD: ", N the request's place in the file.

-watch calls METHOD, prints {"result": ...} on one line, then every
notification as one line {"method": ..., "params": ...} until SIGINT or
SIGTERM (exit 0). A lost connection is made again after a back-off
(a random wait below 250ms doubling up to -backoff-max), and METHOD is
called again (a new result line).

-protocol auto writes JSON-RPC 2.0 and reads the server's answers in the
dialect of its first one (2.0 or 1.0).

Exit status: 0 success; 1 the server answered with an error; 2 no
connection or connection lost; 3 no answer in time or a malformed
answer; 64 bad command line.

Flags:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// config is the parsed command line.
type config struct {
	method     string
	params     json.RawMessage
	batch      []request // with -batch
	dial       dialer
	timeout    time.Duration
	protocol   protocol.Dialect
	watch      bool
	backoffMax time.Duration
}

// request is one request to send.
type request struct {
	method string
	params json.RawMessage // nil: none
	notify bool            // a notification: no outcome
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

// parse reads the command line; stdin is read by -batch -, and the
// warning of -insecure is written to stderr.
func parse(args []string, stdin io.Reader, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("rpccall", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageLine, "\n", usageText)
		fs.PrintDefaults()
	}
	useTLS := fs.Bool("tls", false, "connect with TLS")
	caFile := fs.String("ca", "", "with -tls, trust the PEM certificates of `FILE` (a CA or the server's own) instead of the system's roots")
	insecure := fs.Bool("insecure", false, "with -tls, do not verify the server's certificate (warns)")
	tlsTimeout := fs.Duration("tls-timeout", defaultTLSTimeout, "bound on the TLS handshake once connected")
	proxyURL := fs.String("proxy", "", "connect through the SOCKS proxy at `URL` (socks5://, socks5h://, socks4://, socks4a://)")
	dialect := fs.String("protocol", "v2", "JSON-RPC dialect: v2, v1, loose or auto")
	timeout := fs.Duration("timeout", defaultTimeout, "bound on connecting and on waiting for an answer")
	batchFile := fs.String("batch", "", "send the requests of `FILE` as one batch (- for standard input; format above)")
	watch := fs.Bool("watch", false, "call METHOD, then print its notifications, reconnecting when the connection is lost")
	backoffMax := fs.Duration("backoff-max", defaultBackoffMax, "with -watch, the longest wait between connection attempts")
	maxMessage := fs.Int("max-message", framing.DefaultMax, "largest answer read, in `bytes` (negative: no limit)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, &usageError{} // the flag package has printed the reason
	}
	rest := fs.Args()
	if err := misplacedFlag(fs, rest); err != nil {
		return nil, err
	}

	cfg := &config{timeout: *timeout, watch: *watch, backoffMax: *backoffMax}
	d, err := protocol.ParseDialect(*dialect)
	if err != nil {
		return nil, usagef("-protocol must be v2, v1, loose or auto, not %q", *dialect)
	}
	cfg.protocol = d
	switch {
	case *timeout <= 0:
		return nil, usagef("-timeout must be positive, not %v", *timeout)
	case *tlsTimeout <= 0:
		return nil, usagef("-tls-timeout must be positive, not %v", *tlsTimeout)
	case *backoffMax < minBackoff:
		return nil, usagef("-backoff-max must be at least %v, not %v", minBackoff, *backoffMax)
	case *insecure && !*useTLS:
		return nil, usagef("-insecure is for -tls connections")
	case *caFile != "" && !*useTLS:
		return nil, usagef("-ca is for -tls connections")
	case *caFile != "" && *insecure:
		return nil, usagef("-ca and -insecure do not go together: -insecure checks nothing")
	case *watch && *batchFile != "":
		return nil, usagef("-watch and -batch do not go together")
	case *maxMessage == 0:
		return nil, usagef("-max-message must not be 0 (negative: no limit)")
	}
	if *useTLS {
		cfg.dial.tls = &tls.Config{InsecureSkipVerify: *insecure}
		cfg.dial.tlsTimeout = *tlsTimeout
		if *caFile != "" {
			pool, err := loadCA(*caFile)
			if err != nil {
				return nil, err
			}
			cfg.dial.tls.RootCAs = pool
		}
		if *insecure {
			fmt.Fprintln(stderr, "rpccall: warning: -insecure: the server's certificate is not verified, so anyone on the way can read and change this connection")
		}
	}
	if *proxyURL != "" {
		via, err := proxyDialer(*proxyURL)
		if err != nil {
			return nil, usagef("-proxy: %v", err)
		}
		cfg.dial.transport.Via = via
	}
	cfg.dial.framer = framing.Newline{Max: *maxMessage}
	cfg.dial.transport.Timeout = *timeout
	cfg.dial.opts = session.Options{Dialect: cfg.protocol, RequestTimeout: *timeout}

	if *batchFile != "" {
		if len(rest) != 1 {
			return nil, usagef("with -batch, give only host:port or unix:PATH")
		}
		reqs, err := readBatch(*batchFile, stdin, cfg.protocol)
		if err != nil {
			return nil, err
		}
		cfg.batch = reqs
		return cfg, cfg.dial.setAddress(rest[0])
	}
	if len(rest) < 2 || len(rest) > 3 {
		return nil, usagef("give host:port or unix:PATH, a method and optionally params")
	}
	if err := cfg.dial.setAddress(rest[0]); err != nil {
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

// misplacedFlag returns a usageError naming the first of the positional
// arguments args that is one of fs's flags (or -h): the flag package
// stops at the first argument that is not a flag, so a flag after the
// address would otherwise be taken for a method or params.
func misplacedFlag(fs *flag.FlagSet, args []string) error {
	for _, a := range args {
		name, ok := strings.CutPrefix(a, "-")
		if !ok {
			continue
		}
		name = strings.TrimPrefix(name, "-")
		name, _, _ = strings.Cut(name, "=")
		if fs.Lookup(name) != nil || name == "h" || name == "help" {
			return usagef("flag %s comes after the address: flags go first, as in rpccall %s host:port METHOD", a, a)
		}
	}
	return nil
}

// loadCA returns a pool of the PEM certificates of the file name.
func loadCA(name string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(name)
	if err != nil {
		return nil, usagef("-ca: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, usagef("-ca %s: no PEM certificate in it", name)
	}
	return pool, nil
}

// parseParams checks that s is a JSON array or object (an array in
// JSON-RPC 1.0) and returns it.
func parseParams(s string, d protocol.Dialect) (json.RawMessage, error) {
	p := json.RawMessage(strings.TrimSpace(s))
	if !json.Valid(p) {
		return nil, fmt.Errorf("%.60q is not valid JSON", s)
	}
	return p, checkParams(p, d)
}

// checkParams checks that the valid JSON p is an array or object (an
// array in JSON-RPC 1.0).
func checkParams(p json.RawMessage, d protocol.Dialect) error {
	switch {
	case p[0] == '[':
	case p[0] == '{' && d == protocol.V1:
		return errors.New("JSON-RPC 1.0 has no named params: give an array")
	case p[0] == '{':
	default:
		return fmt.Errorf("%.60s is not a JSON array or object", p)
	}
	return nil
}

// run makes the call, sends the batch or watches the subscription the
// command line asks for and returns the exit status. ctx ends a watch
// (with status 0).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
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
	if cfg.watch {
		return watch(ctx, cfg, stdout, stderr)
	}

	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	client, err := cfg.dial.dial(ctx, nil)
	if err != nil {
		reportDial(stderr, err)
		return exitConnection
	}
	defer client.Abort()

	if cfg.batch != nil {
		return sendBatch(ctx, client, cfg, stdout, stderr)
	}
	var result json.RawMessage
	err = client.Call(ctx, cfg.method, paramsOf(cfg.params), &result)
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

// reportDial prints why a connection could not be made, with the hint
// of a *handshakeError.
func reportDial(stderr io.Writer, err error) {
	fmt.Fprintf(stderr, "rpccall: cannot connect: %v\n", err)
	var he *handshakeError
	if errors.As(err, &he) && he.hint != "" {
		fmt.Fprintf(stderr, "rpccall: hint: %s\n", he.hint)
	}
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

// paramsOf returns params for Call: nil when there are none.
func paramsOf(params json.RawMessage) any {
	if params == nil {
		return nil
	}
	return params
}
