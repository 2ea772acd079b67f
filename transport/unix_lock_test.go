//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package transport

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// holdLock takes the lock file of a socket path as another process
// would, and releases it at cleanup.
func holdLock(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path+".lock", os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
}

func TestUnixLockHeldRefused(t *testing.T) {
	for _, mode := range []os.FileMode{0, 0o600} {
		path := socketPath(t)
		staleSocket(t, path)
		holdLock(t, path)
		ln, err := (&ListenConfig{UnixMode: mode}).Listen(testContext(t), "unix", path)
		if err == nil {
			ln.Close()
			t.Fatalf("mode %v: Listen with the lock held by another succeeded", mode)
		}
		if !errors.Is(err, ErrAddressInUse) || !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("mode %v: Listen = %v, want ErrAddressInUse and EADDRINUSE", mode, err)
		}
		var op *net.OpError
		if !errors.As(err, &op) || op.Op != "listen" || op.Addr.String() != path {
			t.Errorf("mode %v: error = %#v, want a listen *net.OpError naming the path", mode, err)
		}
		// The holder owns the path: its stale socket and its lock file
		// are left alone.
		if fi, err := os.Lstat(path); err != nil || fi.Mode().Type() != fs.ModeSocket {
			t.Errorf("mode %v: socket after a refused Listen: %v", mode, err)
		}
		if _, err := os.Lstat(path + ".lock"); err != nil {
			t.Errorf("mode %v: lock file after a refused Listen: %v", mode, err)
		}
	}
}

func TestUnixLockFileOfDeadProcessReused(t *testing.T) {
	path := socketPath(t)
	staleSocket(t, path)
	// A process that died leaves its lock file, no longer locked.
	if err := os.WriteFile(path+".lock", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := Listen(testContext(t), "unix", path)
	if err != nil {
		t.Fatal(err)
	}
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	checkCleanedUp(t, path)
}

func TestUnixLockFileHeldWhileListening(t *testing.T) {
	path := socketPath(t)
	ln, err := (&ListenConfig{UnixMode: 0o660}).Listen(testContext(t), "unix", path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path + ".lock")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&^0o600 != 0 {
		t.Errorf("lock file: %v, %v; want a regular file of mode 0600 or narrower", fi.Mode(), err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Errorf("flock while listening = %v, want EWOULDBLOCK", err)
	}
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Errorf("flock after Close = %v, want the lock free", err)
	}
	checkCleanedUp(t, path)
}

func TestUnixLockFileNotRegularRefused(t *testing.T) {
	tests := []struct {
		name string
		make func(lock string) error
	}{
		{"directory", func(lock string) error { return os.Mkdir(lock, 0o700) }},
		{"named pipe", func(lock string) error { return syscall.Mkfifo(lock, 0o600) }},
		{"symbolic link", func(lock string) error {
			return os.Symlink(filepath.Join(filepath.Dir(lock), "elsewhere"), lock)
		}},
	}
	for _, tt := range tests {
		path := socketPath(t)
		if err := tt.make(path + ".lock"); err != nil {
			t.Fatal(err)
		}
		ln, err := Listen(testContext(t), "unix", path)
		if err == nil {
			ln.Close()
			t.Errorf("%s as lock file: Listen succeeded", tt.name)
			continue
		}
		if _, serr := os.Lstat(path + ".lock"); serr != nil {
			t.Errorf("%s as lock file: removed: %v", tt.name, serr)
		}
		if _, serr := os.Lstat(filepath.Join(filepath.Dir(path), "elsewhere")); !errors.Is(serr, fs.ErrNotExist) {
			t.Errorf("%s as lock file: the link was followed: %v", tt.name, serr)
		}
	}
}

// TestUnixLockFileReplacedBeforeLocked covers a listener that opened
// the lock file just before another, closing, removed it: once it holds
// the lock on the removed file it must see that and start again.
func TestUnixLockFileReplacedBeforeLocked(t *testing.T) {
	path := socketPath(t)
	lock := path + ".lock"
	f, err := os.OpenFile(lock, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	l := &pathLock{file: f, path: lock}
	defer f.Close()
	if err := os.Remove(lock); err != nil {
		t.Fatal(err)
	}
	if same, err := l.lock(); err != nil || same {
		t.Errorf("lock on a removed lock file = %v, %v; want false, nil", same, err)
	}
	f2, err := os.OpenFile(lock, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	if same, err := l.lock(); err != nil || same {
		t.Errorf("lock on a replaced lock file = %v, %v; want false, nil", same, err)
	}
	// The new lock file is free: Listen takes it and removes it at Close.
	ln, err := Listen(testContext(t), "unix", path)
	if err != nil {
		t.Fatal(err)
	}
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	checkCleanedUp(t, path)
}

// TestUnixLinkNeverReplaces checks that a file appearing at the path
// after the check for a stale socket is not replaced by the new socket.
func TestUnixLinkNeverReplaces(t *testing.T) {
	path := socketPath(t)
	if err := os.WriteFile(path, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, _, err := bindAndLink(testContext(t), path, 0o600)
	if err == nil {
		ln.Close()
		t.Fatal("bindAndLink over a regular file succeeded")
	}
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("bindAndLink over a regular file = %v, want fs.ErrExist", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "keep me" {
		t.Errorf("file now %q, %v", b, err)
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the file: the temporary directory was left", len(entries))
	}
}

// TestUnixModeAddresses checks that a socket bound under a temporary
// name reports the path given to Listen, on the listener and on the
// connections it accepts.
func TestUnixModeAddresses(t *testing.T) {
	ctx := testContext(t)
	path := socketPath(t)
	ln, err := (&ListenConfig{UnixMode: 0o600}).Listen(ctx, "unix", path)
	if err != nil {
		t.Fatal(err)
	}
	accepted := serveEcho(t, ln)
	if ua, ok := ln.Addr().(*net.UnixAddr); !ok || ua.Name != path || ua.Net != "unix" {
		t.Errorf("Addr() = %#v, want the path", ln.Addr())
	}
	c, err := Dial(ctx, "unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, "mode")
	sc := <-accepted
	if ua, ok := sc.LocalAddr().(*net.UnixAddr); !ok || ua.Name != path {
		t.Errorf("accepted LocalAddr() = %#v, want the path", sc.LocalAddr())
	}
}
