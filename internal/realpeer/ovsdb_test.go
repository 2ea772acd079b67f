package realpeer

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestStartOVSDB checks that the server started serves its database on
// both sockets, to ovsdb-client and to a raw JSON-RPC 1.0 request, and
// that it keeps everything in its own directory.
func TestStartOVSDB(t *testing.T) {
	o := StartOVSDB(t)
	if !strings.HasPrefix(o.Addr, "127.0.0.1:") || !strings.HasPrefix(o.Socket, o.Dir+string(filepath.Separator)) {
		t.Fatalf("Addr %q, Socket %q (Dir %q); want a loopback address and a socket in Dir", o.Addr, o.Socket, o.Dir)
	}
	if got, want := o.Client(t, "list-dbs"), "Open_vSwitch\n_Server\n"; got != want {
		t.Errorf("ovsdb-client list-dbs printed %q, want %q", got, want)
	}
	for _, f := range []string{"pid", "ctl", "log", "conf.db"} {
		if _, err := os.Stat(filepath.Join(o.Dir, f)); err != nil {
			t.Errorf("the server's %s is not in its directory: %v", f, err)
		}
	}
	pid, err := os.ReadFile(filepath.Join(o.Dir, "pid"))
	if err != nil || strings.TrimSpace(string(pid)) != strconv.Itoa(o.p.cmd.Process.Pid) {
		t.Errorf("pid file %q, %v; want the pid of the process started, %d", pid, err, o.p.cmd.Process.Pid)
	}
	for _, remote := range []struct{ network, address string }{{"unix", o.Socket}, {"tcp", o.Addr}} {
		t.Run(remote.network, func(t *testing.T) {
			got := rawListDBs(t, remote.network, remote.address)
			if want := `["Open_vSwitch","_Server"]`; got != want {
				t.Errorf("list_dbs over %s returned %s, want %s", remote.network, got, want)
			}
		})
	}
}

// rawListDBs sends list_dbs by hand and returns the result.
func rawListDBs(t *testing.T, network, address string) string {
	t.Helper()
	c, err := net.DialTimeout(network, address, wait)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(wait))
	if _, err := c.Write([]byte(`{"method":"list_dbs","params":[],"id":7}`)); err != nil {
		t.Fatal(err)
	}
	// ovsdb-server ends its messages with nothing: a JSON decoder finds
	// where the value ends.
	var reply struct {
		ID     json.RawMessage `json:"id"`
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.NewDecoder(c).Decode(&reply); err != nil {
		t.Fatal(err)
	}
	if string(reply.ID) != "7" || string(reply.Error) != "null" {
		t.Fatalf("reply id %s, error %s; want 7 and null", reply.ID, reply.Error)
	}
	var compact bytes.Buffer
	json.Compact(&compact, reply.Result)
	return compact.String()
}

// TestStopOVSDB checks that the server is ended by its process id when
// its test ends.
func TestStopOVSDB(t *testing.T) {
	var o *OVSDB
	t.Run("started", func(t *testing.T) {
		o = StartOVSDB(t)
	})
	if o == nil || o.p == nil {
		t.Skip("the server did not start")
	}
	select {
	case <-o.p.exited:
	default:
		t.Fatalf("ovsdb-server (pid %d) still runs after its test ended", o.p.cmd.Process.Pid)
	}
	if _, err := os.Stat(o.Dir); !os.IsNotExist(err) {
		t.Errorf("its directory %s is still there: %v", o.Dir, err)
	}
}

// TestOVSDBWaitLog checks that the log records the messages the server
// receives, which WaitLog finds.
func TestOVSDBWaitLog(t *testing.T) {
	o := StartOVSDB(t)
	rawListDBs(t, "unix", o.Socket)
	o.WaitLog(t, `received request, method="list_dbs", params=[], id=7`, wait)
}
