package interop

import (
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"testing"
)

// TestRPCCallWatch runs rpccall -watch on blockchain.headers.subscribe
// of examples/electrum-server, mines a block (a notification line),
// kills the server and starts it again on the same port with a higher
// chain: rpccall connects again, prints the new result and the next
// notification, and exits 0 on SIGINT.
func TestRPCCallWatch(t *testing.T) {
	t.Parallel()
	electrum := example(t, "electrum-server")
	srv := startProc(t, electrum, "-addr", "127.0.0.1:0", "-height", "10")
	addr, ok := strings.CutPrefix(srv.line(t), "listening on ")
	if !ok {
		t.Fatalf("electrum-server's first line is not \"listening on ADDR\"; stderr:\n%s", srv.stderr.String())
	}
	watch := startProc(t, example(t, "rpccall"), "-watch", "-backoff-max", "1s", addr, "blockchain.headers.subscribe")

	wantResult(t, watch, 10)
	mine(t, srv, 11)
	wantTip(t, watch, 11)

	srv.kill()
	srv = startProc(t, electrum, "-addr", addr, "-height", "20")
	if l := srv.line(t); l != "listening on "+addr {
		t.Fatalf("electrum-server restarted: %q, want listening on %s; stderr:\n%s", l, addr, srv.stderr.String())
	}
	wantResult(t, watch, 20)
	mine(t, srv, 21)
	wantTip(t, watch, 21)

	watch.signal(t, syscall.SIGINT)
	if code := watch.wait(t); code != 0 {
		t.Errorf("rpccall -watch exit status after SIGINT = %d, want 0; stderr:\n%s", code, watch.stderr.String())
	}
	if rest := watch.rest(t); len(rest) != 0 {
		t.Errorf("rpccall -watch printed more: %q", rest)
	}
	if !strings.Contains(watch.stderr.String(), "rpccall: connection lost: ") {
		t.Errorf("rpccall -watch did not report the lost connection; stderr:\n%s", watch.stderr.String())
	}
}

// TestRPCCallWatchSIGTERM ends a watch with SIGTERM (exit status 0),
// and a watch whose method the server refuses (exit status 1, no retry).
func TestRPCCallWatchSIGTERM(t *testing.T) {
	t.Parallel()
	srv := startProc(t, example(t, "electrum-server"), "-addr", "127.0.0.1:0", "-height", "3")
	addr, _ := strings.CutPrefix(srv.line(t), "listening on ")
	watch := startProc(t, example(t, "rpccall"), "-watch", addr, "blockchain.headers.subscribe", "[]")
	wantResult(t, watch, 3)
	watch.signal(t, syscall.SIGTERM)
	if code := watch.wait(t); code != 0 {
		t.Errorf("exit status after SIGTERM = %d, want 0; stderr:\n%s", code, watch.stderr.String())
	}
	runRPCCall(t, []rpccallCase{{
		name:   "method refused",
		args:   []string{"-watch", addr, "no.such.method"},
		code:   1,
		stderr: "rpccall: no.such.method: error ",
	}})
}

// tip is the part of a header notification or result the tests check.
type tip struct {
	Height int    `json:"height"`
	Hex    string `json:"hex"`
}

// wantResult reads the watch's next line: {"result": TIP} at height.
func wantResult(t *testing.T, watch *proc, height int) {
	t.Helper()
	l := watch.line(t)
	var got struct {
		Result tip `json:"result"`
	}
	if err := json.Unmarshal([]byte(l), &got); err != nil || got.Result.Height != height || len(got.Result.Hex) != 160 {
		t.Fatalf("rpccall -watch printed %q, want the result at height %d; stderr:\n%s", l, height, watch.stderr.String())
	}
}

// wantTip reads the watch's next line: the notification of height.
func wantTip(t *testing.T, watch *proc, height int) {
	t.Helper()
	l := watch.line(t)
	var got struct {
		Method string `json:"method"`
		Params []tip  `json:"params"`
	}
	if err := json.Unmarshal([]byte(l), &got); err != nil || got.Method != "blockchain.headers.subscribe" ||
		len(got.Params) != 1 || got.Params[0].Height != height {
		t.Fatalf("rpccall -watch printed %q, want the notification of height %d; stderr:\n%s", l, height, watch.stderr.String())
	}
}

// mine has electrum-server add a block, and checks it is at height.
func mine(t *testing.T, srv *proc, height int) {
	t.Helper()
	if _, err := fmt.Fprintln(srv.stdin, "mine"); err != nil {
		t.Fatal(err)
	}
	if l := srv.line(t); !strings.HasPrefix(l, fmt.Sprintf("block %d ", height)) {
		t.Fatalf("electrum-server printed %q after mine, want block %d", l, height)
	}
}
