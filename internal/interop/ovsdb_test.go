package interop

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/internal/realpeer"
	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// These tests run gorpcx sessions against Open vSwitch's ovsdb-server
// (JSON-RPC 1.0, RFC 7047, messages back to back with no separator),
// started by realpeer.StartOVSDB, over its Unix socket and over TCP.

// ovsdbProbeWait bounds the wait for ovsdb-server's first echo probe,
// which it sends to a TCP client idle for 5 s.
const ovsdbProbeWait = 15 * time.Second

// ovsdbPeer is a client session to ovsdb-server and what it has been
// sent.
type ovsdbPeer struct {
	*session.Session
	updates chan json.RawMessage // the params of "update" notifications
	echoes  atomic.Int32         // echo probes answered
	echoed  chan struct{}        // receives at each echo probe, if there is room
}

// dialOVSDB connects a JSON-RPC 1.0 session to ovsdb-server, serving
// its echo probes and update notifications.
func dialOVSDB(t *testing.T, network, address string) *ovsdbPeer {
	t.Helper()
	p := &ovsdbPeer{updates: make(chan json.RawMessage, 16), echoed: make(chan struct{}, 1)}
	d := server.Dialer{
		Framer: framing.RawJSON{},
		Options: session.Options{
			Dialect: protocol.V1,
			// Updates are taken in the order the server sent them.
			Concurrency:    1,
			RequestTimeout: procWait,
			Handler: handler.Methods{
				"echo": session.HandlerFunc(func(_ context.Context, req *jsonrpc2.Request) (any, error) {
					p.echoes.Add(1)
					select {
					case p.echoed <- struct{}{}:
					default:
					}
					return rawParams(req), nil // RFC 7047: the params, as the result
				}),
				"update": session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
					select {
					case p.updates <- rawParams(req):
					case <-ctx.Done():
					}
					return nil, nil
				}),
			},
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), procWait)
	defer cancel()
	s, err := d.Dial(ctx, network, address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Abort()
		<-s.Done()
	})
	p.Session = s
	return p
}

// rawParams returns the params of a request, or an empty array if it
// has none.
func rawParams(req *jsonrpc2.Request) json.RawMessage {
	if req.Params == nil {
		return json.RawMessage("[]")
	}
	return *req.Params
}

// call makes a call bounded by procWait.
func (p *ovsdbPeer) call(method string, params, result any) error {
	ctx, cancel := context.WithTimeout(context.Background(), procWait)
	defer cancel()
	return p.Call(ctx, method, params, result)
}

// insertBridge returns a transaction that inserts a bridge named name
// and adds it to the Open_vSwitch row (a bridge nothing refers to is
// removed at once: Bridge is not a root table). With first, it inserts
// the Open_vSwitch row too.
func insertBridge(name string, first bool) []any {
	bridge := map[string]any{"op": "insert", "table": "Bridge", "row": map[string]any{"name": name}, "uuid-name": "br"}
	ref := []any{"set", []any{[]any{"named-uuid", "br"}}}
	if first {
		return []any{"Open_vSwitch", bridge,
			map[string]any{"op": "insert", "table": "Open_vSwitch", "row": map[string]any{"bridges": ref}}}
	}
	return []any{"Open_vSwitch", bridge,
		map[string]any{"op": "mutate", "table": "Open_vSwitch", "where": []any{},
			"mutations": []any{[]any{"bridges", "insert", ref}}}}
}

// TestOVSDB runs the conversation of an ovsdb-server client: list the
// databases (compared with ovsdb-client's), read a schema, insert rows,
// monitor a table and receive its updates, get the server's errors in
// its own words, and, over TCP, answer its echo probes and stay
// connected past them.
func TestOVSDB(t *testing.T) {
	t.Parallel()
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) {
			t.Parallel()
			o := realpeer.StartOVSDB(t)
			address := o.Socket
			if network == "tcp" {
				address = o.Addr
			}
			p := dialOVSDB(t, network, address)
			defer func() {
				if t.Failed() {
					t.Logf("ovsdb-server's log:\n%s", o.Log())
				}
			}()

			var dbs []string
			if err := p.call("list_dbs", []any{}, &dbs); err != nil {
				t.Fatalf("list_dbs: %v", err)
			}
			if got, want := strings.Join(dbs, "\n")+"\n", o.Client(t, "list-dbs"); got != want {
				t.Errorf("list_dbs returned %q; ovsdb-client list-dbs printed %q", got, want)
			}

			var schema struct {
				Name   string                     `json:"name"`
				Tables map[string]json.RawMessage `json:"tables"`
			}
			if err := p.call("get_schema", []any{"Open_vSwitch"}, &schema); err != nil {
				t.Fatalf("get_schema: %v", err)
			}
			if schema.Name != "Open_vSwitch" || schema.Tables["Bridge"] == nil {
				t.Errorf("get_schema returned a schema named %q with %d tables; want Open_vSwitch with a Bridge table", schema.Name, len(schema.Tables))
			}

			var inserted []struct {
				UUID []string `json:"uuid"`
			}
			if err := p.call("transact", insertBridge("br0", true), &inserted); err != nil {
				t.Fatalf("transact: %v", err)
			}
			if len(inserted) != 2 || len(inserted[0].UUID) != 2 || inserted[0].UUID[0] != "uuid" {
				t.Fatalf("transact returned %+v; want the UUIDs of the two rows inserted", inserted)
			}
			br0 := inserted[0].UUID[1]

			testOVSDBMonitor(t, p, br0)
			testOVSDBErrors(t, p)
			if network == "tcp" {
				testOVSDBEcho(t, p, o)
			}
		})
	}
}

// testOVSDBMonitor monitors the Bridge table, finds br0 (UUID uuid) in
// the rows returned, inserts br1 and receives the update.
func testOVSDBMonitor(t *testing.T, p *ovsdbPeer, uuid string) {
	t.Helper()
	type rows map[string]map[string]struct {
		Old map[string]json.RawMessage `json:"old"`
		New map[string]json.RawMessage `json:"new"`
	}
	var initial rows
	req := map[string]any{"Bridge": map[string]any{"columns": []string{"name"}}}
	if err := p.call("monitor", []any{"Open_vSwitch", "bridges", req}, &initial); err != nil {
		t.Fatalf("monitor: %v", err)
	}
	if got := string(initial["Bridge"][uuid].New["name"]); got != `"br0"` {
		t.Fatalf("monitor returned %+v; want bridge %s named br0", initial, uuid)
	}

	if err := p.call("transact", insertBridge("br1", false), nil); err != nil {
		t.Fatalf("transact: %v", err)
	}
	select {
	case params := <-p.updates:
		var args []json.RawMessage
		var update rows
		if err := json.Unmarshal(params, &args); err != nil || len(args) != 2 ||
			string(args[0]) != `"bridges"` || json.Unmarshal(args[1], &update) != nil {
			t.Fatalf("update params %s; want [\"bridges\", table updates]", params)
		}
		if len(update["Bridge"]) != 1 {
			t.Fatalf("update %s; want one Bridge row", params)
		}
		for _, row := range update["Bridge"] {
			if row.Old != nil || string(row.New["name"]) != `"br1"` {
				t.Errorf("update %s; want the insertion of br1", params)
			}
		}
	case <-time.After(procWait):
		t.Fatalf("no update notification within %v of the transaction", procWait)
	}
}

// testOVSDBErrors checks that the errors ovsdb-server sends (without a
// "result" member: a string for an unknown method, an object for an
// unknown database) reach the caller whole.
func testOVSDBErrors(t *testing.T, p *ovsdbPeer) {
	t.Helper()
	tests := []struct {
		name, method string
		params       []any
		message      string // the *jsonrpc2.Error's Message contains it
		data         string // Data is this string, or an object with this "error"
	}{
		{"unknown method", "no_such_method", []any{}, "unknown method", `"unknown method"`},
		{"unknown database", "get_schema", []any{"No_Such_DB"}, "unknown database", "unknown database"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := p.call(tc.method, tc.params, nil)
			var rpcErr *jsonrpc2.Error
			if !errors.As(err, &rpcErr) {
				t.Fatalf("%s: %v (%T); want a *jsonrpc2.Error", tc.method, err, err)
			}
			if rpcErr.Code != -100 || !strings.Contains(rpcErr.Message, tc.message) || rpcErr.Data == nil {
				t.Fatalf("%s: error %d %q, data %v; want -100, a message with %q and the server's value in Data",
					tc.method, rpcErr.Code, rpcErr.Message, rpcErr.Data, tc.message)
			}
			data := string(*rpcErr.Data)
			if strings.HasPrefix(tc.data, `"`) {
				if data != tc.data {
					t.Errorf("%s: Data %s, want %s as the server sent it", tc.method, data, tc.data)
				}
				return
			}
			var obj struct {
				Error   string `json:"error"`
				Details string `json:"details"`
			}
			if err := json.Unmarshal(*rpcErr.Data, &obj); err != nil || obj.Error != tc.data || obj.Details == "" {
				t.Errorf("%s: Data %s; want the server's object, with error %q and details", tc.method, data, tc.data)
			}
		})
	}
	// The session goes on after the errors.
	var dbs []string
	if err := p.call("list_dbs", []any{}, &dbs); err != nil || len(dbs) == 0 {
		t.Errorf("list_dbs after the errors: %v, %v", dbs, err)
	}
}

// ovsdbEchoAnswered is what ovsdb-server logs when it receives the
// right answer to its echo probe: its params, [], as the result.
const ovsdbEchoAnswered = `received reply, result=[], id="echo"`

// testOVSDBEcho waits, idle, for ovsdb-server's echo probe (it probes a
// TCP client quiet for 5 s), checks that the server received the
// session's answer (its log records the reply), and that the session is
// still connected and working a moment later.
func testOVSDBEcho(t *testing.T, p *ovsdbPeer, o *realpeer.OVSDB) {
	t.Helper()
	start := time.Now()
	select {
	case <-p.echoed:
	case <-p.Done():
		t.Fatalf("the session ended while idle, after %v: %v", time.Since(start), p.Err())
	case <-time.After(ovsdbProbeWait):
		t.Fatalf("no echo probe within %v of idling", ovsdbProbeWait)
	}
	t.Logf("echo probe after %v idle", time.Since(start).Round(time.Millisecond))
	o.WaitLog(t, ovsdbEchoAnswered, procWait)
	// Stay idle a moment more: a client that did not answer would be
	// disconnected 5 s after the probe; one that answers, never.
	select {
	case <-p.Done():
		t.Fatalf("the session ended after the echo probe: %v", p.Err())
	case <-time.After(time.Second):
	}
	var dbs []string
	if err := p.call("list_dbs", []any{}, &dbs); err != nil || len(dbs) == 0 {
		t.Fatalf("list_dbs after the echo probe: %v, %v", dbs, err)
	}
	t.Logf("connected %v, %d echo probes answered", time.Since(start).Round(time.Millisecond), p.echoes.Load())
}
