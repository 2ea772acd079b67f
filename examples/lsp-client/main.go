// Lsp-client starts a language server given on its command line and
// talks to it as an editor does, over the server's standard input and
// output with the Language Server Protocol's framing (JSON-RPC 2.0
// messages, each under a Content-Length header): it initializes the
// server, prints what the server says it can do, optionally opens a
// file and prints the problems the server finds in it, and shuts the
// server down. It shows gorpcx running a session over a child process
// (transport.StartCommand) with framing.ContentLength; the process's
// exit is the session's end.
//
// Run it with
//
//	go run ./examples/lsp-client [flags] COMMAND [ARG...]
//
// For example, with the Python language server (Debian's python3-pylsp):
//
//	go run ./examples/lsp-client pylsp
//	go run ./examples/lsp-client -open broken.py pylsp
//
// It prints the result of initialize (the server's capabilities and,
// when it sends one, its serverInfo) as indented JSON. With -open it
// then sends textDocument/didOpen for the file and prints the first
// diagnostics the server publishes for it, one a line:
// "FILE:LINE:COLUMN: SEVERITY: MESSAGE (SOURCE)", lines and columns
// counted from 1, or "FILE: no diagnostics". Then it sends shutdown and
// exit, and waits for the server to end. The server's standard error
// goes to lsp-client's. If anything goes wrong, the server is ended (its
// standard input closed, then SIGTERM, then SIGKILL, 5 seconds apart)
// and waited for: lsp-client leaves no process behind.
//
// Flags:
//
//	-root DIR   the workspace root sent with initialize (the current directory)
//	-open FILE  open FILE and print the diagnostics published for it
//	-timeout D  bound on each answer, on the diagnostics and on the
//	            server's exit (10s)
//
// Exit status: 0 on success; 1 if the server answered with an error; 2
// if the server could not be started, ended before it was asked to, or
// exited with a status other than 0; 3 if no answer came within the
// timeout, or the answer was malformed; 64 for a bad command line.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/session"
)

// Exit statuses.
const (
	exitOK         = 0
	exitErrorReply = 1
	exitServer     = 2
	exitNoAnswer   = 3
	exitUsage      = 64
)

const (
	defaultTimeout = 10 * time.Second
	usageLine      = "usage: lsp-client [-root DIR] [-open FILE] [-timeout D] COMMAND [ARG...]"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is the parsed command line.
type config struct {
	command  []string
	root     string // absolute
	open     string // absolute; "" for none
	openName string // as given
	timeout  time.Duration
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
	fs := flag.NewFlagSet("lsp-client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usageLine)
		fs.PrintDefaults()
	}
	root := fs.String("root", ".", "the workspace root sent with initialize")
	open := fs.String("open", "", "open `FILE` and print the diagnostics published for it")
	timeout := fs.Duration("timeout", defaultTimeout, "bound on each answer, on the diagnostics and on the server's exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, &usageError{} // the flag package has printed the reason
	}
	if *timeout <= 0 {
		return nil, usagef("-timeout must be positive, not %v", *timeout)
	}
	cfg := &config{command: fs.Args(), timeout: *timeout}
	if len(cfg.command) == 0 {
		return nil, usagef("give the command that runs the language server")
	}
	var err error
	if cfg.root, err = filepath.Abs(*root); err != nil {
		return nil, usagef("-root: %v", err)
	}
	if *open != "" {
		cfg.openName = *open
		if cfg.open, err = filepath.Abs(*open); err != nil {
			return nil, usagef("-open: %v", err)
		}
	}
	return cfg, nil
}

// fileURI returns the file: URI of an absolute path.
func fileURI(path string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
}

// run does what the command line asks and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parse(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(stderr, "lsp-client:", msg)
			fmt.Fprintln(stderr, usageLine)
		}
		return exitUsage
	}
	var text []byte
	if cfg.open != "" {
		if text, err = os.ReadFile(cfg.open); err != nil {
			fmt.Fprintf(stderr, "lsp-client: -open: %v\n", err)
			return exitUsage
		}
	}

	diags := newDiagnostics(fileURI(cfg.open))
	server, err := startServer(cfg, diags, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "lsp-client: cannot start %s: %v\n", cfg.command[0], err)
		return exitServer
	}
	defer server.stop()

	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	var result json.RawMessage
	err = server.session.Call(ctx, "initialize", initializeParams(cfg.root), &result)
	if err != nil {
		return report(stderr, "initialize", err, cfg.timeout)
	}
	printJSON(stdout, result)
	if err := server.session.Notify(ctx, "initialized", struct{}{}); err != nil {
		return report(stderr, "initialized", err, cfg.timeout)
	}

	if cfg.open != "" {
		if status := openFile(server.session, cfg, text, diags, stdout, stderr); status != exitOK {
			return status
		}
	}

	ctx, cancel = context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	if err := server.session.Call(ctx, "shutdown", nil, nil); err != nil {
		return report(stderr, "shutdown", err, cfg.timeout)
	}
	if err := server.session.Notify(ctx, "exit", nil); err != nil {
		return report(stderr, "exit", err, cfg.timeout)
	}
	if err := server.wait(ctx); err != nil {
		fmt.Fprintf(stderr, "lsp-client: %s: %v\n", cfg.command[0], err)
		return exitServer
	}
	return exitOK
}

// initializeParams returns the params of initialize: the client's
// process, the workspace root and the few capabilities this client has
// (it takes diagnostics).
func initializeParams(root string) any {
	return map[string]any{
		"processId":  os.Getpid(),
		"clientInfo": map[string]any{"name": "gorpcx-lsp-client"},
		"rootUri":    fileURI(root),
		"workspaceFolders": []any{
			map[string]any{"uri": fileURI(root), "name": filepath.Base(root)},
		},
		"capabilities": map[string]any{
			"textDocument": map[string]any{
				"publishDiagnostics": map[string]any{},
			},
		},
	}
}

// report prints the failure of a call or a notification and returns the
// exit status it calls for.
func report(stderr io.Writer, what string, err error, timeout time.Duration) int {
	var rpcErr *jsonrpc2.Error
	var pe *protocol.ProtocolError
	var ce *session.ConnectionError
	switch {
	case errors.As(err, &pe):
		fmt.Fprintf(stderr, "lsp-client: %s: malformed response: %v\n", what, pe)
		return exitNoAnswer
	case errors.As(err, &rpcErr):
		fmt.Fprintf(stderr, "lsp-client: %s: error %d: %s\n", what, rpcErr.Code, rpcErr.Message)
		if rpcErr.Data != nil {
			fmt.Fprintf(stderr, "lsp-client: %s: data: %s\n", what, *rpcErr.Data)
		}
		return exitErrorReply
	case errors.As(err, &ce):
		fmt.Fprintf(stderr, "lsp-client: %s: the server ended: %v\n", what, ce.Err)
		return exitServer
	case errors.Is(err, context.DeadlineExceeded):
		fmt.Fprintf(stderr, "lsp-client: %s: no answer within %v\n", what, timeout)
		return exitNoAnswer
	}
	fmt.Fprintf(stderr, "lsp-client: %s: %v\n", what, err)
	return exitNoAnswer
}
