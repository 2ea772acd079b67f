package transport

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"syscall"
	"time"
)

// probeTimeout bounds the connection attempt that tells a live Unix
// socket from a stale one.
const probeTimeout = 5 * time.Second

// socketFile is a Unix socket file made by Listen.
type socketFile struct {
	path string
	info fs.FileInfo // as it was just after bind
}

// remove deletes the file if it is still the one Listen made.
func (f *socketFile) remove() error {
	now, err := os.Lstat(f.path)
	if err != nil || !os.SameFile(now, f.info) {
		return nil // gone already, or someone else's now
	}
	if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// listenUnix listens on the socket path after clearing a stale socket
// file, and sets the file's mode if mode is not 0. The file is nil for
// an abstract socket. Errors are bare causes for the caller to wrap.
func listenUnix(ctx context.Context, path string, mode os.FileMode) (net.Listener, *socketFile, error) {
	if path == "" {
		return nil, nil, errors.New("empty Unix socket path")
	}
	abstract := path[0] == '@'
	if !abstract {
		if err := clearStaleSocket(ctx, path); err != nil {
			return nil, nil, err
		}
	}
	var nlc net.ListenConfig
	ln, err := nlc.Listen(ctx, "unix", path)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			err = op.Err
		}
		return nil, nil, markInUse(err)
	}
	// Removal is ours to do, and only if the file is still ours.
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	if abstract {
		return ln, nil, nil
	}
	fail := func(err error) (net.Listener, *socketFile, error) {
		ln.Close()
		os.Remove(path)
		return nil, nil, err
	}
	info, err := os.Lstat(path)
	if err != nil {
		return fail(err)
	}
	if mode != 0 {
		if err := os.Chmod(path, mode.Perm()); err != nil {
			return fail(err)
		}
	}
	return ln, &socketFile{path: path, info: info}, nil
}

// clearStaleSocket removes path if it is a socket nobody listens on.
// It returns an error matching ErrAddressInUse if someone does, and
// one matching ErrNotSocket if path is another kind of file.
func clearStaleSocket(ctx context.Context, path string) error {
	info, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if info.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%w (%s)", ErrNotSocket, fileType(info.Mode()))
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	switch {
	case err == nil:
		c.Close()
		return &inUseError{fmt.Errorf("%w: a process accepts connections on this socket", syscall.EADDRINUSE)}
	case errors.Is(err, syscall.EAGAIN):
		// The listener's backlog is full: it is alive.
		return &inUseError{fmt.Errorf("%w: a process listens on this socket", syscall.EADDRINUSE)}
	case errors.Is(err, syscall.ECONNREFUSED):
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing stale socket: %w", err)
		}
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return nil // removed meanwhile
	}
	return fmt.Errorf("checking existing socket: %w", err)
}

func fileType(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "another kind of file"
}
