package interop

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// buildWait bounds building the examples (a cold build cache compiles
// the dependencies too).
const buildWait = 5 * time.Minute

var (
	buildOnce sync.Once
	buildErr  string
)

// moduleExamples are the examples that are Go modules of their own,
// because they import a module of contrib/ (examples/interop-server's
// -metrics imports contrib/prometheus, examples/electrum-server's -nats
// contrib/nats): each is built in its own
// directory. The others are packages of the SDK's module.
var moduleExamples = []string{"interop-server", "electrum-server"}

// example returns the path of the example program name (a directory
// under examples/), building all of them once per test run, with the
// race detector when the tests have it.
func example(t *testing.T, name string) string {
	t.Helper()
	buildOnce.Do(func() {
		var flags []string
		if raceEnabled {
			flags = append(flags, "-race")
		}
		buildErr = buildExamples(binDir, flags)
	})
	if buildErr != "" {
		t.Fatal(buildErr)
	}
	path := filepath.Join(binDir, name)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("example %s was not built: %v", name, err)
	}
	return path
}

// buildExamples builds the examples into dir with the build flags
// given: those of the SDK's module with one go build, and each of
// moduleExamples in its module's directory. It returns what went wrong,
// or "".
func buildExamples(dir string, flags []string) string {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "the go command is not on PATH: " + err.Error()
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildWait)
	defer cancel()
	out := dir + string(filepath.Separator)
	// One go build in the SDK's module, where the tests run, for its
	// examples; one in each module's directory for the others.
	type build struct{ dir, pkg string }
	builds := []build{{"", "github.com/gorpcx/gorpcx/examples/..."}}
	for _, name := range moduleExamples {
		builds = append(builds, build{exampleDir(name), "."})
	}
	for _, b := range builds {
		args := append(append([]string{"build", "-o", out}, flags...), b.pkg)
		cmd := exec.CommandContext(ctx, goTool, args...)
		cmd.Dir = b.dir
		if msg, err := cmd.CombinedOutput(); err != nil {
			where := ""
			if b.dir != "" {
				where = " (in " + b.dir + ")"
			}
			return "go " + joinArgs(args) + where + ": " + err.Error() + "\n" + string(msg)
		}
	}
	return ""
}

// exampleDir returns the directory of the example name, from this
// package's directory (internal/interop), where go test runs.
func exampleDir(name string) string {
	dir, err := filepath.Abs(filepath.Join("..", "..", "examples", name))
	if err != nil {
		return filepath.Join("..", "..", "examples", name)
	}
	return dir
}

func joinArgs(args []string) string {
	s := ""
	for i, a := range args {
		if i > 0 {
			s += " "
		}
		s += a
	}
	return s
}
