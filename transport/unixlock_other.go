//go:build !(darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd)

package transport

// pathLock would be the lock file of a Unix socket path. This system
// has no flock, so no lock file is made, and listeners replacing the
// same stale socket at once are not kept apart (see ListenConfig).
type pathLock struct{}

// lockSocketPath returns a nil lock: this system has no flock.
func lockSocketPath(string) (*pathLock, error) { return nil, nil }

// release does nothing: the lock is never made on this system.
func (*pathLock) release() error { return nil }
