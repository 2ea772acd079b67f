//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package transport

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The race tests repeat a round until raceRounds or raceBudget, whichever
// comes first; raceMinRounds are always run.
const (
	raceRounds    = 100
	raceMinRounds = 5
	raceBudget    = 5 * time.Second
)

// raceModes alternates the two ways a socket is made: bound in place
// (UnixMode 0) and bound privately and linked into place.
var raceModes = [2]os.FileMode{0, 0o600}

// checkWinner connects to the socket at path, as any client would,
// and has the winner (a Listener in this process, or nil for one in a
// child process that echoes) answer.
func checkWinner(t *testing.T, path string, winner *Listener) {
	t.Helper()
	ctx := testContext(t)
	var wg sync.WaitGroup
	if winner != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := winner.AcceptConn()
			if err != nil {
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(testTimeout))
			io.Copy(c, c)
			c.CloseWrite()
		}()
	}
	c, err := Dial(ctx, "unix", path)
	if err != nil {
		t.Fatalf("dial the winner: %v", err)
	}
	roundTrip(t, c, "to the winner")
	c.Close()
	wg.Wait()
}

// checkCleanedUp fails unless the directory of path holds nothing
// Listen made: no socket, no lock file, no temporary directory.
func checkCleanedUp(t *testing.T, path string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind after Close: %s", e.Name())
	}
}

// TestUnixConcurrentStaleReplaceOneWins is the regression test for two
// listeners both replacing the same stale socket: one of them ended up
// listening on an unlinked file that no client could reach.
func TestUnixConcurrentStaleReplaceOneWins(t *testing.T) {
	const contenders = 16
	path := socketPath(t)
	deadline := time.Now().Add(raceBudget)
	round := 0
	defer func() { t.Logf("%d rounds", round) }()
	for ; round < raceRounds && (round < raceMinRounds || time.Now().Before(deadline)); round++ {
		staleSocket(t, path)
		lc := &ListenConfig{UnixMode: raceModes[round%2]}
		var (
			start   = make(chan struct{})
			wg      sync.WaitGroup
			mu      sync.Mutex
			winners []*Listener
			others  []error
		)
		for range contenders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				ln, err := lc.Listen(context.Background(), "unix", path)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					others = append(others, err)
				} else {
					winners = append(winners, ln)
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(winners) != 1 {
			for _, ln := range winners {
				ln.Close()
			}
			t.Fatalf("round %d (mode %v): %d listeners won, want 1", round, lc.UnixMode, len(winners))
		}
		for _, err := range others {
			if !errors.Is(err, ErrAddressInUse) {
				t.Errorf("round %d: a loser got %v, want ErrAddressInUse", round, err)
			}
		}
		checkWinner(t, path, winners[0])
		if err := winners[0].Close(); err != nil {
			t.Fatal(err)
		}
		checkCleanedUp(t, path)
		if t.Failed() {
			return
		}
	}
}

// childListenEnv names the socket path a child process contends for.
const childListenEnv = "GORPCX_TEST_UNIX_CHILD_PATH"

// TestUnixListenChildProcess is run by
// TestUnixConcurrentStaleReplaceAcrossProcesses in child processes: for
// each "go" line on stdin it calls Listen on the path and reports "won"
// or "lost <error>"; the winner echoes on the socket until "close", then
// closes it and reports "closed". It ends at end of input.
func TestUnixListenChildProcess(t *testing.T) {
	path := os.Getenv(childListenEnv)
	if path == "" {
		t.Skip("run as a child process by TestUnixConcurrentStaleReplaceAcrossProcesses")
	}
	in := bufio.NewScanner(os.Stdin)
	var ln *Listener
	var wg sync.WaitGroup
	for in.Scan() {
		line := in.Text()
		if line == "close" {
			if ln != nil {
				ln.Close()
				wg.Wait()
				ln = nil
			}
			fmt.Println("closed")
			continue
		}
		var mode os.FileMode
		if _, err := fmt.Sscanf(line, "go %o", &mode); err != nil {
			fmt.Printf("bad command %q: %v\n", line, err)
			continue
		}
		var err error
		ln, err = (&ListenConfig{UnixMode: mode}).Listen(context.Background(), "unix", path)
		if err != nil {
			fmt.Printf("lost %v (in use: %v)\n", err, errors.Is(err, ErrAddressInUse))
			continue
		}
		wg.Add(1)
		go func(ln *Listener) {
			defer wg.Done()
			for {
				c, err := ln.AcceptConn()
				if err != nil {
					return
				}
				c.SetDeadline(time.Now().Add(testTimeout))
				io.Copy(c, c)
				c.CloseWrite()
				c.Close()
			}
		}(ln)
		fmt.Println("won")
	}
	if ln != nil {
		ln.Close()
		wg.Wait()
	}
}

// child is a test binary running TestUnixListenChildProcess.
type child struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func (c *child) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(c.in, line+"\n"); err != nil {
		t.Fatalf("to child %d: %v", c.cmd.Process.Pid, err)
	}
}

func (c *child) recv(t *testing.T) string {
	t.Helper()
	if !c.out.Scan() {
		t.Fatalf("child %d ended: %v", c.cmd.Process.Pid, c.out.Err())
	}
	return c.out.Text()
}

// TestUnixConcurrentStaleReplaceAcrossProcesses is the regression test
// for two processes both replacing the same stale socket.
func TestUnixConcurrentStaleReplaceAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	const processes = 4
	path := socketPath(t)
	// Registered first, so that it runs after the cleanups that wait
	// for the children: it only kills a child that does not end.
	ctx, cancel := context.WithTimeout(context.Background(), 2*raceBudget+testTimeout)
	t.Cleanup(cancel)
	children := make([]*child, processes)
	for i := range children {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestUnixListenChildProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), childListenEnv+"="+path)
		cmd.Stderr = os.Stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		c := &child{cmd: cmd, in: in, out: bufio.NewScanner(out)}
		children[i] = c
		t.Cleanup(func() {
			c.in.Close()
			if err := c.cmd.Wait(); err != nil {
				t.Errorf("child %d: %v", c.cmd.Process.Pid, err)
			}
		})
	}
	deadline := time.Now().Add(raceBudget)
	round := 0
	defer func() { t.Logf("%d rounds", round) }()
	for ; round < raceRounds && (round < raceMinRounds || time.Now().Before(deadline)); round++ {
		staleSocket(t, path)
		line := fmt.Sprintf("go %o", raceModes[round%2])
		for _, c := range children {
			c.send(t, line)
		}
		won := 0
		for _, c := range children {
			switch got := c.recv(t); {
			case got == "won":
				won++
			case strings.HasPrefix(got, "lost") && strings.HasSuffix(got, "(in use: true)"):
			default:
				t.Errorf("round %d: child %d: %s", round, c.cmd.Process.Pid, got)
			}
		}
		if won != 1 {
			t.Fatalf("round %d (%s): %d processes won, want 1", round, line, won)
		}
		checkWinner(t, path, nil)
		for _, c := range children {
			c.send(t, "close")
		}
		for _, c := range children {
			if got := c.recv(t); got != "closed" {
				t.Fatalf("round %d: child %d: %s", round, c.cmd.Process.Pid, got)
			}
		}
		checkCleanedUp(t, path)
		if t.Failed() {
			return
		}
	}
}

// TestUnixModeNeverWider is the regression test for a socket that was
// open to everyone the umask allowed between its creation and the
// change to UnixMode: a watcher looks at the path as fast as it can
// while Listen runs, and must never see it with bits beyond those
// asked for.
func TestUnixModeNeverWider(t *testing.T) {
	const mode = os.FileMode(0o600)
	old := syscall.Umask(0) // bind would make the socket 0777
	defer syscall.Umask(old)
	path := socketPath(t)
	deadline := time.Now().Add(raceBudget / 2)
	seen := 0
	for round := 0; round < 2*raceRounds && (round < raceMinRounds || time.Now().Before(deadline)); round++ {
		stop := make(chan struct{})
		wider := make(chan fs.FileMode, 1)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				fi, err := os.Lstat(path)
				if err != nil {
					continue
				}
				if fi.Mode().Perm()&^mode != 0 {
					select {
					case wider <- fi.Mode():
					default:
					}
					return
				}
			}
		}()
		ln, err := (&ListenConfig{UnixMode: mode}).Listen(testContext(t), "unix", path)
		if err != nil {
			close(stop)
			wg.Wait()
			t.Fatal(err)
		}
		fi, err := os.Lstat(path)
		close(stop)
		wg.Wait()
		ln.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != mode {
			t.Fatalf("round %d: mode right after Listen = %v, want %v", round, got, mode)
		}
		select {
		case m := <-wider:
			t.Fatalf("round %d: the socket was seen at the path with mode %v, wider than %v", round, m, mode)
		default:
		}
		seen++
	}
	t.Logf("%d rounds", seen)
}
