//go:build unix

package transport

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// stdioFiles are the duplicates of descriptors 0 and 1 a Pipe from
// Stdio works on, and what release must give back.
type stdioFiles struct {
	in, out *os.File
	// blocking lists the standard descriptors (0, 1) whose open file
	// description was put in non-blocking mode, to be put back.
	blocking []int
}

// openStdio duplicates descriptors 0 and 1 (close-on-exec, so that
// children do not inherit the duplicates) and puts the descriptions
// that are pipes or sockets, and are not also standard error, in
// non-blocking mode, so that os.NewFile makes pollable files of them,
// whose Close interrupts a blocked Read or Write.
func openStdio() (*stdioFiles, error) {
	var st [3]unix.Stat_t
	var ok [3]bool
	for fd := range 3 {
		ok[fd] = unix.Fstat(fd, &st[fd]) == nil
	}
	same := func(a, b int) bool {
		return ok[a] && ok[b] && st[a].Dev == st[b].Dev && st[a].Ino == st[b].Ino
	}
	pollable := func(fd int) bool {
		if !ok[fd] || same(fd, 2) {
			return false
		}
		m := st[fd].Mode & unix.S_IFMT
		return m == unix.S_IFIFO || m == unix.S_IFSOCK
	}
	nb := [2]bool{pollable(0), pollable(1)}
	if same(0, 1) && nb[0] != nb[1] {
		// One file: one mode for both, or neither.
		nb = [2]bool{false, false}
	}
	s := &stdioFiles{}
	var dups [2]int
	for fd := range 2 {
		d, err := dupCloexec(fd)
		if err != nil {
			if fd == 1 {
				unix.Close(dups[0])
			}
			return nil, &os.PathError{Op: "dup", Path: stdName(fd), Err: err}
		}
		dups[fd] = d
	}
	for fd := range 2 {
		if !nb[fd] {
			continue
		}
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		if err != nil || flags&unix.O_NONBLOCK != 0 {
			continue // already non-blocking: nothing to give back
		}
		if unix.SetNonblock(fd, true) == nil {
			s.blocking = append(s.blocking, fd)
		}
	}
	// Made after the modes are set: os.NewFile makes a pollable file of
	// a descriptor that is non-blocking.
	s.in = os.NewFile(uintptr(dups[0]), stdName(0))
	s.out = os.NewFile(uintptr(dups[1]), stdName(1))
	return s, nil
}

// dupCloexec duplicates fd, close-on-exec. The fork lock keeps a child
// started meanwhile from inheriting the duplicate (F_DUPFD_CLOEXEC is
// not on every Unix).
func dupCloexec(fd int) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	d, err := unix.Dup(fd)
	if err != nil {
		return -1, err
	}
	unix.CloseOnExec(d)
	return d, nil
}

func stdName(fd int) string {
	if fd == 0 {
		return "/dev/stdin"
	}
	return "/dev/stdout"
}

// release runs after the duplicates are closed: it puts back the
// blocking mode and points descriptors 0 and 1 at /dev/null.
func (s *stdioFiles) release() error {
	var errs []error
	for _, fd := range s.blocking {
		if err := unix.SetNonblock(fd, false); err != nil {
			errs = append(errs, &os.PathError{Op: "set blocking", Path: stdName(fd), Err: err})
		}
	}
	null, err := unix.Open(os.DevNull, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return errors.Join(append(errs, &os.PathError{Op: "open", Path: os.DevNull, Err: err})...)
	}
	for fd := range 2 {
		if err := unix.Dup2(null, fd); err != nil {
			errs = append(errs, &os.PathError{Op: "dup2 " + os.DevNull, Path: stdName(fd), Err: err})
		}
	}
	unix.Close(null)
	return errors.Join(errs...)
}
