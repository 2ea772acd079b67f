package main

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// machineInfo describes where and with what the comparison ran.
type machineInfo struct {
	cpus   int
	model  string
	kernel string
	goVer  string
	python string // aiorpcX and Python versions, if aiorpcX runs
	libs   []string
	commit string
	date   time.Time
}

// machine gathers the machine's description; what cannot be found is
// left as "unknown".
func (h *harness) machine() machineInfo {
	m := machineInfo{cpus: runtime.NumCPU(), model: "unknown", kernel: "unknown", date: time.Now().UTC()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.model = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	m.goVer = output(h.benchDir, "go", "env", "GOVERSION")
	for _, s := range h.servers {
		if s.python {
			m.python = output("", h.python, "-c",
				"import sys, aiorpcx; print('aiorpcX', getattr(aiorpcx, '__version__', None) or aiorpcx._version_str, 'on Python', sys.version.split()[0])")
		}
	}
	if libs := output(h.benchDir, "go", "list", "-m", "github.com/sourcegraph/jsonrpc2", "github.com/creachadair/jrpc2", "github.com/ethereum/go-ethereum"); libs != "" {
		m.libs = strings.Split(libs, "\n")
	}
	if c := output(h.root, "git", "rev-parse", "--short", "HEAD"); c != "" {
		m.commit = c
		if output(h.root, "git", "status", "--porcelain", "--untracked-files=no") != "" {
			m.commit += " with uncommitted changes"
		}
	}
	return m
}

// output runs a command in dir and returns its trimmed standard output,
// or "" if it fails.
func output(dir, name string, args ...string) string {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	b, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
