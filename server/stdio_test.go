package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/session"
	"github.com/gorpcx/gorpcx/transport"
)

// stdioChild is set in the environment of the test binary run as a
// child by the tests of ServeStdio: it runs runStdioChild.
const stdioChild = "GORPCX_TEST_STDIO_CHILD"

// stdioChildCommand runs the test binary as a ServeStdio child in mode.
func stdioChildCommand(mode string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	cmd := exec.Command(exe, "-test.run=^$")
	// Under the race detector a program sleeps a second as it exits,
	// unless told not to.
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	cmd.Env = append(os.Environ(), stdioChild+"="+mode, "GORACE="+gorace)
	return cmd
}

// runStdioChild serves with ServeStdio, with the framer the mode names
// ("newline", "length"), the methods "add" and "stop" (which ends the
// context given to ServeStdio). It writes what ServeStdio returned to
// standard error, and exits 0 if that was nil, else 4.
func runStdioChild(mode string) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var f framing.Framer
	if mode == "length" {
		f = framing.LengthPrefixed{}
	}
	methods := handler.Methods{
		"add": handler.MustFunc(func(a, b int) int { return a + b }, "a", "b"),
		"stop": handler.MustFunc(func() string {
			cancel()
			return "stopping"
		}),
	}
	err := ServeStdio(ctx, f, &session.Options{Handler: methods, CloseTimeout: 5 * time.Second})
	fmt.Fprintln(os.Stderr, "ServeStdio:", err)
	if err != nil {
		return 4
	}
	return 0
}

func TestServeStdio(t *testing.T) {
	for _, tc := range []struct {
		name, mode, method string
		framer             framing.Framer
		code               int
		stderr             string
	}{
		// The client closes: the child's ServeStdio returns nil.
		{"peer closes", "newline", "", framing.Newline{}, 0, "ServeStdio: <nil>\n"},
		{"length-prefixed", "length", "", framing.LengthPrefixed{}, 0, "ServeStdio: <nil>\n"},
		// The child's context ends: ServeStdio returns its error.
		{"context ends", "newline", "stop", framing.Newline{}, 4, "ServeStdio: context canceled\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			p, err := transport.StartCommand(ctx, stdioChildCommand(tc.mode))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			client := session.New(framing.NewStream(tc.framer, p), &session.Options{Side: session.Client})
			var sum int
			if err := client.Call(ctx, "add", []int{2, 3}, &sum); err != nil || sum != 5 {
				t.Fatalf("add = %d, %v", sum, err)
			}
			if tc.method != "" {
				var res string
				if err := client.Call(ctx, tc.method, nil, &res); err != nil {
					t.Fatal(err)
				}
				select {
				case <-client.Done():
				case <-ctx.Done():
					t.Fatal("the session has not ended")
				}
			}
			client.Close()
			err = p.Wait()
			var ee *transport.ExitError
			switch {
			case tc.code == 0 && err != nil:
				t.Errorf("child ended with %v", err)
			case tc.code != 0 && (!errors.As(err, &ee) || ee.ExitCode() != tc.code):
				t.Errorf("child ended with %v, want status %d", err, tc.code)
			}
			if got := string(p.Stderr()); got != tc.stderr {
				t.Errorf("child's standard error %q, want %q", got, tc.stderr)
			}
		})
	}
}

// A program that serves JSON-RPC on its standard input and output (a
// language server, a tool server) runs ServeStdio: here runStdioChild,
// started by this example as a child process.
func ExampleServeStdio() {
	ctx := context.Background()
	p, err := transport.StartCommand(ctx, stdioChildCommand("newline"))
	if err != nil {
		fmt.Println(err)
		return
	}
	client := session.New(framing.NewStream(framing.Newline{}, p), &session.Options{Side: session.Client})
	var sum int
	if err := client.Call(ctx, "add", []int{2, 3}, &sum); err != nil {
		fmt.Println(err)
	}
	fmt.Println("2 + 3 =", sum)
	client.Close()
	fmt.Println("child's exit:", p.Wait())
	fmt.Print("child's standard error: ", string(p.Stderr()))
	// Output:
	// 2 + 3 = 5
	// child's exit: <nil>
	// child's standard error: ServeStdio: <nil>
}
