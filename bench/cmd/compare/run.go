package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// loadResult is the JSON line of the load generator (see cmd/loadgen).
type loadResult struct {
	RPS         float64 `json:"rps"`
	ItemsPerSec float64 `json:"items_per_sec"`
	P50us       float64 `json:"p50_us"`
	P99us       float64 `json:"p99_us"`
	Errors      uint64  `json:"errors"`
	Requests    uint64  `json:"requests"`
	CPUUser     float64 `json:"cpu_user_s"`
	CPUSys      float64 `json:"cpu_sys_s"`
	CPUPerReq   float64 `json:"cpu_per_req_us"`
	Idle        int     `json:"idle"`
	FirstError  string  `json:"first_error"`
}

// A measurement is one run of one server under one setting.
type measurement struct {
	rep             int
	server, setting string
	load            loadResult
	serverCPUPerReq float64 // µs of server CPU per request answered
	kibPerSession   float64 // idle test only
	err             error   // the run failed (no figures)
}

// proc is a started server.
type proc struct {
	cmd  *exec.Cmd
	addr string
	log  *os.File
	done chan struct{} // closed when the process has been waited for
}

// startServer starts s for setting st (pinned to CPU 0 if st is, with
// -tls if st is over TLS) and waits for its "listening on" line.
func (h *harness) startServer(s server, st setting, logName string) (*proc, error) {
	args := s.command(h)
	if st.tls {
		args = append(args, "-tls")
	}
	if st.pinned {
		args = append([]string{"taskset", "-c", "0"}, args...)
	}
	logf, err := os.Create(filepath.Join(h.logDir, logName))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		_ = logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, err
	}
	p := &proc{cmd: cmd, log: logf, done: make(chan struct{})}
	first := make(chan string, 1)
	go func() {
		r := bufio.NewReader(out)
		line, _ := r.ReadString('\n')
		first <- line
		_, _ = io.Copy(logf, r) // drain the rest
		_ = cmd.Wait()
		close(p.done)
	}()
	select {
	case line := <-first:
		addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
		if !ok {
			p.stop()
			return nil, fmt.Errorf("%s printed %q, not \"listening on HOST:PORT\" (log: %s)", s.name, line, logf.Name())
		}
		p.addr = addr
		return p, nil
	case <-time.After(20 * time.Second):
		p.stop()
		return nil, fmt.Errorf("%s did not say where it listens within 20 s (log: %s)", s.name, logf.Name())
	}
}

// stop ends the server: SIGTERM, then SIGKILL after 3 s.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	_ = p.log.Close()
}

// cpuSeconds returns the CPU time (user + system, every thread) of
// process pid so far, from /proc.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which is in parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("malformed /proc stat times")
	}
	const clockTicks = 100 // USER_HZ on Linux
	return (utime + stime) / clockTicks, nil
}

// rssKiB returns the resident set size of process pid, in KiB.
func rssKiB(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// measure runs one server under one load setting.
func (h *harness) measure(rep int, s server, st setting) measurement {
	m := measurement{rep: rep, server: s.name, setting: st.name}
	p, err := h.startServer(s, st, fmt.Sprintf("%s-%s-%d.log", s.name, st.name, rep))
	if err != nil {
		m.err = err
		return m
	}
	defer p.stop()

	args := []string{h.bin("loadgen"), "-addr", p.addr, "-tls=" + strconv.FormatBool(st.tls),
		"-c", strconv.Itoa(st.conns), "-p", strconv.Itoa(st.depth), "-batch", strconv.Itoa(st.batch),
		"-d", h.duration.String(), "-warmup", h.warmup.String(),
		"-payload", strconv.Itoa(h.payload), "-seed", strconv.Itoa(rep + 1), "-method", s.echoMethod(),
		"-server", s.name, "-setting", st.name}
	if st.pinned {
		args = append([]string{"taskset", "-c", "0"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		m.err = err
		return m
	}
	if err := cmd.Start(); err != nil {
		m.err = err
		return m
	}
	// Sample the server's CPU time when the measured window opens and
	// closes, as the load generator reports it.
	var cpu0, cpu1 float64
	var cpuErr error
	var msgs []string
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			switch line := sc.Text(); line {
			case "loadgen: measuring":
				cpu0, cpuErr = cpuSeconds(p.cmd.Process.Pid)
			case "loadgen: done":
				cpu1, cpuErr = cpuSeconds(p.cmd.Process.Pid)
			default:
				msgs = append(msgs, line)
			}
		}
	}()
	limit := time.AfterFunc(h.warmup+h.duration+2*time.Minute, func() { _ = cmd.Process.Kill() })
	<-scanned
	waitErr := cmd.Wait()
	limit.Stop()

	if err := json.Unmarshal(lastLine(stdout.Bytes()), &m.load); err != nil {
		m.err = fmt.Errorf("load generator failed (%v): %s", waitErr, strings.Join(msgs, "; "))
		return m
	}
	if m.load.Errors > 0 {
		m.err = fmt.Errorf("%d errors, the first: %s", m.load.Errors, m.load.FirstError)
		return m
	}
	if cpuErr == nil && m.load.Requests > 0 {
		m.serverCPUPerReq = (cpu1 - cpu0) * 1e6 / float64(m.load.Requests)
	}
	return m
}

// measureIdle runs the idle-memory test of one server: the growth of
// its RSS from before the sessions to once they are all up, per session.
func (h *harness) measureIdle(rep int, s server, st setting) measurement {
	m := measurement{rep: rep, server: s.name, setting: st.name}
	p, err := h.startServer(s, st, fmt.Sprintf("%s-%s-%d.log", s.name, st.name, rep))
	if err != nil {
		m.err = err
		return m
	}
	defer p.stop()
	pid := p.cmd.Process.Pid

	time.Sleep(500 * time.Millisecond)
	base, err := rssKiB(pid)
	if err != nil {
		m.err = err
		return m
	}
	cmd := exec.Command(h.bin("loadgen"), "-addr", p.addr, "-idle", strconv.Itoa(st.idle), "-tls="+strconv.FormatBool(st.tls),
		"-payload", strconv.Itoa(h.payload), "-method", s.echoMethod(), "-server", s.name, "-setting", st.name)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		m.err = err
		return m
	}
	if err := cmd.Start(); err != nil {
		m.err = err
		return m
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	line := make(chan []byte, 1)
	go func() {
		b, _ := bufio.NewReader(out).ReadBytes('\n')
		line <- b
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case b := <-line:
		if err := json.Unmarshal(lastLine(b), &m.load); err != nil {
			m.err = fmt.Errorf("load generator failed: %s", strings.TrimSpace(stderr.String()))
			return m
		}
	case <-time.After(3 * time.Minute):
		m.err = errors.New("the idle connections were not up within 3 minutes")
		return m
	}
	if m.load.Errors > 0 || m.load.Idle != st.idle {
		m.err = fmt.Errorf("%d of %d sessions failed, the first: %s", m.load.Errors, st.idle, m.load.FirstError)
		return m
	}
	time.Sleep(time.Second) // let the server settle
	rss, err := rssKiB(pid)
	if err != nil {
		m.err = err
		return m
	}
	m.kibPerSession = (rss - base) / float64(st.idle)
	return m
}

// lastLine returns the last non-empty line of b.
func lastLine(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}
