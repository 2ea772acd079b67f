package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// microPackages are the SDK packages whose benchmarks the page lists:
// every layer that has benchmarks (server has none of its own; its
// path is the session's over transport's).
var microPackages = []string{"./transport", "./framing", "./protocol", "./session", "./handler", "./proxy"}

// microResult is the outcome of the micro-benchmarks.
type microResult struct {
	command string
	header  []string // goos, goarch, cpu
	rows    []microRow
	err     error
	output  string // all of it, when it failed
}

// microRow is one benchmark line.
type microRow struct {
	pkg, name string
	iters     string
	metrics   []string // "12.3 ns/op", "45 B/op", ...
}

// runMicro runs the micro-benchmarks of the SDK's layers.
func (h *harness) runMicro() *microResult {
	args := []string{"test", "-run", "^$", "-bench", ".", "-benchmem"}
	if h.benchtime != "" {
		args = append(args, "-benchtime", h.benchtime)
	}
	args = append(args, microPackages...)
	res := &microResult{command: "go " + strings.Join(args, " ")}
	fmt.Fprintln(os.Stderr, "compare: running", res.command)
	cmd := exec.Command("go", args...)
	cmd.Dir = h.root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	res.err = cmd.Run()
	res.parse(out.Bytes())
	if res.err != nil {
		res.output = out.String()
	}
	return res
}

// parse reads go test's benchmark output.
func (r *microResult) parse(out []byte) {
	pkg := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "pkg: "):
			pkg = strings.TrimPrefix(strings.TrimPrefix(line, "pkg: "), "github.com/gorpcx/gorpcx/")
		case strings.HasPrefix(line, "goos: "), strings.HasPrefix(line, "goarch: "), strings.HasPrefix(line, "cpu: "):
			if !slices.Contains(r.header, line) {
				r.header = append(r.header, line)
			}
		case strings.HasPrefix(line, "Benchmark"):
			f := strings.Fields(line)
			if len(f) < 4 || len(f)%2 != 0 {
				continue
			}
			row := microRow{pkg: pkg, name: f[0], iters: f[1]}
			for i := 2; i+1 < len(f); i += 2 {
				row.metrics = append(row.metrics, f[i]+" "+f[i+1])
			}
			r.rows = append(r.rows, row)
		}
	}
}

// metric returns the value of the metric with the given unit, or "".
func (row microRow) metric(unit string) string {
	for _, m := range row.metrics {
		if v, ok := strings.CutSuffix(m, " "+unit); ok {
			return v
		}
	}
	return ""
}
