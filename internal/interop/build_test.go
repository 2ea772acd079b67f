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

// example returns the path of the example program name (a directory
// under examples/), building all of them once per test run, with the
// race detector when the tests have it.
func example(t *testing.T, name string) string {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = "the go command is not on PATH: " + err.Error()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), buildWait)
		defer cancel()
		args := []string{"build", "-o", binDir + string(filepath.Separator)}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, "github.com/gorpcx/gorpcx/examples/...")
		cmd := exec.CommandContext(ctx, goTool, args...)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = "go " + joinArgs(args) + ": " + err.Error() + "\n" + string(out)
		}
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
