package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestMeasureServers builds the load generator and the Go servers and
// runs each server briefly the way the comparison does: a pipelined load,
// a load of batches of 100 where the server answers batches, and a few
// idle sessions. Every answer must be right (the load generator checks
// each, byte for byte), with the method name the harness gives the load
// generator for that server.
func TestMeasureServers(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no go command to build the servers with: %v", err)
		}
		t.Skipf("no go command to build the servers with: %v", err)
	}
	benchDir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	h := &harness{
		duration: 300 * time.Millisecond, warmup: 100 * time.Millisecond, payload: 16,
		benchDir: benchDir, binDir: filepath.Join(tmp, "bin"), logDir: tmp,
	}
	if err := h.build(); err != nil {
		t.Fatal(err)
	}
	loads := []setting{
		{name: "c2d4", conns: 2, depth: 4},
		{name: "batch", conns: 1, depth: 2, batch: 100},
	}
	idle := setting{name: "idle20", idle: 20}
	for _, s := range allServers {
		if s.python {
			continue // aiorpcX is not built here
		}
		t.Run(s.name, func(t *testing.T) {
			for _, st := range loads {
				if !s.runs(st) {
					continue
				}
				m := h.measure(0, s, st)
				if m.err != nil {
					t.Fatalf("%s: %v", st.name, m.err)
				}
				if m.load.Requests == 0 || m.load.Requests%uint64(max(st.batch, 1)) != 0 {
					t.Errorf("%s: %d requests answered, want a positive whole number of messages", st.name, m.load.Requests)
				}
			}
			if m := h.measureIdle(0, s, idle); m.err != nil {
				t.Errorf("%s: %v", idle.name, m.err)
			}
		})
	}
}
