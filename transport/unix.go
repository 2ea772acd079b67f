package transport

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

// probeTimeout bounds the connection attempt that tells a live Unix
// socket from a stale one.
const probeTimeout = 5 * time.Second

// placeAttempts bounds how often Listen clears the path and tries again
// when a file appears at it between the check and the socket's arrival.
const placeAttempts = 3

// bindPrivately tells whether a socket given a mode is made in a
// private directory and linked into place with that mode already set.
// Windows has no Unix permissions on socket files to protect: there
// the mode is set where the socket was made, as chmod allows.
const bindPrivately = runtime.GOOS != "windows"

// socketFile is a Unix socket file made by Listen, and the lock that
// keeps other listeners off its path.
type socketFile struct {
	path string
	info fs.FileInfo // the socket as Listen made it
	lock *pathLock   // nil where the system has no flock
}

// close removes the socket file if it is still the one Listen made,
// then the lock file, and releases the lock. It returns the first error.
func (f *socketFile) close() error {
	err := removeIfSame(f.path, f.info)
	if f.lock != nil {
		if lerr := f.lock.release(); err == nil {
			err = lerr
		}
	}
	return err
}

// removeIfSame removes path if it still names the file info describes.
func removeIfSame(path string, info fs.FileInfo) error {
	now, err := os.Lstat(path)
	if err != nil || !os.SameFile(now, info) {
		return nil // gone already, or someone else's now
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// listenUnix listens on the socket path, holding its lock file, after
// clearing a stale socket file, and with the file's mode set if mode is
// not 0. The file is nil for an abstract socket. Errors are bare causes
// for the caller to wrap.
func listenUnix(ctx context.Context, path string, mode os.FileMode) (net.Listener, *socketFile, error) {
	if path == "" {
		return nil, nil, errors.New("empty Unix socket path")
	}
	if path[0] == '@' {
		ln, err := bindUnix(ctx, path)
		if err != nil {
			return nil, nil, err
		}
		return ln, nil, nil
	}
	lock, err := lockSocketPath(path)
	if err != nil {
		return nil, nil, err
	}
	ln, info, err := placeSocket(ctx, path, mode)
	if err != nil {
		if lock != nil {
			lock.release()
		}
		return nil, nil, err
	}
	return ln, &socketFile{path: path, info: info, lock: lock}, nil
}

// placeSocket clears a stale socket at path and makes the listening
// socket there, returning it and its file's details.
func placeSocket(ctx context.Context, path string, mode os.FileMode) (net.Listener, fs.FileInfo, error) {
	if mode == 0 || !bindPrivately {
		if err := clearStaleSocket(ctx, path); err != nil {
			return nil, nil, err
		}
		return bindInPlace(ctx, path, mode)
	}
	for attempt := 1; ; attempt++ {
		if err := clearStaleSocket(ctx, path); err != nil {
			return nil, nil, err
		}
		ln, info, err := bindAndLink(ctx, path, mode)
		if !errors.Is(err, fs.ErrExist) {
			return ln, info, err
		}
		// A file appeared at the path since the check, made by a
		// process that takes no lock: look at it again.
		if attempt == placeAttempts {
			return nil, nil, &inUseError{fmt.Errorf("%w: files keep appearing at the path", syscall.EADDRINUSE)}
		}
	}
}

// bindUnix listens on a Unix socket address. Removing its file is left
// to the caller.
func bindUnix(ctx context.Context, address string) (*net.UnixListener, error) {
	var nlc net.ListenConfig
	ln, err := nlc.Listen(ctx, "unix", address)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			err = op.Err
		}
		return nil, markInUse(err)
	}
	ul := ln.(*net.UnixListener)
	// Removal is ours to do, and only if the file is still ours.
	ul.SetUnlinkOnClose(false)
	return ul, nil
}

// bindInPlace makes the socket at path, with the permissions the umask
// allows, then sets mode if it is not 0.
func bindInPlace(ctx context.Context, path string, mode os.FileMode) (net.Listener, fs.FileInfo, error) {
	ln, err := bindUnix(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (net.Listener, fs.FileInfo, error) {
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
	return ln, info, nil
}

// bindAndLink makes the socket in a new directory beside path that only
// this user may enter, gives it mode there, and links it to path, where
// it appears with that mode already set. A hard link, unlike a rename,
// never replaces a file: if one appeared at path meanwhile the error
// matches fs.ErrExist and the file is left alone.
func bindAndLink(ctx context.Context, path string, mode os.FileMode) (net.Listener, fs.FileInfo, error) {
	dir, err := os.MkdirTemp(filepath.Dir(path), filepath.Base(path)+".tmp")
	if err != nil {
		return nil, nil, err
	}
	// Run last, once the name inside is gone. The listener works
	// without either name, so a failure to remove them is not Listen's.
	defer os.Remove(dir)
	tmp := filepath.Join(dir, "s")
	defer os.Remove(tmp)
	ln, err := bindUnix(ctx, tmp)
	if errors.Is(err, syscall.EINVAL) {
		// The temporary name is longer than the path and may pass the
		// system's limit on socket names where the path does not.
		ln, err = bindShort(ctx, path, dir, "s")
	}
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (net.Listener, fs.FileInfo, error) {
		ln.Close()
		return nil, nil, err
	}
	if err := os.Chmod(tmp, mode.Perm()); err != nil {
		return fail(err)
	}
	info, err := os.Lstat(tmp)
	if err != nil {
		return fail(err)
	}
	if err := os.Link(tmp, path); err != nil {
		return fail(err)
	}
	return ln, info, nil
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
