// Ovsdb-client is a small client of Open vSwitch's database server,
// ovsdb-server, written with gorpcx: it lists the server's databases
// and a database's tables, and monitors a table, printing its rows and
// then every change the server reports. ovsdb-server speaks JSON-RPC
// 1.0 (RFC 7047) over Unix and TCP sockets, with its messages written
// back to back and nothing between them, so the client reads them with
// framing.RawJSON and decodes them with protocol.V1, which keeps an
// error the server sends (a string, or an object with "error" and
// "details") whole in the *jsonrpc2.Error the call returns. It answers
// the server's "echo" probes, which ovsdb-server sends to a TCP client
// idle for 5 seconds and disconnects it for not answering.
//
// Run it with
//
//	go run ./examples/ovsdb-client [flags] list-dbs
//	go run ./examples/ovsdb-client [flags] list-tables
//	go run ./examples/ovsdb-client [flags] monitor TABLE [COLUMN...]
//
// For example, against an ovsdb-server serving Open vSwitch's database
// on its default socket, or on TCP port 6640:
//
//	go run ./examples/ovsdb-client list-dbs
//	go run ./examples/ovsdb-client -server tcp:127.0.0.1:6640 monitor Bridge name ports
//
// list-dbs prints the names of the server's databases, one a line, as
// `ovsdb-client list-dbs` does. list-tables prints the names of the
// database's tables, sorted, one a line. monitor prints the rows of
// TABLE (the COLUMNs given, or all), then a line "--", then the changes
// as they happen, until it is interrupted (SIGINT or SIGTERM), the
// server closes the connection, or -count updates have come. Each row
// is one line: the action (initial, insert, modify or delete), the
// table, the row's UUID and the row as the server sent it (for modify
// and insert the new row, for delete the old one). Errors go to
// standard error, with the server's own words.
//
// Flags:
//
//	-server REMOTE  the server: unix:PATH or tcp:HOST:PORT
//	                (unix:/var/run/openvswitch/db.sock)
//	-db NAME        the database of list-tables and monitor (Open_vSwitch)
//	-timeout D      bound on connecting and on each answer (10s)
//	-count N        monitor: exit after N updates (0: never)
//
// Exit status: 0 on success (and when a monitor is interrupted); 1 if
// the server answered with an error; 2 if the connection could not be
// made or was lost; 3 if no answer came within the timeout, or the
// answer was malformed; 64 for a bad command line.
package main

import (
	"context"
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
	defaultServer  = "unix:/var/run/openvswitch/db.sock"
	defaultTimeout = 10 * time.Second
	usageLine      = "usage: ovsdb-client [flags] list-dbs | list-tables | monitor TABLE [COLUMN...]"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is the parsed command line.
type config struct {
	network, address string // from -server
	db               string
	timeout          time.Duration
	count            int
	command          string
	table            string   // monitor
	columns          []string // monitor; nil: all
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

// parse reads the command line.
func parse(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("ovsdb-client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usageLine)
		fs.PrintDefaults()
	}
	remote := fs.String("server", defaultServer, "the server: unix:`PATH` or tcp:HOST:PORT")
	db := fs.String("db", "Open_vSwitch", "the database of list-tables and monitor")
	timeout := fs.Duration("timeout", defaultTimeout, "bound on connecting and on each answer")
	count := fs.Int("count", 0, "monitor: exit after `N` updates (0: never)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, &usageError{} // the flag package has printed the reason
	}
	cfg := &config{db: *db, timeout: *timeout, count: *count}
	var err error
	if cfg.network, cfg.address, err = parseRemote(*remote); err != nil {
		return nil, usagef("-server: %v", err)
	}
	if *timeout <= 0 {
		return nil, usagef("-timeout must be positive, not %v", *timeout)
	}
	if *count < 0 {
		return nil, usagef("-count must not be negative, not %d", *count)
	}
	if *db == "" {
		return nil, usagef("-db must name a database")
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return nil, usagef("give a command")
	}
	cfg.command = rest[0]
	switch cfg.command {
	case "list-dbs", "list-tables":
		if len(rest) != 1 {
			return nil, usagef("%s takes no arguments", cfg.command)
		}
	case "monitor":
		if len(rest) < 2 {
			return nil, usagef("monitor needs a table")
		}
		cfg.table, cfg.columns = rest[1], rest[2:]
		if len(cfg.columns) == 0 {
			cfg.columns = nil
		}
	default:
		return nil, usagef("unknown command %q", cfg.command)
	}
	if cfg.command != "monitor" && *count != 0 {
		return nil, usagef("-count is for monitor")
	}
	return cfg, nil
}

// parseRemote splits an Open vSwitch remote, "unix:PATH" or
// "tcp:HOST:PORT", into a network and an address to dial.
func parseRemote(s string) (network, address string, err error) {
	kind, rest, ok := strings.Cut(s, ":")
	switch {
	case !ok || rest == "":
		return "", "", fmt.Errorf("%q is not unix:PATH or tcp:HOST:PORT", s)
	case kind == "unix":
		return "unix", rest, nil
	case kind == "tcp":
		if !strings.Contains(rest, ":") {
			return "", "", fmt.Errorf("%q has no port", s)
		}
		return "tcp", rest, nil
	}
	return "", "", fmt.Errorf("%q: only unix: and tcp: remotes are supported", s)
}

// run does what the command line asks and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parse(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(stderr, "ovsdb-client:", msg)
			fmt.Fprintln(stderr, usageLine)
		}
		return exitUsage
	}

	// The monitor's printer is the session's handler of "update"
	// notifications; it exists before the session, which may deliver
	// one as soon as the monitor request is answered.
	p := &printer{w: stdout, max: cfg.count, done: make(chan struct{})}
	d := server.Dialer{
		Framer:  framer(),
		Timeout: cfg.timeout,
		Options: session.Options{
			Dialect:        protocol.V1,
			Handler:        methods(p),
			RequestTimeout: cfg.timeout,
			// One request at a time: the updates are printed in the order
			// the server sent them.
			Concurrency: 1,
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	client, err := d.Dial(ctx, cfg.network, cfg.address)
	if err != nil {
		fmt.Fprintf(stderr, "ovsdb-client: cannot connect: %v\n", err)
		return exitConnection
	}
	defer client.Abort()

	switch cfg.command {
	case "list-dbs":
		err = listDBs(ctx, client, stdout)
	case "list-tables":
		err = listTables(ctx, client, cfg.db, stdout)
	case "monitor":
		return monitor(client, cfg, p, stderr)
	}
	if err != nil {
		return report(stderr, err, cfg.timeout)
	}
	return exitOK
}

// monitor runs the monitor command and returns the exit status.
func monitor(client *session.Session, cfg *config, p *printer, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	if err := startMonitor(ctx, client, cfg.db, cfg.table, cfg.columns, p); err != nil {
		return report(stderr, err, cfg.timeout)
	}
	interrupted := make(chan os.Signal, 1)
	signal.Notify(interrupted, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(interrupted)
	select {
	case <-p.done:
	case <-interrupted:
	case <-client.Done():
		fmt.Fprintf(stderr, "ovsdb-client: connection lost: %v\n", client.Err())
		return exitConnection
	}
	// Tell the server, as a polite client does; the exit status does
	// not depend on it.
	ctx, cancel = context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	client.Call(ctx, "monitor_cancel", []any{monitorID}, nil)
	return exitOK
}

// report prints the failure of a call and returns the exit status it
// calls for. An error the server sent is printed in its own words: the
// message protocol.V1 took from it, and the whole value as it came.
func report(stderr io.Writer, err error, timeout time.Duration) int {
	var rpcErr *jsonrpc2.Error
	var pe *protocol.ProtocolError
	var ce *session.ConnectionError
	switch {
	case errors.As(err, &pe):
		fmt.Fprintf(stderr, "ovsdb-client: malformed response: %v\n", pe)
		return exitNoAnswer
	case errors.As(err, &rpcErr):
		// ovsdb-server's error objects say more under "details".
		var obj struct {
			Details string `json:"details"`
		}
		if rpcErr.Data != nil && json.Unmarshal(*rpcErr.Data, &obj) == nil && obj.Details != "" {
			fmt.Fprintf(stderr, "ovsdb-client: server error: %s: %s\n", rpcErr.Message, obj.Details)
		} else {
			fmt.Fprintf(stderr, "ovsdb-client: server error: %s\n", rpcErr.Message)
		}
		if rpcErr.Data != nil {
			fmt.Fprintf(stderr, "ovsdb-client: as sent: %s\n", *rpcErr.Data)
		}
		return exitErrorReply
	case errors.As(err, &ce):
		fmt.Fprintf(stderr, "ovsdb-client: connection lost before the answer: %v\n", ce.Err)
		return exitConnection
	case errors.Is(err, context.DeadlineExceeded):
		fmt.Fprintf(stderr, "ovsdb-client: no answer within %v\n", timeout)
		return exitNoAnswer
	}
	fmt.Fprintf(stderr, "ovsdb-client: %v\n", err)
	return exitNoAnswer
}

// rawParams returns the params of a request, or an empty array if it
// has none.
func rawParams(req *jsonrpc2.Request) json.RawMessage {
	if req.Params == nil {
		return json.RawMessage("[]")
	}
	return *req.Params
}
