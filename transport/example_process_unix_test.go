//go:build unix

package transport_test

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/gorpcx/gorpcx/transport"
)

// A filter as a byte stream: write, half-close, read to the end.
func ExampleCommand() {
	p, err := transport.Command(context.Background(), "tr", "a-z", "A-Z")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	if _, err := io.WriteString(p, "hello\n"); err != nil {
		fmt.Println(err)
		return
	}
	p.CloseWrite() // tr reads the end of its input, finishes and exits
	out, err := io.ReadAll(p)
	fmt.Printf("%q %v\n", out, err)
	fmt.Println("exit:", p.Wait())
	// Output:
	// "HELLO\n" <nil>
	// exit: <nil>
}

// A process that fails: the read side ends with an *ExitError that
// carries the status and the end of standard error.
func ExampleExitError() {
	p, err := transport.Command(context.Background(), "sh", "-c", `echo "fatal: no config file" >&2; exit 3`)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	_, err = io.ReadAll(p)
	var ee *transport.ExitError
	if errors.As(err, &ee) {
		fmt.Println("status", ee.ExitCode())
		fmt.Printf("stderr %q\n", ee.Stderr)
	}
	// Output:
	// status 3
	// stderr "fatal: no config file\n"
}
