//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package transport

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// lockAttempts bounds how often Listen opens the lock file again
// because the one it locked was removed (by a listener closing) before
// it got the lock.
const lockAttempts = 8

// pathLock is a held lock file, path + ".lock", which gives one
// Listener at a time a Unix socket path: from before the check of a
// stale socket until the socket is removed at Close. The lock is flock's,
// on the open file: the system releases it when the process ends, so a
// lock file left by a process that died is no obstacle.
type pathLock struct {
	file *os.File
	path string
}

// lockSocketPath takes the lock file of a socket path, creating it
// (mode 0600) if it does not exist. If another listener holds it, the
// error matches ErrAddressInUse at once.
func lockSocketPath(socket string) (*pathLock, error) {
	path := socket + ".lock"
	for range lockAttempts {
		// O_NONBLOCK so that a named pipe put there cannot block the
		// open; O_NOFOLLOW so that a symbolic link is not followed.
		f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o600)
		if err != nil {
			return nil, fmt.Errorf("lock file: %w", err)
		}
		l := &pathLock{file: f, path: path}
		same, err := l.lock()
		if err != nil || !same {
			f.Close() // releases the lock, if taken
			if err != nil {
				return nil, err
			}
			continue
		}
		return l, nil
	}
	return nil, &inUseError{fmt.Errorf("%w: lock file %s keeps being replaced", syscall.EADDRINUSE, path)}
}

// lock takes the lock without waiting, then reports whether the path
// still names the file locked. If not, a listener removed it at Close
// between the open and the lock, and the caller opens the path again.
func (l *pathLock) lock() (bool, error) {
	opened, err := l.file.Stat()
	if err != nil {
		return false, fmt.Errorf("lock file: %w", err)
	}
	if !opened.Mode().IsRegular() {
		return false, fmt.Errorf("lock file %s is %s", l.path, fileType(opened.Mode()))
	}
	rc, err := l.file.SyscallConn()
	if err != nil {
		return false, fmt.Errorf("lock file: %w", err)
	}
	var ferr error
	err = rc.Control(func(fd uintptr) {
		for {
			ferr = syscall.Flock(int(fd), syscall.LOCK_EX|syscall.LOCK_NB)
			if ferr != syscall.EINTR {
				return
			}
		}
	})
	if err == nil {
		err = ferr
	}
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, &inUseError{fmt.Errorf("%w: another listener holds lock file %s", syscall.EADDRINUSE, l.path)}
	}
	if err != nil {
		return false, fmt.Errorf("lock file: %w", os.NewSyscallError("flock", err))
	}
	now, err := os.Lstat(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lock file: %w", err)
	}
	return os.SameFile(opened, now), nil
}

// release removes the lock file while still holding its lock, then
// releases the lock. Removing it under the lock is what keeps this
// safe: a contender that opened the file before its removal finds,
// once it holds the lock, that the path no longer names that file, and
// starts again.
func (l *pathLock) release() error {
	err := func() error {
		opened, err := l.file.Stat()
		if err != nil {
			return err
		}
		return removeIfSame(l.path, opened)
	}()
	// Closing the only descriptor of the open file releases the lock.
	if cerr := l.file.Close(); err == nil {
		err = cerr
	}
	return err
}
