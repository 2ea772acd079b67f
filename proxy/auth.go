package proxy

import (
	"crypto/rand"
	"errors"
	"strconv"
	"strings"
)

// Auth is the credentials given to a proxy. The zero Auth gives none.
//
// SOCKS5 offers username and password authentication (RFC 1929)
// besides none when Username is set or Random is true; SOCKS4 and
// SOCKS4a send Username as the user ID and have no use for Password.
//
// Fields print with fmt without the password: see [Auth.String] and
// [Auth.GoString].
type Auth struct {
	// Username is the user name (SOCKS5) or user ID (SOCKS4), at most
	// 255 bytes; empty for none.
	Username string
	// Password goes with Username for SOCKS5, at most 255 bytes. It is
	// never written in logs or errors.
	Password string
	// Random, when true, replaces Username and Password with fresh
	// random ones for every connection (aiorpcX's SOCKSRandomAuth).
	// Tor puts connections with different credentials on different
	// circuits (stream isolation), so that a server cannot link them.
	Random bool
}

// String describes the credentials for logs: "none", "random" or
// `user "NAME"`. The password is never shown.
func (a Auth) String() string {
	switch {
	case a.Random:
		return "random"
	case a.Username != "":
		return "user " + strconv.Quote(a.Username)
	}
	return "none"
}

// GoString is the %#v form of a: Go syntax with the password, if any,
// replaced by "xxxxx".
func (a Auth) GoString() string {
	pw := ""
	if a.Password != "" {
		pw = "xxxxx"
	}
	return "proxy.Auth{Username:" + strconv.Quote(a.Username) +
		", Password:" + strconv.Quote(pw) +
		", Random:" + strconv.FormatBool(a.Random) + "}"
}

// credentials returns the username and password for one connection:
// fresh random ones (128 bits each, from crypto/rand) when a.Random.
func (a Auth) credentials() (user, password string) {
	if a.Random {
		return rand.Text(), rand.Text()
	}
	return a.Username, a.Password
}

// check reports credentials that p cannot send.
func (a Auth) check(p Protocol) error {
	if a.Random {
		return nil
	}
	switch {
	case len(a.Username) > 255:
		return errors.New("username longer than 255 bytes")
	case len(a.Password) > 255:
		return errors.New("password longer than 255 bytes")
	case a.Password != "" && a.Username == "":
		return errors.New("password without a username")
	case p != SOCKS5 && strings.IndexByte(a.Username, 0) >= 0:
		return errors.New("user ID contains a NUL byte")
	}
	return nil
}
