package transport

import (
	"crypto/tls"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// socketPath returns a path for a Unix socket in a fresh temporary
// directory, short enough for the 108-byte limit.
func socketPath(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "s.sock")
}

func TestUnixListenDial(t *testing.T) {
	ctx := testContext(t)
	path := socketPath(t)
	ln, err := Listen(ctx, "unix", path)
	if err != nil {
		t.Fatal(err)
	}
	accepted := serveEcho(t, ln)
	if got := ln.Addr().String(); got != path {
		t.Errorf("Addr() = %q, want %q", got, path)
	}
	if !ln.Address().IsZero() {
		t.Errorf("Address() = %v, want the zero NetAddress", ln.Address())
	}
	c, err := Dial(ctx, "unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !c.RemoteAddress().IsZero() {
		t.Errorf("RemoteAddress() = %v, want zero", c.RemoteAddress())
	}
	if ua, ok := c.RemoteAddr().(*net.UnixAddr); !ok || ua.Name != path {
		t.Errorf("RemoteAddr() = %#v, want the socket path", c.RemoteAddr())
	}
	roundTrip(t, c, "hello over unix")
	if sc := <-accepted; !sc.RemoteAddress().IsZero() {
		t.Errorf("accepted RemoteAddress() = %v, want zero", sc.RemoteAddress())
	}
}

func TestUnixRemovedOnClose(t *testing.T) {
	path := socketPath(t)
	ln, err := Listen(testContext(t), "unix", path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode().Type() != fs.ModeSocket {
		t.Fatalf("socket file: %v, %v", fi, err)
	}
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket file after Close: %v", err)
	}
	if err := ln.Close(); err != nil {
		t.Errorf("second Close = %v, want the first's result", err)
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close = %v", err)
	}
}

func TestUnixCloseLeavesAnotherFile(t *testing.T) {
	path := socketPath(t)
	ln, err := Listen(testContext(t), "unix", path)
	if err != nil {
		t.Fatal(err)
	}
	// Someone replaces the socket file while we listen.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("not ours"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "not ours" {
		t.Errorf("file after Close = %q, %v; want it untouched", b, err)
	}
}

func TestUnixCloseAfterFileGone(t *testing.T) {
	path := socketPath(t)
	ln, err := Listen(testContext(t), "unix", path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := ln.Close(); err != nil {
		t.Errorf("Close with the file gone = %v", err)
	}
}

// staleSocket leaves a socket file at path with nobody listening, as a
// process that died would.
func staleSocket(t *testing.T, path string) {
	t.Helper()
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ul.SetUnlinkOnClose(false)
	ul.Close()
	if fi, err := os.Lstat(path); err != nil || fi.Mode().Type() != fs.ModeSocket {
		t.Fatalf("stale socket not left behind: %v", err)
	}
	if _, err := net.Dial("unix", path); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("stale socket: dial = %v, want connection refused", err)
	}
}

func TestUnixStaleSocketReplaced(t *testing.T) {
	ctx := testContext(t)
	path := socketPath(t)
	staleSocket(t, path)
	ln, err := Listen(ctx, "unix", path)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	serveEcho(t, ln)
	c, err := Dial(ctx, "unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, "replaced")
}

func TestUnixLiveSocketRefused(t *testing.T) {
	ctx := testContext(t)
	path := socketPath(t)
	first, err := Listen(ctx, "unix", path)
	if err != nil {
		t.Fatal(err)
	}
	serveEcho(t, first)

	ln, err := Listen(ctx, "unix", path)
	if err == nil {
		ln.Close()
		t.Fatal("Listen on a live socket succeeded")
	}
	if !errors.Is(err, ErrAddressInUse) || !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("error = %v, want ErrAddressInUse and EADDRINUSE", err)
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "listen" || op.Addr.String() != path {
		t.Errorf("error = %#v, want a listen *net.OpError naming the path", err)
	}
	// The first listener still works.
	c, err := Dial(ctx, "unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, "still alive")
}

func TestUnixLiveSocketWithFullBacklog(t *testing.T) {
	// A listener that never accepts, with its backlog filled: a probe
	// cannot connect, yet the socket is alive.
	path := socketPath(t)
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	var fill []net.Conn
	defer func() {
		for _, c := range fill {
			c.Close()
		}
	}()
	for range 64 {
		d := net.Dialer{Timeout: 50 * time.Millisecond}
		c, err := d.Dial("unix", path)
		if err != nil {
			break
		}
		fill = append(fill, c)
	}
	_, err = Listen(testContext(t), "unix", path)
	if !errors.Is(err, ErrAddressInUse) {
		t.Errorf("Listen on a busy live socket = %v, want ErrAddressInUse", err)
	}
	if _, serr := os.Lstat(path); serr != nil {
		t.Errorf("live socket file removed: %v", serr)
	}
}

func TestUnixNotSocketRefused(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "file")
	if err := os.WriteFile(regular, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	subdir := filepath.Join(dir, "dir")
	if err := os.Mkdir(subdir, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(regular, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{regular, subdir, link, fifo} {
		ln, err := Listen(testContext(t), "unix", path)
		if err == nil {
			ln.Close()
			t.Errorf("Listen(%s) succeeded", path)
			continue
		}
		if !errors.Is(err, ErrNotSocket) || errors.Is(err, ErrAddressInUse) {
			t.Errorf("Listen(%s) = %v, want ErrNotSocket", path, err)
		}
		if _, err := os.Lstat(path); err != nil {
			t.Errorf("%s removed: %v", path, err)
		}
	}
	if b, err := os.ReadFile(regular); err != nil || string(b) != "keep me" {
		t.Errorf("regular file now %q, %v", b, err)
	}
}

func TestUnixMode(t *testing.T) {
	for _, mode := range []os.FileMode{0o600, 0o660, 0o777} {
		path := socketPath(t)
		ln, err := (&ListenConfig{UnixMode: mode}).Listen(testContext(t), "unix", path)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != mode {
			t.Errorf("mode = %v, want %v", got, mode)
		}
		if err := ln.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("socket file after Close: %v", err)
		}
	}
}

func TestUnixBadPaths(t *testing.T) {
	ctx := testContext(t)
	if _, err := Listen(ctx, "unix", ""); err == nil {
		t.Error("Listen on an empty path succeeded")
	}
	missingDir := filepath.Join(t.TempDir(), "no", "such", "dir", "s.sock")
	if _, err := Listen(ctx, "unix", missingDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Listen in a missing directory = %v", err)
	}
	if _, err := Dial(ctx, "unix", missingDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Dial to a missing socket = %v", err)
	}
}

func TestUnixAbstract(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("abstract sockets are Linux only")
	}
	ctx := testContext(t)
	name := "@gorpcx-transport-test-" + strconv.Itoa(os.Getpid())
	ln, err := (&ListenConfig{UnixMode: 0o600}).Listen(ctx, "unix", name)
	if err != nil {
		t.Fatal(err)
	}
	serveEcho(t, ln)
	c, err := Dial(ctx, "unix", name)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, "abstract")
	// A second listener on the same name is refused.
	if _, err := Listen(ctx, "unix", name); !errors.Is(err, ErrAddressInUse) {
		t.Errorf("second Listen(%s) = %v, want ErrAddressInUse", name, err)
	}
}

func TestUnixTLS(t *testing.T) {
	ctx := testContext(t)
	ln, pool := tlsListen(t, "unix", socketPath(t))
	serveEcho(t, ln)
	// No host to take a server name from: the caller gives one.
	c, err := (&Dialer{TLS: &tls.Config{RootCAs: pool, ServerName: "gorpcx.test"}}).Dial(ctx, "unix", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if st, ok := c.TLSState(); !ok || st.ServerName != "gorpcx.test" {
		t.Errorf("TLSState() = %q, %v", st.ServerName, ok)
	}
	roundTrip(t, c, "tls over unix")

	// Without one, the handshake cannot verify anything.
	_, err = (&Dialer{TLS: &tls.Config{RootCAs: pool}}).Dial(ctx, "unix", ln.Addr().String())
	if err == nil {
		t.Error("TLS over unix without a ServerName succeeded")
	}
}
