package interop

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorpcx/gorpcx/admin"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// These tests run examples/interop-server as a process with the flags
// for watching it (docs: the interop-server specification, -admin and
// -metrics), and talk to what they serve: the admin socket with a
// session, the metrics with an HTTP client.

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
	// The client sees its end before the server has released the
	// session: the list empties a moment later.
	name := list[0].Name
	waitUntil(t, "the disconnected session to leave the list", func() bool {
		callOK(t, op, "sessions", []string{name}, &list)
		return len(list) == 0
	})

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

// metricsLine is the second line of the interop server's output with
// -metrics.
var metricsLine = regexp.MustCompile(`^metrics on (http://127\.0\.0\.1:[1-9][0-9]*/metrics)$`)

// scrape returns the exposition at url, in Prometheus' text format.
func scrape(t *testing.T, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), procWait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v", url, resp.Status, err)
	}
	return string(body)
}

// TestInteropServerMetrics scrapes -metrics over HTTP, with -admin
// counting the same requests.
func TestInteropServerMetrics(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "admin.sock")
	p, addr := startInteropServer(t, "-metrics", "127.0.0.1:0", "-admin", sock)
	m := metricsLine.FindStringSubmatch(p.line(t))
	if m == nil {
		t.Fatalf("no metrics line; stderr:\n%s", p.stderr.String())
	}
	url := m[1]

	client := dialSession(t, "tcp", addr)
	for range 2 {
		callOK(t, client, "echo", []any{"x"}, new(string))
	}
	ctx, cancel := context.WithTimeout(context.Background(), procWait)
	defer cancel()
	for _, method := range []string{"made_up_1", "made_up_2"} {
		if err := client.Call(ctx, method, nil, nil); err == nil {
			t.Fatalf("%s succeeded", method)
		}
	}
	body := scrape(t, url)
	for _, want := range []string{
		`gorpcx_requests_total{method="echo",outcome="ok"} 2`,
		`gorpcx_requests_total{method="other",outcome="-32601"} 2`,
		`gorpcx_request_duration_seconds_count{method="echo",outcome="ok"} 2`,
		`gorpcx_server_connections{state="session"} 1`,
		`gorpcx_server_connections_accepted_total 1`,
		`gorpcx_sessions_open 1`,
		"go_goroutines ",
		"# TYPE gorpcx_requests_total counter",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the scrape has no %q", want)
		}
	}
	if t.Failed() {
		t.Logf("scrape of %s:\n%s", url, body)
	}
	// The made-up methods are one label value; no peer's string is one.
	if strings.Contains(body, "made_up") {
		t.Error("a made-up method name is a label value")
	}

	op := dialSession(t, "unix", sock)
	var info admin.Info
	callOK(t, op, "getinfo", nil, &info)
	if info.Requests["echo"].Count != 2 || info.Requests[admin.OtherMethod].Count != 2 {
		t.Errorf("getinfo requests %v, want 2 echo and 2 other", info.Requests)
	}

	client.Abort()
	waitUntil(t, "the scrape to show the session closed", func() bool {
		return strings.Contains(scrape(t, url), `gorpcx_sessions_closed_total{cause="eof"} 1`)
	})
	stopInteropServer(t, p)
}

// TestInteropServerMetricsAddress: a -metrics address that cannot be
// listened on stops the program with status 1.
func TestInteropServerMetricsAddress(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, addr := range []string{ln.Addr().String(), "127.0.0.1:port"} {
		stdout, stderr, code := runProc(t, "", example(t, "interop-server"), "-metrics", addr)
		if code != 1 || stdout != "" || !strings.Contains(stderr, "cannot serve the metrics") {
			t.Errorf("-metrics %s: exit %d, stdout %q, stderr %q; want exit 1 and the reason", addr, code, stdout, stderr)
		}
	}
}
