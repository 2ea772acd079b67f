package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/session"
)

// monitorID names the one monitor this client makes; the server puts it
// in every update notification of that monitor.
const monitorID = "ovsdb-client"

// framer returns the framing of ovsdb-server: JSON values back to back,
// nothing between them, with the default limits (a message of 1 MB,
// 256 levels of nesting). A reply larger than that, such as a big
// database's dump, would need a larger RawJSON.Max.
func framer() framing.Framer { return framing.RawJSON{} }

// methods returns what the client serves of the server's requests: the
// "echo" probes, answered with their params as RFC 7047 asks, and the
// "update" notifications of a monitor, printed by p.
func methods(p *printer) session.Handler {
	return handler.Methods{
		"echo": session.HandlerFunc(func(_ context.Context, req *jsonrpc2.Request) (any, error) {
			return rawParams(req), nil
		}),
		"update": session.HandlerFunc(func(_ context.Context, req *jsonrpc2.Request) (any, error) {
			return nil, p.update(rawParams(req))
		}),
	}
}

// listDBs prints the names of the server's databases, one a line.
func listDBs(ctx context.Context, client *session.Session, w io.Writer) error {
	var names []string
	if err := client.Call(ctx, "list_dbs", []any{}, &names); err != nil {
		return err
	}
	for _, n := range names {
		fmt.Fprintln(w, n)
	}
	return nil
}

// listTables prints the names of the tables of database db, sorted,
// one a line.
func listTables(ctx context.Context, client *session.Session, db string, w io.Writer) error {
	var schema struct {
		Tables map[string]json.RawMessage `json:"tables"`
	}
	if err := client.Call(ctx, "get_schema", []any{db}, &schema); err != nil {
		return err
	}
	names := make([]string, 0, len(schema.Tables))
	for n := range schema.Tables {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintln(w, n)
	}
	return nil
}

// startMonitor asks the server to monitor table in db (the columns
// given, or all when columns is nil), prints the rows it returns and
// the line "--". From then on p prints the updates.
func startMonitor(ctx context.Context, client *session.Session, db, table string, columns []string, p *printer) error {
	request := map[string]any{}
	if columns != nil {
		request["columns"] = columns
	}
	var initial json.RawMessage
	if err := client.Call(ctx, "monitor", []any{db, monitorID, map[string]any{table: request}}, &initial); err != nil {
		return err
	}
	return p.initial(initial)
}

// printer prints a monitor's rows; it counts the updates and closes
// done after max of them (never when max is 0). Its methods are called
// by one goroutine at a time, in the order the server sent the
// messages (the session serves one request at a time), and the mutex
// keeps the lines of an update together whatever happens.
type printer struct {
	mu    sync.Mutex
	w     io.Writer
	max   int
	seen  int
	done  chan struct{}
	ended bool
}

// rowUpdate is what happened to one row: RFC 7047's <row-update>.
type rowUpdate struct {
	Old json.RawMessage `json:"old"`
	New json.RawMessage `json:"new"`
}

// initial prints the rows the monitor request returned, then "--".
func (p *printer) initial(result json.RawMessage) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.print(result, "initial"); err != nil {
		return err
	}
	fmt.Fprintln(p.w, "--")
	return nil
}

// update prints the rows of one update notification, whose params are
// [monitor id, table updates].
func (p *printer) update(params json.RawMessage) error {
	var args []json.RawMessage
	if err := json.Unmarshal(params, &args); err != nil || len(args) != 2 {
		return fmt.Errorf("update params are not [id, updates]: %.100s", params)
	}
	var id string
	if json.Unmarshal(args[0], &id) != nil || id != monitorID {
		return fmt.Errorf("update of an unknown monitor %.100s", args[0])
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return nil
	}
	if err := p.print(args[1], ""); err != nil {
		return err
	}
	p.seen++
	if p.max > 0 && p.seen >= p.max {
		p.ended = true
		close(p.done)
	}
	return nil
}

// print prints table updates, <table-updates> of RFC 7047, one row a
// line, sorted by table and UUID. The action is the one given, or
// taken from which of old and new the row has.
func (p *printer) print(updates json.RawMessage, action string) error {
	var tables map[string]map[string]rowUpdate
	if err := json.Unmarshal(updates, &tables); err != nil {
		return fmt.Errorf("table updates: %w", err)
	}
	for _, table := range sortedKeys(tables) {
		rows := tables[table]
		for _, uuid := range sortedKeys(rows) {
			u := rows[uuid]
			a, row := action, u.New
			switch {
			case a != "":
			case isNull(u.Old):
				a = "insert"
			case isNull(u.New):
				a, row = "delete", u.Old
			default:
				a = "modify"
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, row); err != nil {
				return errors.New("a row is not JSON")
			}
			fmt.Fprintf(p.w, "%s %s %s %s\n", a, table, uuid, compact.Bytes())
		}
	}
	return nil
}

// isNull reports whether a member was missing or null.
func isNull(v json.RawMessage) bool {
	return len(v) == 0 || string(v) == "null"
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
