package realpeer

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Pylsp is pylsp, the Python language server (Debian package
// python3-pylsp), ready to be run by a test over its standard input
// and output, where it speaks the Language Server Protocol
// (Content-Length framing, JSON-RPC 2.0).
type Pylsp struct {
	// Path is the program's path.
	Path string
	// Dir is a new temporary directory: the working directory of the
	// commands [Pylsp.Command] makes, the place for the test's Python
	// files (the workspace root), and their HOME and XDG_CACHE_HOME, so
	// that nothing is written outside it.
	Dir string

	t testing.TB
}

// NeedPylsp returns pylsp with a new temporary directory. It skips or
// fails t as [Need] does if pylsp is not installed, or if pyflakes, the
// plugin through which pylsp reports syntax errors, is missing (Debian
// packages python3-pylsp and python3-pyflakes).
func NeedPylsp(t testing.TB) *Pylsp {
	t.Helper()
	p := &Pylsp{Path: Need(t, "pylsp", "python3-pylsp"), Dir: t.TempDir(), t: t}
	python, err := interpreter(p.Path)
	if err != nil {
		t.Fatalf("realpeer: the interpreter of %s: %v", p.Path, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if out, err := exec.CommandContext(ctx, python, "-c", "import pyflakes").CombinedOutput(); err != nil {
		missing(t, fmt.Sprintf("pyflakes cannot be imported by %s (apt-get install python3-pyflakes): %v\n%s", python, err, out))
	}
	return p
}

// interpreter returns the program that runs the script at path, from
// its first line ("#!/usr/bin/python3", or "#!/usr/bin/env python3"
// found on PATH): the Python pylsp runs with, which need not be the
// first python3 on PATH.
func interpreter(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	line, _ := bufio.NewReader(io.LimitReader(f, 512)).ReadString('\n')
	fields := strings.Fields(strings.TrimPrefix(line, "#!"))
	switch {
	case !strings.HasPrefix(line, "#!") || len(fields) == 0:
		return "", fmt.Errorf("not a script: its first line is %q", line)
	case filepath.Base(fields[0]) == "env" && len(fields) > 1:
		return exec.LookPath(fields[1])
	}
	return fields[0], nil
}

// Env returns the variables pylsp runs with besides the test's own
// environment: HOME and XDG_CACHE_HOME set to Dir.
func (p *Pylsp) Env() []string {
	return []string{"HOME=" + p.Dir, "XDG_CACHE_HOME=" + p.Dir}
}

// Command returns a command, not started, that runs pylsp with args in
// Dir, with the test's environment and [Pylsp.Env]. Whoever starts it
// waits for it; if it is still running when the test ends, it is killed
// by its process id.
func (p *Pylsp) Command(args ...string) *exec.Cmd {
	cmd := exec.Command(p.Path, args...)
	cmd.Dir = p.Dir
	cmd.Env = append(os.Environ(), p.Env()...)
	p.t.Cleanup(func() {
		// Process is set by Start, on the test's goroutine; Kill is safe
		// while another goroutine waits, and fails, doing nothing, once
		// the process has been waited for.
		if cmd.Process != nil {
			cmd.Process.Kill()
		}
	})
	return cmd
}
