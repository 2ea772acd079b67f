package transport

import (
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"
)

// tcpUserTimeout is TCP_USER_TIMEOUT from linux/tcp.h, which package
// syscall does not define.
const tcpUserTimeout = 18

// userTimeoutControl returns a Control function for net.Dialer and
// net.ListenConfig that sets TCP_USER_TIMEOUT to d (rounded up to a
// millisecond, at most about 24.8 days), or nil when d is not positive.
// A listening socket passes it on to the connections it accepts.
func userTimeoutControl(d time.Duration) func(network, address string, c syscall.RawConn) error {
	if d <= 0 {
		return nil
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	ms = min(ms, math.MaxInt32)
	return func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpUserTimeout, int(ms))
		}); err != nil {
			return err
		}
		return os.NewSyscallError("setsockopt TCP_USER_TIMEOUT", serr)
	}
}

// bindShort listens on the socket name inside dir through the shorter
// path /proc/self/fd/N/name, for when dir/name is past the 108-byte
// limit on socket names. The socket's final path must be within it,
// or nobody could connect to it by that path.
func bindShort(ctx context.Context, path, dir, name string) (*net.UnixListener, error) {
	if len(path) >= len(syscall.RawSockaddrUnix{}.Path) {
		return nil, fmt.Errorf("socket path of %d bytes is too long: %w", len(path), syscall.EINVAL)
	}
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	ln, err := bindUnix(ctx, "/proc/self/fd/"+strconv.Itoa(int(d.Fd()))+"/"+name)
	if err != nil {
		return nil, fmt.Errorf("binding under a temporary name (%s, too long) through /proc/self/fd: %w", dir, err)
	}
	return ln, nil
}
