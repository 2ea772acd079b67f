package transport_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/session"
	"github.com/gorpcx/gorpcx/transport"
)

// childEnv, in the environment of the test binary, makes it play a
// child process (see runChild) instead of running the tests.
const childEnv = "GORPCX_TRANSPORT_CHILD"

// childCommand returns a command that runs the test binary as a child
// in mode.
func childCommand(mode string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-test.run=^$")
	// Under the race detector a program sleeps a second as it exits,
	// unless told not to.
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, "GORACE="+gorace)
	return cmd, nil
}

// runChild is the child's side; it returns the exit status.
//
//   - "echo": a JSON-RPC server on its standard input and output
//     (transport.Stdio, newline framing, a session) with the methods
//     of childMethods; when the session ends it writes "session ended:
//     CAUSE" to standard error and exits 0.
//   - "stdio-close": the same server; after the session ends (its
//     "close" method closes it while the parent keeps standard input
//     open) it reports on standard error how standard input and output
//     behave now, and exits 7 on SIGTERM.
//   - "cat": copies standard input to standard output, exits 0 at its
//     end.
//   - "exit0": exits 0 at once, reading nothing.
//   - "ignore-stdin": writes "ready", reads standard input to its end,
//     then sleeps.
//   - "ignore-term": the same, with SIGTERM ignored.
//   - "grandchild": starts the test binary as "sleep" sharing its
//     standard output, writes the grandchild's PID and exits 0.
//   - "sleep": sleeps.
//   - "example-server": the server of ExampleStdio.
func runChild(mode string) int {
	switch mode {
	case "echo":
		s, err := serveStdio()
		if err != nil {
			fmt.Fprintln(os.Stderr, "stdio:", err)
			return 1
		}
		<-s.Done()
		fmt.Fprintln(os.Stderr, "session ended:", s.Err())
		return 0
	case "stdio-close":
		return stdioCloseChild()
	case "cat":
		if _, err := io.Copy(os.Stdout, os.Stdin); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	case "exit0":
		return 0
	case "ignore-term", "ignore-stdin":
		if mode == "ignore-term" {
			signal.Ignore(syscall.SIGTERM)
		}
		fmt.Println("ready")
		_, _ = io.Copy(io.Discard, os.Stdin)
		time.Sleep(time.Hour)
		return 0
	case "grandchild":
		cmd, err := childCommand("sleep")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		cmd.Stdout = os.Stdout
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println(cmd.Process.Pid)
		return 0
	case "sleep":
		time.Sleep(time.Hour)
		return 0
	case "example-server":
		return exampleServer()
	}
	fmt.Fprintln(os.Stderr, "unknown child mode", mode)
	return 2
}

// childMethods are the methods of the child's JSON-RPC server.
var childMethods = handler.Methods{
	"echo": handler.MustFunc(func(v any) any { return v }, "v"),
	"pid":  handler.MustFunc(func() int { return os.Getpid() }),
	// exit writes a line to standard error and exits with code at once,
	// without answering.
	"exit": handler.MustFunc(func(code int) {
		fmt.Fprintf(os.Stderr, "exiting with status %d\n", code)
		os.Exit(code)
	}, "code"),
	// stderr writes n bytes of 'x' to standard error, then the line
	// "last line".
	"stderr": handler.MustFunc(func(n int) (int, error) {
		if _, err := os.Stderr.Write(bytes.Repeat([]byte{'x'}, n)); err != nil {
			return 0, err
		}
		_, err := fmt.Fprintln(os.Stderr, "\nlast line")
		return n, err
	}, "n"),
	// close closes the session after its reply.
	"close": handler.MustFunc(func(ctx context.Context) string {
		_ = session.FromContext(ctx).Close()
		return "closing"
	}),
}

// serveStdio starts the child's session on its standard input and
// output.
func serveStdio() (*session.Session, error) {
	pipe, err := transport.Stdio()
	if err != nil {
		return nil, err
	}
	return session.New(framing.NewStream(framing.Newline{}, pipe), &session.Options{Handler: childMethods}), nil
}

// stdioCloseChild serves until the session is closed by its "close"
// method, then reports on standard error, one line each: the session's
// cause, what a second Stdio returned while the first was open, what
// os.Stdin and os.Stdout do after Close, and whether Stdio can be had
// again. It exits 7 on SIGTERM, so that the parent can tell it was
// still running when it saw the end of its output.
func stdioCloseChild() int {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	pipe, err := transport.Stdio()
	if err != nil {
		fmt.Fprintln(os.Stderr, "stdio:", err)
		return 1
	}
	_, err2 := transport.Stdio()
	s := session.New(framing.NewStream(framing.Newline{}, pipe), &session.Options{Handler: childMethods})
	<-s.Done()
	fmt.Fprintln(os.Stderr, "session ended:", s.Err())
	fmt.Fprintln(os.Stderr, "second Stdio in use:", errors.Is(err2, transport.ErrStdioInUse))
	n, err := os.Stdin.Read(make([]byte, 16))
	fmt.Fprintf(os.Stderr, "stdin after close: %d %v\n", n, err)
	n, err = os.Stdout.WriteString("written after close\n")
	fmt.Fprintf(os.Stderr, "stdout after close: %d %v\n", n, err)
	again, err := transport.Stdio()
	if err == nil {
		err = again.Close()
	}
	fmt.Fprintln(os.Stderr, "Stdio again:", err)
	fmt.Fprintln(os.Stderr, "waiting for SIGTERM")
	select {
	case <-term:
		return 7
	case <-time.After(time.Minute):
		return 1
	}
}

// pidLine parses a PID written on a line.
func pidLine(b []byte) (int, error) {
	return strconv.Atoi(string(bytes.TrimSpace(b)))
}
