package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gorpcx/gorpcx/session"
)

// emfileChild is set in the environment of the child process of
// TestAcceptBackoffOnTooManyFiles.
const emfileChild = "GORPCX_TEST_EMFILE_CHILD"

// runEMFILEChild is the child's side: a server whose process may only
// open a few more files. It prints "listening on ADDR", then a line
// "backoff" the first time Accept fails and it backs off, and serves
// until killed.
func runEMFILEChild() {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	// The listener takes one more descriptor; leave room for two sessions.
	limit := uint64(len(entries) + 3)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	reported := false
	hook := zap.Hooks(func(e zapcore.Entry) error {
		if strings.HasPrefix(e.Message, "accept failed") && !reported {
			reported = true
			fmt.Println("backoff")
		}
		return nil
	})
	logger := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), zapcore.DebugLevel), hook)
	srv := &Server{Logger: logger, Options: session.Options{Handler: hello}}
	if err := srv.Listen(context.Background()); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("listening on", srv.Addr())
	select {}
}

// Running out of file descriptors makes Accept fail: the server backs
// off and retries, and serves again once descriptors are free.
func TestAcceptBackoffOnTooManyFiles(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run", "^$")
	cmd.Env = append(os.Environ(), emfileChild+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func() string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("child exited")
			}
			return l
		case <-time.After(10 * time.Second):
			t.Fatal("child silent")
		}
		return ""
	}
	first := next()
	addr, ok := strings.CutPrefix(first, "listening on ")
	if !ok {
		t.Fatalf("child said %q", first)
	}
	// More connections than the child has descriptors for.
	var conns []net.Conn
	for range 8 {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	if got := next(); got != "backoff" {
		t.Fatalf("child said %q, want backoff", got)
	}
	for _, c := range conns {
		c.Close()
	}
	// Once the sessions of the closed connections end, it serves again.
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := Dial(context.Background(), "tcp", addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		var got string
		err = s.Call(ctx, "hi", nil, &got)
		cancel()
		s.Abort()
		if err == nil && strings.HasPrefix(got, "hello ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not recover: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
