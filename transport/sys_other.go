//go:build !linux

package transport

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"syscall"
	"time"
)

// userTimeoutControl returns nil: TCP_USER_TIMEOUT is Linux's, and
// UserTimeout is documented as ignored elsewhere.
func userTimeoutControl(time.Duration) func(network, address string, c syscall.RawConn) error {
	return nil
}

// bindShort reports that the temporary name a socket is first bound
// under (when UnixMode is set) is past the system's limit on socket
// names: this system has no /proc/self/fd to shorten it.
func bindShort(_ context.Context, _, dir, name string) (*net.UnixListener, error) {
	return nil, fmt.Errorf("socket path too long once bound under a temporary name (%s): shorten the path, or set UnixMode 0 to bind in place: %w",
		filepath.Join(dir, name), syscall.EINVAL)
}
