package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorpcx/gorpcx/internal/realpeer"
)

// The real Electrum wallet (Debian's electrum, 4.3.4 when this was
// written), run as real-peers.md in the steering notes describes: each
// wallet in a data directory of its own (-D), HOME in a temporary
// directory, configured offline, then a daemon started with "daemon -d"
// and driven with its command line. Each command is bounded by
// walletCommandWait; the whole test takes about 15 s.

// walletCommandWait bounds one run of the electrum command.
const walletCommandWait = 30 * time.Second

// wallet is an Electrum wallet daemon in a directory of its own.
type wallet struct {
	t    *testing.T
	name string
	bin  string
	dir  string   // its data directory (-D)
	home string   // HOME for every electrum command
	pid  int      // the daemon's, once started
	out  []string // what it printed, for failure messages
}

// newWallet configures a wallet for server ("host:port:t" or ":s")
// and creates its wallet file, with electrum's own commands.
func newWallet(t *testing.T, name, bin, server string) *wallet {
	t.Helper()
	root := t.TempDir()
	w := &wallet{t: t, name: name, bin: bin, dir: filepath.Join(root, "electrum"), home: filepath.Join(root, "home")}
	if err := os.Mkdir(w.home, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--offline", "setconfig", "oneserver", "true"},
		{"--offline", "setconfig", "server", server},
		{"--offline", "setconfig", "auto_connect", "false"},
		{"--offline", "setconfig", "log_to_file", "true"},
		{"--offline", "create", "--seed_type", "segwit"},
	} {
		w.must(args...)
	}
	return w
}

// run runs electrum --regtest -D dir args and returns its standard
// output and error.
func (w *wallet) run(args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), walletCommandWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.bin, append([]string{"--regtest", "-D", w.dir}, args...)...)
	env := []string{"HOME=" + w.home}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	// Files, not pipes: "daemon -d" forks a child that must not hold
	// the command's output open.
	outFile, err := os.CreateTemp(w.t.TempDir(), "stdout")
	if err != nil {
		return "", "", err
	}
	defer outFile.Close()
	errFile, err := os.CreateTemp(w.t.TempDir(), "stderr")
	if err != nil {
		return "", "", err
	}
	defer errFile.Close()
	cmd.Stdout, cmd.Stderr = outFile, errFile
	err = cmd.Run()
	o, _ := os.ReadFile(outFile.Name())
	e, _ := os.ReadFile(errFile.Name())
	w.out = append(w.out, fmt.Sprintf("$ electrum %s\n%s%s", strings.Join(args, " "), o, e))
	return string(o), string(e), err
}

// must runs electrum with args and fails the test if it fails.
func (w *wallet) must(args ...string) string {
	w.t.Helper()
	out, errOut, err := w.run(args...)
	if err != nil {
		w.t.Fatalf("%s: electrum %s: %v\n%s%s", w.name, strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// daemonPID finds the process id "daemon -d" reports.
var daemonPID = regexp.MustCompile(`starting daemon \(PID (\d+)\)`)

// start starts the daemon and loads the wallet. The daemon is stopped,
// and killed by its process id if it does not end, when the test ends.
func (w *wallet) start() {
	w.t.Helper()
	out, errOut, err := w.run("daemon", "-d")
	if err != nil {
		w.t.Fatalf("%s: electrum daemon -d: %v\n%s%s", w.name, err, out, errOut)
	}
	m := daemonPID.FindStringSubmatch(out + errOut)
	if m == nil {
		w.t.Fatalf("%s: electrum daemon -d did not report its PID:\n%s%s", w.name, out, errOut)
	}
	w.pid, _ = strconv.Atoi(m[1])
	w.t.Cleanup(w.stop)
	w.must("load_wallet")
}

// alive reports whether the daemon still runs: its process exists, is
// not a zombie, and is the electrum of this wallet's directory (not a
// process that has reused its id).
func (w *wallet) alive() bool {
	if w.pid == 0 {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", w.pid))
	if err != nil || !bytes.Contains(cmdline, []byte(w.dir)) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", w.pid))
	if err != nil {
		return false
	}
	if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
		return false
	}
	return true
}

// stop ends the daemon with "electrum stop", and by SIGKILL to its
// process id if it is still there after a while.
func (w *wallet) stop() {
	if !w.alive() {
		return
	}
	if _, _, err := w.run("stop"); err != nil {
		w.t.Logf("%s: electrum stop: %v", w.name, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for w.alive() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if w.alive() {
		w.t.Errorf("%s: the daemon (PID %d) did not stop; killing it", w.name, w.pid)
		if err := syscall.Kill(w.pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			w.t.Errorf("%s: killing PID %d: %v", w.name, w.pid, err)
		}
	}
	w.pid = 0
}

// info is what "electrum getinfo" reports that the test looks at.
type info struct {
	Connected        bool `json:"connected"`
	ServerHeight     int  `json:"server_height"`
	BlockchainHeight int  `json:"blockchain_height"`
}

// getinfo runs "electrum getinfo".
func (w *wallet) getinfo() info {
	w.t.Helper()
	out := w.must("getinfo")
	var i info
	if err := json.Unmarshal([]byte(out), &i); err != nil {
		w.t.Fatalf("%s: getinfo printed %q: %v", w.name, out, err)
	}
	return i
}

// logTail returns the end of the daemon's newest log file.
func (w *wallet) logTail() string {
	files, _ := filepath.Glob(filepath.Join(w.dir, "regtest", "logs", "*.log"))
	if len(files) == 0 {
		return "(no log file)"
	}
	b, _ := os.ReadFile(files[len(files)-1])
	const most = 4000
	if len(b) > most {
		b = b[len(b)-most:]
	}
	return string(b)
}

// waitHeight polls getinfo until the wallet is connected and both its
// server's height and its own chain's are height, and returns how long
// that took.
func (w *wallet) waitHeight(height int) time.Duration {
	w.t.Helper()
	start := time.Now()
	deadline := start.Add(wait)
	var last info
	for time.Now().Before(deadline) {
		last = w.getinfo()
		if last.Connected && last.ServerHeight == height && last.BlockchainHeight == height {
			return time.Since(start)
		}
		time.Sleep(200 * time.Millisecond)
	}
	w.t.Fatalf("%s: getinfo %+v after %v, want connected at height %d\n%s\n--- electrum log:\n%s", w.name, last, wait, height, strings.Join(w.out, "\n"), w.logTail())
	return 0
}

// request is one request in the server's debug log.
type request struct {
	peer, method, id, params string
}

// requestLine matches the server's debug log line of a request.
var requestLine = regexp.MustCompile(`\trequest\t(\{.*\})`)

// sessionLine matches the server's debug log line of a session's end.
var sessionLine = regexp.MustCompile(`\tsession ended\t(\{.*\})`)

// headersStats matches the counters of the headers topic the server
// logs at shutdown.
var headersStats = regexp.MustCompile(`headers notifications\t\{.*\}`)

// sessionEnd is what the server logs when a session ends.
type sessionEnd struct {
	Peer     string `json:"peer"`
	Endpoint string `json:"endpoint"`
	Requests uint64 `json:"requests"`
	Messages uint64 `json:"messages"`
}

// parseLog returns the requests and the session ends of the server's
// debug log.
func parseLog(t *testing.T, log string) ([]request, []sessionEnd) {
	t.Helper()
	var reqs []request
	var ends []sessionEnd
	for _, line := range strings.Split(log, "\n") {
		if m := requestLine.FindStringSubmatch(line); m != nil {
			var f struct{ Peer, Method, ID, Params string }
			if err := json.Unmarshal([]byte(m[1]), &f); err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			reqs = append(reqs, request{f.Peer, f.Method, f.ID, f.Params})
		}
		if m := sessionLine.FindStringSubmatch(line); m != nil {
			var e sessionEnd
			if err := json.Unmarshal([]byte(m[1]), &e); err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			ends = append(ends, e)
		}
	}
	return reqs, ends
}

// idNumber returns the request id id as a number (-1 if it is none).
func idNumber(id string) int {
	n, err := strconv.Atoi(id)
	if err != nil {
		return -1
	}
	return n
}

// summary lists requests in order, runs of one method as one line.
func summary(reqs []request) string {
	var b strings.Builder
	for i := 0; i < len(reqs); {
		j := i
		for j < len(reqs) && reqs[j].method == reqs[i].method {
			j++
		}
		if j-i == 1 {
			fmt.Fprintf(&b, "  %s %s\n", reqs[i].method, reqs[i].params)
		} else {
			fmt.Fprintf(&b, "  %s x%d (%s ... %s)\n", reqs[i].method, j-i, reqs[i].params, reqs[j-1].params)
		}
		i = j
	}
	return b.String()
}

// TestElectrumWallet points two real Electrum wallets at one server,
// one over TCP and one over TLS (where Electrum fetches the self-signed
// certificate and pins it), checks that both are connected at the
// server's height, mines blocks and checks that both follow through
// pushed headers notifications.
func TestElectrumWallet(t *testing.T) {
	bin := realpeer.Need(t, "electrum", "electrum")
	const startHeight, mined = 20, 3
	// Registered first, so run after the server has stopped and logged
	// the counters of the headers topic.
	var s *testServer
	t.Cleanup(func() {
		if s != nil {
			t.Logf("at shutdown: %s", headersStats.FindString(s.log.String()))
		}
	})
	s = startServer(t, "-height", strconv.Itoa(startHeight), "-tls-addr", "127.0.0.1:0", "-log", "debug")

	begin := time.Now()
	wallets := []*wallet{
		newWallet(t, "tcp", bin, s.tcp+":t"),
		newWallet(t, "tls", bin, s.tls+":s"),
	}
	for _, w := range wallets {
		w.start()
	}
	setup := time.Since(begin)
	for _, w := range wallets {
		took := w.waitHeight(startHeight)
		t.Logf("%s: connected at height %d %v after its daemon started", w.name, startHeight, took)
	}
	synced := time.Since(begin)

	s.command(t, fmt.Sprintf("mine %d", mined))
	for want := startHeight + 1; want <= startHeight+mined; want++ {
		if height, _ := s.blockLine(t); height != want {
			t.Fatalf("mined block %d, want %d", height, want)
		}
	}
	mineAt := time.Now()
	for _, w := range wallets {
		took := w.waitHeight(startHeight + mined)
		t.Logf("%s: followed to height %d %v after mining", w.name, startHeight+mined, took)
	}
	followed := time.Since(mineAt)

	if _, err := os.Stat(filepath.Join(wallets[1].dir, "regtest", "certs")); err != nil {
		t.Errorf("the TLS wallet pinned no certificate: %v", err)
	}
	for _, w := range wallets {
		w.stop()
	}
	t.Logf("timings: configure, create and start both wallets %v; both synced %v from the start; both followed %d blocks %v after mining; total %v",
		setup.Round(time.Millisecond), synced.Round(time.Millisecond), mined, followed.Round(time.Millisecond), time.Since(begin).Round(time.Millisecond))

	// Every session has ended (the daemons saw EOF): read what they sent.
	var reqs []request
	var ends []sessionEnd
	deadline := time.Now().Add(wait)
	for {
		reqs, ends = parseLog(t, s.log.String())
		talked := 0
		for _, e := range ends {
			if e.Requests > 0 {
				talked++
			}
		}
		if talked >= len(wallets) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	byPeer := map[string][]request{}
	for _, r := range reqs {
		byPeer[r.peer] = append(byPeer[r.peer], r)
	}
	silentTLS := 0
	talking := map[string]bool{}
	for _, e := range ends {
		if e.Requests == 0 {
			if e.Endpoint == "tls" {
				silentTLS++
			}
			continue
		}
		talking[e.Endpoint] = true
		// A batch is one message of several requests.
		if e.Messages != e.Requests {
			t.Errorf("%s session from %s: %d requests in %d messages: Electrum sent batches", e.Endpoint, e.Peer, e.Requests, e.Messages)
		}
		// The log is in the order the handlers started, which may
		// differ from the order of arrival: the session runs a peer's
		// requests concurrently. The ids count up from 0 in order.
		rs := byPeer[e.Peer]
		slices.SortFunc(rs, func(a, b request) int { return cmp.Compare(idNumber(a.id), idNumber(b.id)) })
		if len(rs) == 0 || rs[0].method != "server.version" {
			t.Errorf("%s session from %s: the first request is not server.version:\n%s", e.Endpoint, e.Peer, summary(rs))
			continue
		}
		subscribes := 0
		for i, r := range rs {
			if r.id != strconv.Itoa(i) {
				t.Errorf("%s session from %s: request %d has id %s", e.Endpoint, e.Peer, i, r.id)
			}
			if r.method == "blockchain.headers.subscribe" {
				subscribes++
				if r.params != "absent" {
					t.Errorf("blockchain.headers.subscribe with params %s; Electrum 4.3.4 sends none", r.params)
				}
			}
		}
		// The wallet learnt the new blocks from notifications, not by
		// asking for the tip again.
		if subscribes != 1 {
			t.Errorf("%s session from %s: %d blockchain.headers.subscribe, want 1", e.Endpoint, e.Peer, subscribes)
		}
		t.Logf("%s session from %s: %d requests in %d messages:\n%s", e.Endpoint, e.Peer, e.Requests, e.Messages, summary(rs))
	}
	if !talking["tcp"] || !talking["tls"] {
		t.Errorf("sessions that sent requests: %v, want tcp and tls", talking)
	}
	// Electrum fetches a self-signed certificate on a connection of its
	// own, closed without a request, before it connects with it pinned.
	if silentTLS == 0 {
		t.Errorf("no TLS session ended without a request: Electrum did not fetch the certificate first")
	}
	t.Logf("TLS sessions that ended without a request (fetching the certificate): %d", silentTLS)
}
