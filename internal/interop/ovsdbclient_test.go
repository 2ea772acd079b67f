package interop

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorpcx/gorpcx/internal/realpeer"
)

// These tests run examples/ovsdb-client as a process against a real
// ovsdb-server, and compare what it prints with Open vSwitch's own
// ovsdb-client.

// exampleCase is one run of an example program to completion.
type exampleCase struct {
	name string
	args []string
	code int
	// stdout is the exact standard output; stderr a text standard error
	// must contain ("" means it must be empty).
	stdout, stderr string
}

// runExample runs bin once for each case, with env added to its
// environment, and checks its exit status and output.
func runExample(t *testing.T, bin string, env []string, tests []exampleCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runProcEnv(t, env, "", bin, tc.args...)
			if code != tc.code || stdout != tc.stdout ||
				(tc.stderr == "" && stderr != "") || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("%s %q:\nexit %d, want %d\nstdout %q, want %q\nstderr %q, want it to contain %q",
					bin, tc.args, code, tc.code, stdout, tc.stdout, stderr, tc.stderr)
			}
		})
	}
}

// referenceTables returns the tables `ovsdb-client list-tables` prints
// (after its two header lines), sorted, one a line.
func referenceTables(t *testing.T, o *realpeer.OVSDB) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(o.Client(t, "list-tables", "Open_vSwitch")), "\n")
	if len(lines) < 3 || lines[0] != "Table" {
		t.Fatalf("ovsdb-client list-tables printed %q; want a header and the tables", lines)
	}
	tables := lines[2:]
	slices.Sort(tables)
	return strings.Join(tables, "\n") + "\n"
}

func TestOVSDBClientExample(t *testing.T) {
	t.Parallel()
	o := realpeer.StartOVSDB(t)
	bin := example(t, "ovsdb-client")
	unix, tcp := "unix:"+o.Socket, "tcp:"+o.Addr
	dbs, tables := o.Client(t, "list-dbs"), referenceTables(t, o)

	runExample(t, bin, nil, []exampleCase{{
		name:   "list-dbs over unix",
		args:   []string{"-server", unix, "list-dbs"},
		stdout: dbs,
	}, {
		name:   "list-dbs over tcp",
		args:   []string{"-server", tcp, "list-dbs"},
		stdout: dbs,
	}, {
		name:   "list-tables",
		args:   []string{"-server", unix, "list-tables"},
		stdout: tables,
	}, {
		name:   "list-tables of _Server",
		args:   []string{"-server", tcp, "-db", "_Server", "list-tables"},
		stdout: "Database\n",
	}, {
		name: "unknown database",
		args: []string{"-server", unix, "-db", "No_Such_DB", "list-tables"},
		code: 1,
		// The server's object follows, as it was sent.
		stderr: "ovsdb-client: server error: unknown database: get_schema request specifies unknown database No_Such_DB\n" +
			`ovsdb-client: as sent: {`,
	}, {
		name:   "monitor of an unknown table",
		args:   []string{"-server", tcp, "monitor", "No_Such_Table"},
		code:   1,
		stderr: "ovsdb-client: server error: syntax error: no table named No_Such_Table\n",
	}, {
		name:   "no server",
		args:   []string{"-server", "unix:" + o.Dir + "/none.sock", "list-dbs"},
		code:   2,
		stderr: "cannot connect",
	}, {
		name:   "no command",
		args:   []string{"-server", unix},
		code:   64,
		stderr: "give a command",
	}, {
		name:   "ssl remote",
		args:   []string{"-server", "ssl:127.0.0.1:6640", "list-dbs"},
		code:   64,
		stderr: "only unix: and tcp:",
	}, {
		name:   "monitor without a table",
		args:   []string{"-server", unix, "monitor"},
		code:   64,
		stderr: "monitor needs a table",
	}})
}

// TestOVSDBClientExampleMonitor runs the example's monitor over TCP: the
// rows present; then, after the example has been idle long enough to be
// probed (the server records the example's answer), a row inserted,
// modified and deleted by Open vSwitch's ovsdb-client; and the
// example's exit after -count updates.
func TestOVSDBClientExampleMonitor(t *testing.T) {
	t.Parallel()
	o := realpeer.StartOVSDB(t)
	bin := example(t, "ovsdb-client")
	// transact runs a transaction with ovsdb-client and returns the UUID
	// of the first row it inserted ("" if none).
	transact := func(ops ...any) string {
		b, err := json.Marshal(ops)
		if err != nil {
			t.Fatal(err)
		}
		out := o.Client(t, "transact", string(b))
		var results []struct {
			UUID []string `json:"uuid"`
		}
		if err := json.Unmarshal([]byte(out), &results); err != nil || len(results) != len(ops)-1 {
			t.Fatalf("ovsdb-client transact %s: %s (%v)", b, out, err)
		}
		if len(results[0].UUID) == 2 {
			return results[0].UUID[1]
		}
		return ""
	}
	br0 := transact(insertBridge("br0", true)...)

	mon := startProc(t, bin, "-server", "tcp:"+o.Addr, "-count", "3", "monitor", "Bridge", "name", "external_ids")
	for _, want := range []string{
		fmt.Sprintf(`initial Bridge %s {"name":"br0","external_ids":["map",[]]}`, br0),
		"--",
	} {
		if got := mon.line(t); got != want {
			t.Fatalf("line %q, want %q", got, want)
		}
	}

	// Idle past ovsdb-server's probe of a quiet TCP client (5 s).
	start := time.Now()
	o.WaitLog(t, ovsdbEchoAnswered, ovsdbProbeWait)
	t.Logf("the example answered the echo probe after %v idle", time.Since(start).Round(time.Millisecond))

	br1 := transact(insertBridge("br1", false)...)
	transact("Open_vSwitch", map[string]any{"op": "update", "table": "Bridge",
		"where": []any{[]any{"name", "==", "br1"}},
		"row":   map[string]any{"external_ids": []any{"map", []any{[]any{"k", "v"}}}}})
	transact("Open_vSwitch", map[string]any{"op": "mutate", "table": "Open_vSwitch", "where": []any{},
		"mutations": []any{[]any{"bridges", "delete", []any{"set", []any{[]any{"uuid", br1}}}}}})
	for _, want := range []string{
		fmt.Sprintf(`insert Bridge %s {"name":"br1","external_ids":["map",[]]}`, br1),
		fmt.Sprintf(`modify Bridge %s {"name":"br1","external_ids":["map",[["k","v"]]]}`, br1),
		fmt.Sprintf(`delete Bridge %s {"name":"br1","external_ids":["map",[["k","v"]]]}`, br1),
	} {
		if got := mon.line(t); got != want {
			t.Fatalf("line %q, want %q", got, want)
		}
	}
	if rest := mon.rest(t); len(rest) != 0 {
		t.Errorf("more output after the updates: %q", rest)
	}
	if code := mon.wait(t); code != 0 {
		t.Errorf("exit status %d after -count 3 updates, want 0; stderr:\n%s", code, mon.stderr.String())
	}
	o.WaitLog(t, `received request, method="monitor_cancel", params=["ovsdb-client"]`, procWait)
}
