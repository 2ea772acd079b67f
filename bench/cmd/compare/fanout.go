package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// fanOutArgs runs pubsub's fan-out benchmark: one publication to 10,000
// subscribed sessions against a plain loop writing the same bytes to
// as many sockets.
var fanOutArgs = []string{"test", "-run", "^$", "-bench", "FanOut", "-benchmem", "-count", "5", "./pubsub"}

// runFanOut runs the fan-out benchmark in the gorpcx module.
func (h *harness) runFanOut() *microResult {
	res := &microResult{command: "go " + strings.Join(fanOutArgs, " ")}
	fmt.Fprintln(os.Stderr, "compare: running", res.command)
	cmd := exec.Command("go", fanOutArgs...)
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

// fanOutMedian returns the median of a metric ("last-ns", "p99-ns")
// over the runs of the benchmark whose name contains variant, and
// whether there was any.
func fanOutMedian(r *microResult, variant, unit string) (float64, bool) {
	var vs []float64
	for _, row := range r.rows {
		if !strings.Contains(row.name, "/"+variant) {
			continue
		}
		if v, err := strconv.ParseFloat(row.metric(unit), 64); err == nil {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return 0, false
	}
	slices.Sort(vs)
	return vs[len(vs)/2], true
}

func (r *report) fanOutSection(p func(string, ...any)) {
	p("## Fan-out")
	p("")
	if r.fanout == nil {
		p("Not run (`-micro=false`). Run it with `go %s` in the repository's root.", strings.Join(fanOutArgs[1:], " "))
		p("")
		return
	}
	p("One notification (the size of an Electrum header notification) published through a `pubsub.Hub` to 10,000 subscribed sessions, each on its own loopback TCP connection, its client in a child process; against a plain loop writing the same bytes to 10,000 sockets, the limit. From `%s`; medians of the runs, times from the start of the publication.", r.fanout.command)
	p("")
	p("| | to the last delivery | p99 delivery |")
	p("| --- | ---: | ---: |")
	hubLast, ok1 := fanOutMedian(r.fanout, "hub", "last-ns")
	hubP99, _ := fanOutMedian(r.fanout, "hub", "p99-ns")
	loopLast, ok2 := fanOutMedian(r.fanout, "plain-loop", "last-ns")
	loopP99, _ := fanOutMedian(r.fanout, "plain-loop", "p99-ns")
	if ok1 {
		p("| hub | %.1f ms | %.1f ms |", hubLast/1e6, hubP99/1e6)
	}
	if ok2 {
		p("| plain loop | %.1f ms | %.1f ms |", loopLast/1e6, loopP99/1e6)
	}
	if ok1 && ok2 && loopLast > 0 {
		p("| **hub / plain loop** | **%.2fx** | **%.2fx** |", hubLast/loopLast, hubP99/loopP99)
	}
	p("")
	if r.fanout.err != nil {
		p("The benchmark failed (%v); its output:", r.fanout.err)
		p("")
		p("```")
		p("%s", strings.TrimSpace(r.fanout.output))
		p("```")
		p("")
	}
}
