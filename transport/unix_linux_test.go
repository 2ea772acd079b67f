package transport

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnixModeLongPath covers a path that fits the 108-byte limit on
// socket names while its temporary name does not: the socket is bound
// through /proc/self/fd instead, and works as any other.
func TestUnixModeLongPath(t *testing.T) {
	const limit = 107 // 108 bytes with the terminating zero
	dir := t.TempDir()
	base := strings.Repeat("s", limit-len(dir)-1)
	if len(base) < 8 {
		t.Skipf("temporary directory %s is too long to test with", dir)
	}
	path := filepath.Join(dir, base)
	if len(path) != limit {
		t.Fatalf("path of %d bytes, want %d", len(path), limit)
	}
	ctx := testContext(t)
	ln, err := (&ListenConfig{UnixMode: 0o600}).Listen(ctx, "unix", path)
	if err != nil {
		t.Fatal(err)
	}
	serveEcho(t, ln)
	if fi, err := os.Lstat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket: %v, %v; want mode 0600", fi, err)
	}
	if got := ln.Addr().String(); got != path {
		t.Errorf("Addr() = %q, want the path", got)
	}
	c, err := Dial(ctx, "unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, "long path")
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	checkCleanedUp(t, path)

	// One byte more is too long for the path itself.
	if _, err := (&ListenConfig{UnixMode: 0o600}).Listen(ctx, "unix", path+"s"); err == nil {
		t.Error("Listen on a path past the limit succeeded")
	}
	checkCleanedUp(t, path)
}
