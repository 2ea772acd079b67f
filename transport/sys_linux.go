package transport

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"
)

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
