package transport_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/session"
	"github.com/gorpcx/gorpcx/transport"
)

// exampleServer is the child's program in ExampleStdio: a JSON-RPC
// server on its own standard input and output, as a language server or
// a tool server is.
func exampleServer() int {
	methods := handler.Methods{"add": handler.MustFunc(func(a, b int) int { return a + b }, "a", "b")}
	pipe, err := transport.Stdio()
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // standard output is the protocol's
		return 1
	}
	s := session.New(framing.NewStream(framing.Newline{}, pipe), &session.Options{Handler: methods})
	<-s.Done() // the client closed this program's standard input
	return 0
}

// A client starts a JSON-RPC server as a child process and calls it over
// the child's standard input and output; the server side serves on its
// own with Stdio. (Here the child is this program again, which runs
// exampleServer when it finds the variable in its environment.)
func ExampleStdio() {
	ctx := context.Background()
	exe, err := os.Executable()
	if err != nil {
		fmt.Println(err)
		return
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childEnv+"=example-server")
	p, err := transport.StartCommand(ctx, cmd)
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
	// Closing the session closes the child's standard input; it exits,
	// and the session is done once it has.
	client.Close()
	fmt.Println("child's exit:", p.Wait())
	// Output:
	// 2 + 3 = 5
	// child's exit: <nil>
}
