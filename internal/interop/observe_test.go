package interop

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorpcx/gorpcx/admin"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// These tests run examples/interop-server as a process with the flags
// for watching it (docs: the interop-server specification, -admin and
// -metrics), and talk to what they serve.

// dialSession returns a client session of the server at address,
// aborted in t.Cleanup.
func dialSession(t *testing.T, network, address string) *session.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), procWait)
	defer cancel()
	c, err := server.Dial(ctx, network, address, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Abort)
	return c
}

// callOK calls method on c, failing the test on an error.
func callOK(t *testing.T, c *session.Session, method string, params, result any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), procWait)
	defer cancel()
	if err := c.Call(ctx, method, params, result); err != nil {
		t.Fatalf("%s %v: %v", method, params, err)
	}
}

// waitUntil polls cond until it holds, failing the test after procWait.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(procWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", procWait, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestInteropServerAdmin(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "admin.sock")
	p, addr := startInteropServer(t, "-admin", sock)
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin socket %v (%v), want mode 0600", fi, err)
	}
	op := dialSession(t, "unix", sock)

	client := dialSession(t, "tcp", addr)
	for range 2 {
		callOK(t, client, "echo", []any{"x"}, new(string))
	}
	callOK(t, client, "add", []any{1, 2}, new(int))
	ctx, cancel := context.WithTimeout(context.Background(), procWait)
	defer cancel()
	if err := client.Call(ctx, "made_up", nil, nil); err == nil {
		t.Fatal("made_up succeeded")
	}

	var info admin.Info
	callOK(t, op, "getinfo", nil, &info)
	want := map[string]admin.MethodCount{"echo": {Count: 2}, "add": {Count: 1}, admin.OtherMethod: {Count: 1, Errors: 1}}
	if info.Sessions != 1 || info.Connections != 1 || info.LogLevel != "info" || len(info.Requests) != len(want) {
		t.Errorf("getinfo: %+v", info)
	}
	for m, c := range want {
		if info.Requests[m] != c {
			t.Errorf("getinfo requests[%s] = %+v, want %+v", m, info.Requests[m], c)
		}
	}
	if info.Limits.MaxSessions != server.DefaultMaxSessions || info.Limits.Session.Concurrency != session.DefaultConcurrency ||
		info.Limits.MaxMessage == nil || *info.Limits.MaxMessage != 1_000_000 {
		t.Errorf("getinfo limits: %+v", info.Limits)
	}

	var list []admin.SessionInfo
	callOK(t, op, "sessions", nil, &list)
	if len(list) != 1 || list[0].Requests != 4 || !strings.HasPrefix(list[0].Peer, "127.0.0.1:") {
		t.Fatalf("sessions: %+v, want the one client with 4 requests", list)
	}

	// The level set through the socket is the process's: a new
	// connection is logged at Debug level.
	var lv admin.LogLevel
	callOK(t, op, "log_level", []string{"debug"}, &lv)
	if lv != (admin.LogLevel{Level: "debug", Previous: "info"}) {
		t.Errorf("log_level debug: %+v", lv)
	}
	dialSession(t, "tcp", addr)
	waitUntil(t, "a debug line for the new session", func() bool { return strings.Contains(p.stderr.String(), "session started") })

	var res admin.Disconnected
	callOK(t, op, "disconnect", []string{list[0].Name}, &res)
	if len(res.Closed) != 1 || res.Closed[0].Name != list[0].Name {
		t.Errorf("disconnect %s: %+v", list[0].Name, res)
	}
	select {
	case <-client.Done():
	case <-time.After(procWait):
		t.Fatal("the disconnected client is still connected")
	}
	var ce *session.ConnectionError
	if err := client.Call(ctx, "echo", []any{1}, nil); !errors.As(err, &ce) {
		t.Errorf("call on the disconnected client: %v, want a ConnectionError", err)
	}
	callOK(t, op, "sessions", []string{list[0].Name}, &list)
	if len(list) != 0 {
		t.Errorf("sessions after the disconnect: %+v", list)
	}

	stopInteropServer(t, p)
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("admin socket after exit: %v, want it removed", err)
	}
}

// TestInteropServerAdminPath: an admin socket that cannot be made
// stops the program with status 1.
func TestInteropServerAdminPath(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "admin.sock")
	stdout, stderr, code := runProc(t, "", example(t, "interop-server"), "-admin", path)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "cannot listen for the admin interface") {
		t.Errorf("-admin %s: exit %d, stdout %q, stderr %q; want exit 1 and the reason", path, code, stdout, stderr)
	}
}
