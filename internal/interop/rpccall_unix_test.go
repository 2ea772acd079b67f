package interop

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorpcx/gorpcx/admin"
	"github.com/gorpcx/gorpcx/server"
)

// TestRPCCallUnix runs rpccall against the admin interface of a server
// (package admin), on a Unix socket, as docs/guide.md shows it.
func TestRPCCallUnix(t *testing.T) {
	t.Parallel()
	srv := &server.Server{}
	adm, err := admin.New(&admin.Options{Server: srv})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "admin.sock")
	adminSrv, err := adm.Listen(context.Background(), sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), procWait)
		defer cancel()
		if err := adminSrv.Shutdown(ctx); err != nil {
			t.Errorf("admin server shutdown: %v", err)
		}
	})
	addr := "unix:" + sock
	runRPCCall(t, []rpccallCase{{
		name:   "groups",
		args:   []string{addr, "groups"},
		stdout: "[]\n",
	}, {
		name:   "sessions",
		args:   []string{addr, "sessions"},
		stdout: "[]\n",
	}, {
		name:   "disconnect nobody",
		args:   []string{addr, "disconnect", `["203.0.113.0/24"]`},
		stdout: "{\n  \"closed\": [],\n  \"not_found\": [\n    \"203.0.113.0/24\"\n  ]\n}\n",
	}, {
		name:   "disconnect without targets",
		args:   []string{addr, "disconnect"},
		code:   1,
		stderr: "error -32602: method \"disconnect\" needs session names or network prefixes\n",
	}, {
		// getinfo's answer is over 1,000 bytes: at -max-message 100 it
		// is dropped, and no answer comes.
		name:   "answer over -max-message",
		args:   []string{"-max-message", "100", "-timeout", "300ms", addr, "getinfo"},
		code:   3,
		stderr: "no answer within 300ms\n",
	}, {
		name:   "no socket there",
		args:   []string{"unix:" + filepath.Join(t.TempDir(), "none.sock"), "getinfo"},
		code:   2,
		stderr: "rpccall: cannot connect: ",
	}, {
		name:   "no path",
		args:   []string{"unix:", "getinfo"},
		code:   64,
		stderr: "unix: needs the socket's path",
	}, {
		name:   "through a proxy",
		args:   []string{"-proxy", "socks5://127.0.0.1:1", addr, "getinfo"},
		code:   64,
		stderr: "-proxy cannot carry a Unix socket connection",
	}, {
		name:   "-max-message 0",
		args:   []string{"-max-message", "0", addr, "getinfo"},
		code:   64,
		stderr: "-max-message must not be 0",
	}})
	// getinfo's answer is the server's state, as JSON.
	stdout, stderr, code := runProc(t, "", example(t, "rpccall"), addr, "getinfo")
	if code != 0 || stderr != "" || !contains(stdout, `"sessions": 0`, `"max_sessions": 1000`, `"requests": {}`) {
		t.Errorf("rpccall %s getinfo: exit %d, stdout %q, stderr %q", addr, code, stdout, stderr)
	}
}

// contains reports whether s contains every one of parts.
func contains(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
