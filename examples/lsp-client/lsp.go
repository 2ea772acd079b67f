package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/session"
)

// diagnostics takes the first textDocument/publishDiagnostics for one
// document.
type diagnostics struct {
	uri  string
	once sync.Once
	got  chan []diagnostic // receives once
}

// diagnostic is one problem found, as LSP's Diagnostic (the members
// printed).
type diagnostic struct {
	Range struct {
		Start struct {
			Line      int `json:"line"`
			Character int `json:"character"`
		} `json:"start"`
	} `json:"range"`
	Severity int    `json:"severity"`
	Message  string `json:"message"`
	Source   string `json:"source"`
}

func newDiagnostics(uri string) *diagnostics {
	return &diagnostics{uri: uri, got: make(chan []diagnostic, 1)}
}

// publish is the handler of textDocument/publishDiagnostics.
func (d *diagnostics) publish(_ context.Context, req *jsonrpc2.Request) (any, error) {
	if req.Params == nil {
		return nil, nil
	}
	var p struct {
		URI         string       `json:"uri"`
		Diagnostics []diagnostic `json:"diagnostics"`
	}
	if err := json.Unmarshal(*req.Params, &p); err != nil {
		return nil, err
	}
	if p.URI == d.uri {
		d.once.Do(func() { d.got <- p.Diagnostics })
	}
	return nil, nil
}

// methods returns what the client serves of the server's requests and
// notifications: the diagnostics it publishes. Any other request is
// answered -32601 (method not found), and any other notification
// ignored; the client announces no capability that would call for
// them.
func methods(d *diagnostics) session.Handler {
	return handler.Methods{
		"textDocument/publishDiagnostics": session.HandlerFunc(d.publish),
	}
}

// openFile sends textDocument/didOpen for the file of -open with its
// text, and prints the first diagnostics the server publishes for it.
// It returns the exit status.
func openFile(s *session.Session, cfg *config, text []byte, d *diagnostics, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	params := map[string]any{
		"textDocument": map[string]any{
			"uri":        d.uri,
			"languageId": languageID(cfg.open),
			"version":    1,
			"text":       string(text),
		},
	}
	if err := s.Notify(ctx, "textDocument/didOpen", params); err != nil {
		return report(stderr, "textDocument/didOpen", err, cfg.timeout)
	}
	select {
	case list := <-d.got:
		printDiagnostics(stdout, cfg.openName, list)
		return exitOK
	case <-s.Done():
		return report(stderr, "textDocument/didOpen", s.Err(), cfg.timeout)
	case <-ctx.Done():
		fmt.Fprintf(stderr, "lsp-client: no diagnostics for %s within %v\n", cfg.openName, cfg.timeout)
		return exitNoAnswer
	}
}

// printDiagnostics prints one line a diagnostic, lines and columns
// counted from 1, or a line saying there are none.
func printDiagnostics(w io.Writer, name string, list []diagnostic) {
	if len(list) == 0 {
		fmt.Fprintf(w, "%s: no diagnostics\n", name)
		return
	}
	for _, d := range list {
		fmt.Fprintf(w, "%s:%d:%d: %s: %s", name, d.Range.Start.Line+1, d.Range.Start.Character+1, severity(d.Severity), d.Message)
		if d.Source != "" {
			fmt.Fprintf(w, " (%s)", d.Source)
		}
		fmt.Fprintln(w)
	}
}

// severity names LSP's DiagnosticSeverity.
func severity(s int) string {
	switch s {
	case 1:
		return "error"
	case 2:
		return "warning"
	case 3:
		return "information"
	case 4:
		return "hint"
	}
	return "diagnostic"
}

// languageID returns the LSP language identifier of a file, from its
// extension.
func languageID(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".py":
		return "python"
	case ".go":
		return "go"
	case ".js":
		return "javascript"
	case ".ts":
		return "typescript"
	case ".rs":
		return "rust"
	case ".c", ".h":
		return "c"
	case ".sh":
		return "shellscript"
	}
	return "plaintext"
}

// printJSON prints v indented.
func printJSON(w io.Writer, v json.RawMessage) {
	var buf bytes.Buffer
	if err := json.Indent(&buf, v, "", "  "); err != nil {
		buf.Reset()
		buf.Write(v)
	}
	fmt.Fprintf(w, "%s\n", buf.Bytes())
}
