package admin_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/gorpcx/gorpcx/admin"
	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// A server with its admin methods on a Unix socket: the interceptor
// counts its requests, and an operator's client (here a session; on
// the command line, examples/rpccall) asks for getinfo, lists the
// sessions and disconnects one.
func Example() {
	ctx := context.Background()
	level := zap.NewAtomicLevelAt(zap.InfoLevel) // the program's logger's level
	srv := &server.Server{Options: session.Options{Handler: handler.Methods{
		"echo": handler.MustFunc(func(v any) any { return v }),
	}}}
	adm, err := admin.New(&admin.Options{Server: srv, Level: &level})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv.Options.Interceptors = []session.Interceptor{adm.Interceptor()}
	if err := srv.Listen(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(ctx)

	dir, err := os.MkdirTemp("", "admin-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	adminSrv, err := adm.Listen(ctx, filepath.Join(dir, "admin.sock"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer adminSrv.Shutdown(ctx)

	// A client of the server.
	client, err := server.Dial(ctx, "tcp", srv.Addr().String(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	var echoed string
	if err := client.Call(ctx, "echo", []any{"hello"}, &echoed); err != nil {
		fmt.Println(err)
		return
	}

	// The operator.
	op, err := server.Dial(ctx, "unix", filepath.Join(dir, "admin.sock"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer op.Close()
	var info admin.Info
	if err := op.Call(ctx, "getinfo", nil, &info); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("sessions:", info.Sessions, "echo requests:", info.Requests["echo"].Count)
	var list []admin.SessionInfo
	if err := op.Call(ctx, "sessions", nil, &list); err != nil {
		fmt.Println(err)
		return
	}
	var res admin.Disconnected
	if err := op.Call(ctx, "disconnect", []string{list[0].Name}, &res); err != nil {
		fmt.Println(err)
		return
	}
	<-client.Done()
	fmt.Println("disconnected:", len(res.Closed))
	var lv admin.LogLevel
	if err := op.Call(ctx, "log_level", []string{"debug"}, &lv); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("log level:", lv.Previous, "->", lv.Level)
	// Output:
	// sessions: 1 echo requests: 1
	// disconnected: 1
	// log level: info -> debug
}
