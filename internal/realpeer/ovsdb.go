package realpeer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// OVSSchema is the schema of Open vSwitch's own database, which
// [StartOVSDB] creates its database from (Debian package
// openvswitch-common).
const OVSSchema = "/usr/share/openvswitch/vswitch.ovsschema"

// OVSDB is an ovsdb-server started by [StartOVSDB] for one test: one
// database made from [OVSSchema], served on a Unix socket and on a TCP
// loopback port.
type OVSDB struct {
	// Dir is the directory of the database, the sockets, the pid file
	// and the log.
	Dir string
	// Socket is the path of the Unix socket it listens on.
	Socket string
	// Addr is the TCP address it listens on: "127.0.0.1:PORT".
	Addr string

	client string // the path of ovsdb-client
	p      *process
}

// StartOVSDB creates a database with `ovsdb-tool create` in a new
// temporary directory and serves it with ovsdb-server, a child process
// in the foreground, on a Unix socket in that directory and on a TCP
// loopback port the server picks (ptcp:0, read back from its log, so no
// other process can take it first). Its pid file, control socket and
// log stay in the directory (OVS_RUNDIR and the like point there too);
// no system service is used or touched. The log records every JSON-RPC
// message the server sends and receives (the jsonrpc module at debug
// level), so that a test can check what the server made of its client's
// messages ([OVSDB.WaitLog]). It waits until both sockets
// accept connections and returns the server, which is stopped by its
// process id, and the directory removed, when the test ends.
//
// The directory is made with a short name directly under the system's
// temporary directory, not by t.TempDir, because a Unix socket's path
// is limited to about 100 bytes and test names can be long.
//
// It fails t if the server does not start, and skips or fails it as
// [Need] does if ovsdb-server, ovsdb-tool or ovsdb-client is not
// installed (Debian package openvswitch-switch), or if the schema is
// missing.
func StartOVSDB(t testing.TB) *OVSDB {
	t.Helper()
	server := Need(t, "ovsdb-server", "openvswitch-switch")
	tool := Need(t, "ovsdb-tool", "openvswitch-switch")
	o := &OVSDB{client: Need(t, "ovsdb-client", "openvswitch-switch")}
	if _, err := os.Stat(OVSSchema); err != nil {
		missing(t, fmt.Sprintf("the Open vSwitch schema is missing (apt-get install openvswitch-common): %v", err))
	}

	dir, err := os.MkdirTemp("", "ovsdb-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	o.Dir = dir
	o.Socket = filepath.Join(dir, "db.sock")
	db := filepath.Join(dir, "conf.db")
	env := ovsEnv(dir)

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	create := exec.CommandContext(ctx, tool, "create", db, OVSSchema)
	create.Env = env
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("realpeer: ovsdb-tool create: %v\n%s", err, out)
	}

	log := filepath.Join(dir, "log")
	cmd := exec.Command(server, db,
		"--remote=punix:"+o.Socket,
		"--remote=ptcp:0:127.0.0.1",
		"--pidfile="+filepath.Join(dir, "pid"),
		"--unixctl="+filepath.Join(dir, "ctl"),
		"--log-file="+log,
		"-vsyslog:off",
		"-vjsonrpc:file:dbg", // every message sent and received, in the log
	)
	cmd.Env = env
	o.p, err = startCmd(cmd, filepath.Join(dir, "ovsdb-server.out"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := o.p.stop(); err != nil {
			t.Errorf("realpeer: stopping ovsdb-server: %v\n%s", err, o.p.output())
		}
	})
	if o.Addr, err = o.p.waitOVSDB(log, o.Socket); err != nil {
		logged, _ := os.ReadFile(log)
		t.Fatalf("realpeer: ovsdb-server did not start: %v\n%s%s", err, o.p.output(), logged)
	}
	return o
}

// ovsEnv is the environment of the Open vSwitch programs: the
// directories they would use by default (under /var and /etc) all moved
// to dir.
func ovsEnv(dir string) []string {
	env := os.Environ()
	for _, v := range []string{"OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR", "OVS_SYSCONFDIR"} {
		env = append(env, v+"="+dir)
	}
	return env
}

// listeningOn is what ovsdb-server logs once it has bound a TCP port it
// was asked to pick (a ptcp:0 remote).
var listeningOn = regexp.MustCompile(`listening on port (\d+)`)

// waitOVSDB waits until ovsdb-server has logged the TCP port it listens
// on and both it and the Unix socket accept a connection, and returns
// the TCP address. It fails if the program exits first or is not
// serving in time.
func (p *process) waitOVSDB(log, socket string) (string, error) {
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return "", fmt.Errorf("exited: %v", p.err)
		default:
		}
		b, _ := os.ReadFile(log)
		if m := listeningOn.FindSubmatch(b); m != nil {
			addr := "127.0.0.1:" + string(m[1])
			if accepts("tcp", addr) && accepts("unix", socket) {
				return addr, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "", errors.New("not serving after " + wait.String())
}

// accepts reports whether a connection to address can be made.
func accepts(network, address string) bool {
	c, err := net.DialTimeout(network, address, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Client runs `ovsdb-client COMMAND unix:SOCKET ARGS...` against the
// server, the reference client to compare with, and returns its
// standard output. It fails t if ovsdb-client fails or does not finish
// in time, with what it wrote on standard error.
func (o *OVSDB) Client(t testing.TB, command string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cmd := exec.CommandContext(ctx, o.client, append([]string{command, "unix:" + o.Socket}, args...)...)
	cmd.Env = ovsEnv(o.Dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("realpeer: ovsdb-client %s: %v\n%s", command, err, stderr.Bytes())
	}
	return stdout.String()
}

// WaitLog waits until the server's log contains text, such as
// `received reply, result=[], id="echo"` (the server's record of a
// client's answer to its echo probe), and fails t if it does not within
// the time given.
func (o *OVSDB) WaitLog(t testing.TB, text string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(o.Log(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("realpeer: ovsdb-server did not log %q within %v; its log:\n%s", text, within, o.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Log returns what the server has written to its log so far, for
// failure messages.
func (o *OVSDB) Log() string {
	b, err := os.ReadFile(filepath.Join(o.Dir, "log"))
	if err != nil {
		return err.Error()
	}
	return string(b)
}
