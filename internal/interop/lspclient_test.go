package interop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorpcx/gorpcx/internal/realpeer"
)

// TestLSPClientExample runs examples/lsp-client as a process with pylsp
// as its language server: the capabilities printed, the syntax error of
// a file opened, pylsp shut down and exited; and the failures a user
// can meet.
func TestLSPClientExample(t *testing.T) {
	t.Parallel()
	py := realpeer.NeedPylsp(t)
	bin := example(t, "lsp-client")
	file := filepath.Join(py.Dir, "broken.py")
	if err := os.WriteFile(file, []byte(brokenPython), 0o600); err != nil {
		t.Fatal(err)
	}
	env := py.Env() // HOME and the cache in py.Dir

	t.Run("open", func(t *testing.T) {
		stdout, stderr, code := runProcEnv(t, env, "", bin, "-root", py.Dir, "-open", file, py.Path)
		if code != 0 || stderr != "" {
			t.Fatalf("exit %d, stderr:\n%s\nstdout:\n%s", code, stderr, stdout)
		}
		for _, want := range []string{`"hoverProvider": true`, `"name": "pylsp"`, "\n}\n" + file + ":6:"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("the output lacks %q:\n%s", want, stdout)
			}
		}
		last := stdout[strings.LastIndex(strings.TrimSuffix(stdout, "\n"), "\n")+1:]
		if !strings.HasPrefix(last, file+":6:") || !strings.Contains(last, ": error: ") || !strings.HasSuffix(last, " (pyflakes)\n") {
			t.Errorf("last line %q; want the syntax error on line 6, from pyflakes", last)
		}
	})
	runExample(t, bin, env, []exampleCase{{
		name:   "no command",
		code:   64,
		stderr: "give the command",
	}, {
		name:   "not a program",
		args:   []string{filepath.Join(py.Dir, "no-such-server")},
		code:   2,
		stderr: "cannot start",
	}, {
		name:   "a server that exits at once",
		args:   []string{"/bin/true"},
		code:   2,
		stderr: "initialize: the server ended",
	}, {
		name:   "a server that fails",
		args:   []string{"/bin/sh", "-c", "echo the reason >&2; exit 3"},
		code:   2,
		stderr: "the reason\nlsp-client: initialize: the server ended: transport: process sh (pid ",
	}, {
		name:   "a server that does not answer",
		args:   []string{"-timeout", "1s", "/bin/sh", "-c", "cat >/dev/null"},
		code:   3,
		stderr: "lsp-client: initialize: no answer within 1s\n",
	}, {
		name:   "a file that is not there",
		args:   []string{"-open", filepath.Join(py.Dir, "none.py"), py.Path},
		code:   64,
		stderr: "-open:",
	}})
}
