package interop

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/internal/realpeer"
	"github.com/gorpcx/gorpcx/session"
)

// brokenPython is a Python file with a syntax error on its last line
// (line 6, counted from 1) and a documented function to hover over.
const brokenPython = `def greet(name):
    """Say hello to name."""
    return "hello " + name


greet("x"
`

// TestPylsp runs an editor's conversation with pylsp, the Python
// language server, over its standard input and output (LSP framing):
// initialize, initialized, didOpen of a file with a syntax error, the
// diagnostics the server publishes, hover, shutdown and exit, and the
// process's end with status 0.
func TestPylsp(t *testing.T) {
	t.Parallel()
	py := realpeer.NeedPylsp(t)
	file := filepath.Join(py.Dir, "broken.py")
	if err := os.WriteFile(file, []byte(brokenPython), 0o600); err != nil {
		t.Fatal(err)
	}
	uri := "file://" + filepath.ToSlash(file)

	diagnostics := make(chan json.RawMessage, 16)
	methods := handler.Methods{
		"textDocument/publishDiagnostics": session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
			select {
			case diagnostics <- rawParams(req):
			case <-ctx.Done():
			}
			return nil, nil
		}),
	}
	lsp := startLSP(t, py.Command(), &session.Options{
		Side:           session.Client,
		Handler:        methods,
		RequestTimeout: procWait,
	})
	ctx, cancel := context.WithTimeout(context.Background(), procWait)
	defer cancel()

	start := time.Now()
	var initialized struct {
		Capabilities struct {
			HoverProvider bool `json:"hoverProvider"`
		} `json:"capabilities"`
		ServerInfo struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"serverInfo"`
	}
	err := lsp.Call(ctx, "initialize", map[string]any{
		"processId":    os.Getpid(),
		"rootUri":      "file://" + filepath.ToSlash(py.Dir),
		"capabilities": map[string]any{},
	}, &initialized)
	if err != nil {
		t.Fatalf("initialize: %v", err)
	}
	if initialized.ServerInfo.Name != "pylsp" || !initialized.Capabilities.HoverProvider {
		t.Fatalf("initialize returned %+v; want serverInfo pylsp and hoverProvider", initialized)
	}
	t.Logf("initialize answered after %v by %s %s", time.Since(start).Round(time.Millisecond),
		initialized.ServerInfo.Name, initialized.ServerInfo.Version)
	if err := lsp.Notify(ctx, "initialized", struct{}{}); err != nil {
		t.Fatalf("initialized: %v", err)
	}

	start = time.Now()
	err = lsp.Notify(ctx, "textDocument/didOpen", map[string]any{
		"textDocument": map[string]any{"uri": uri, "languageId": "python", "version": 1, "text": brokenPython},
	})
	if err != nil {
		t.Fatalf("didOpen: %v", err)
	}
	select {
	case params := <-diagnostics:
		var published struct {
			URI         string `json:"uri"`
			Diagnostics []struct {
				Range struct {
					Start struct{ Line int } `json:"start"`
				} `json:"range"`
				Severity int    `json:"severity"`
				Message  string `json:"message"`
				Source   string `json:"source"`
			} `json:"diagnostics"`
		}
		if err := json.Unmarshal(params, &published); err != nil || published.URI != uri || len(published.Diagnostics) != 1 {
			t.Fatalf("publishDiagnostics %s; want one diagnostic for %s", params, uri)
		}
		d := published.Diagnostics[0]
		if d.Range.Start.Line != 5 || d.Severity != 1 || d.Source != "pyflakes" {
			t.Errorf("diagnostic %s; want an error from pyflakes on line 5 (from 0)", params)
		}
		t.Logf("diagnostics published %v after didOpen: %q", time.Since(start).Round(time.Millisecond), d.Message)
	case <-ctx.Done():
		t.Fatalf("no publishDiagnostics within %v of didOpen", procWait)
	}

	var hover struct {
		Contents struct {
			Kind  string `json:"kind"`
			Value string `json:"value"`
		} `json:"contents"`
	}
	err = lsp.Call(ctx, "textDocument/hover", map[string]any{
		"textDocument": map[string]any{"uri": uri},
		"position":     map[string]any{"line": 5, "character": 1},
	}, &hover)
	if err != nil {
		t.Fatalf("hover: %v", err)
	}
	if !strings.Contains(hover.Contents.Value, "greet(name)") || !strings.Contains(hover.Contents.Value, "Say hello to name.") {
		t.Errorf("hover returned %+v; want greet's signature and docstring", hover)
	}

	var shutdown json.RawMessage
	if err := lsp.Call(ctx, "shutdown", nil, &shutdown); err != nil || string(shutdown) != "null" {
		t.Fatalf("shutdown: %s, %v; want the result null", shutdown, err)
	}
	if err := lsp.Notify(ctx, "exit", nil); err != nil {
		t.Fatalf("exit: %v", err)
	}
	lsp.checkExit(t)
}
