package doccheck

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sample is one fenced Go block of a Markdown file.
type sample struct {
	file string
	line int
	code string
}

// extract returns the "```go" blocks of the Markdown file at path.
func extract(t *testing.T, path string) []sample {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []sample
	var cur *sample
	var b strings.Builder
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```go":
			cur = &sample{file: path, line: n + 1}
			b.Reset()
		case cur != nil && strings.TrimSpace(line) == "```":
			cur.code = b.String()
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s:%d: unterminated code block", path, cur.line)
	}
	return out
}

// TestDocSamplesCompile builds every sample as a package of its own,
// through a build overlay: nothing is written into the tree.
func TestDocSamplesCompile(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join(root, "README.md"))
	var samples []sample
	for _, f := range files {
		samples = append(samples, extract(t, f)...)
	}
	if len(samples) == 0 {
		t.Fatal("no Go samples found in the documentation")
	}
	tmp := t.TempDir()
	overlay := map[string]string{}
	pkgs := map[string][]string{} // by the directory of the module they build in
	where := map[string]sample{}
	for i, s := range samples {
		if !strings.HasPrefix(strings.TrimSpace(s.code), "package ") {
			t.Errorf("%s:%d: a sample must be a complete file starting with its package clause", rel(root, s.file), s.line)
			continue
		}
		src := filepath.Join(tmp, fmt.Sprintf("sample%d.go", i))
		if err := os.WriteFile(src, []byte(s.code), 0o644); err != nil {
			t.Fatal(err)
		}
		mod := filepath.Join(root, moduleOf(s.code))
		dir := fmt.Sprintf("internal/doccheck/samples/s%d", i)
		overlay[filepath.Join(mod, dir, "main.go")] = src
		pkgs[mod] = append(pkgs[mod], "./"+dir)
		where[src] = s
	}
	b, err := json.Marshal(map[string]any{"Replace": overlay})
	if err != nil {
		t.Fatal(err)
	}
	ov := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(ov, b, 0o644); err != nil {
		t.Fatal(err)
	}
	n := 0
	for mod, list := range pkgs {
		args := append([]string{"build", "-o", os.DevNull, "-overlay", ov}, list...)
		cmd := exec.Command("go", args...)
		cmd.Dir = mod
		out, err := cmd.CombinedOutput()
		if err != nil {
			msg := string(out)
			for src, s := range where {
				msg = strings.ReplaceAll(msg, src, fmt.Sprintf("%s, sample at line %d, line ", rel(root, s.file), s.line))
			}
			t.Errorf("go build of the documentation samples in %s failed: %v\n%s", rel(root, mod), err, msg)
		}
		n += len(list)
	}
	t.Logf("%d samples compiled", n)
}

// contribPrefix begins the import paths of the modules in contrib/.
const contribPrefix = `"github.com/gorpcx/gorpcx/contrib/`

// moduleOf returns the directory, relative to the repository's root, of
// the module a sample is built in: the module of contrib/ it imports
// (such as contrib/nats), which has the SDK and its own dependencies,
// or the SDK's own, ".".
func moduleOf(code string) string {
	_, after, ok := strings.Cut(code, contribPrefix)
	if !ok {
		return "."
	}
	name, _, _ := strings.Cut(after, `"`)
	name, _, _ = strings.Cut(name, "/")
	return filepath.Join("contrib", name)
}

func rel(root, path string) string {
	if r, err := filepath.Rel(root, path); err == nil {
		return r
	}
	return path
}

func TestModuleOf(t *testing.T) {
	for _, tc := range []struct{ code, want string }{
		{"package main\n\nimport \"github.com/gorpcx/gorpcx/server\"\n", "."},
		{"package main\n\nimport natsbroker \"github.com/gorpcx/gorpcx/contrib/nats\"\n", "contrib/nats"},
		{"package main\n\nimport \"github.com/gorpcx/gorpcx/contrib/nats/sub\"\n", "contrib/nats"},
	} {
		if got := moduleOf(tc.code); got != filepath.FromSlash(tc.want) {
			t.Errorf("moduleOf(%q) = %q, want %q", tc.code, got, tc.want)
		}
	}
}
