package interop

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// aiorpcxPackage is what to install for the aiorpcX tests.
const aiorpcxPackage = "python3-aiorpcx"

var (
	pythonOnce sync.Once
	pythonPath string
	pythonWhy  string
)

// python returns an interpreter that can import aiorpcx. Debian's
// python3-aiorpcx installs it for Debian's own interpreter, and the
// python3 first on PATH may be another (a pyenv shim, say), so every
// candidate is asked. Without one the test is skipped, naming the
// package to install, or fails when CI=true.
func python(t *testing.T) string {
	t.Helper()
	pythonOnce.Do(findPython)
	if pythonPath != "" {
		return pythonPath
	}
	msg := "no Python interpreter can import aiorpcx (" + pythonWhy + "); install Debian's " + aiorpcxPackage + " (apt-get install " + aiorpcxPackage + ")"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func findPython() {
	var candidates []string
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "/usr/bin/python3")
	if more, err := filepath.Glob("/usr/bin/python3.*"); err == nil {
		for _, p := range more {
			// python3.11, not python3.11-config or python3.11m-config.
			if _, err := strconv.ParseFloat(strings.TrimPrefix(filepath.Base(p), "python"), 64); err == nil {
				candidates = append(candidates, p)
			}
		}
	}
	var tried []string
	seen := map[string]bool{}
	for _, p := range candidates {
		if seen[p] {
			continue
		}
		seen[p] = true
		if _, err := os.Stat(p); err != nil {
			continue
		}
		tried = append(tried, p)
		ctx, cancel := context.WithTimeout(context.Background(), procWait)
		err := exec.CommandContext(ctx, p, "-c", "import aiorpcx").Run()
		cancel()
		if err == nil {
			pythonPath = p
			return
		}
	}
	if len(tried) == 0 {
		pythonWhy = "no python3 found"
		return
	}
	pythonWhy = "tried " + strings.Join(tried, ", ")
}

// script returns the path of a helper script in testdata.
func script(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startPython starts a helper script with the aiorpcX interpreter.
func startPython(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	py := python(t)
	return startProc(t, py, append([]string{"-u", "-B", script(t, name)}, args...)...)
}

// pyServer is aiorpcx_server.py running: its port, and the process.
type pyServer struct {
	*proc
	addr string
}

// startPyServer starts aiorpcx_server.py with args and reads its port.
func startPyServer(t *testing.T, args ...string) *pyServer {
	t.Helper()
	p := startPython(t, "aiorpcx_server.py", args...)
	line := p.line(t)
	port, err := strconv.Atoi(line)
	if err != nil || port <= 0 {
		t.Fatalf("aiorpcx_server.py: first line %q is not a port; stderr:\n%s", line, p.stderr.String())
	}
	return &pyServer{proc: p, addr: "127.0.0.1:" + line}
}

// event waits for the next report line of the script that is an event.
func (s *pyServer) event(t *testing.T) map[string]any {
	t.Helper()
	line := s.line(t)
	var ev map[string]any
	if err := json.Unmarshal([]byte(line), &ev); err != nil {
		t.Fatalf("aiorpcx_server.py: bad report line %q: %v", line, err)
	}
	return ev
}

// outcome is one line of aiorpcx_client.py's report.
type outcome struct {
	Case          string `json:"case"`
	Result        any    `json:"result,omitempty"`
	Error         []any  `json:"error,omitempty"`
	ProtocolError []any  `json:"protocol_error,omitempty"`
	Exception     string `json:"exception,omitempty"`
}

// runPyClient runs aiorpcx_client.py to completion against addr's port
// and returns its report, failing the test if it did not exit 0.
func runPyClient(t *testing.T, port string, args ...string) []outcome {
	t.Helper()
	p := startPython(t, "aiorpcx_client.py", append([]string{"--port", port}, args...)...)
	lines := p.rest(t)
	if code := p.wait(t); code != 0 {
		t.Fatalf("aiorpcx_client.py %q: exit status %d; output:\n%s\nstderr:\n%s", args, code, strings.Join(lines, "\n"), p.stderr.String())
	}
	return parseOutcomes(t, lines)
}

func parseOutcomes(t *testing.T, lines []string) []outcome {
	t.Helper()
	out := make([]outcome, 0, len(lines))
	for _, l := range lines {
		var o outcome
		dec := json.NewDecoder(strings.NewReader(l))
		dec.UseNumber()
		if err := dec.Decode(&o); err != nil {
			t.Fatalf("aiorpcx_client.py: bad report line %q: %v", l, err)
		}
		out = append(out, o)
	}
	return out
}
