// Package startup holds the start-up the benchmark servers share: listen,
// announce the address on the first line of standard output, exit on
// SIGINT or SIGTERM, and the TLS configuration of the TLS settings.
package startup

import (
	"crypto/tls"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/gorpcx/gorpcx/transport"
)

// Listen listens on the TCP address addr and prints "listening on
// HOST:PORT" as the first line of standard output. It exits the program
// with a logged error if it cannot listen.
func Listen(addr string) net.Listener {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	return ln
}

// TLSConfig returns the server configuration every benchmark server with
// -tls uses, so that their TLS settings compare like with like: a
// self-signed ECDSA P-256 certificate for 127.0.0.1 made at start by
// transport.SelfSigned (the SDK's own), TLS 1.3 only, and otherwise Go's
// defaults (cipher suites, key exchanges, session tickets). It exits the
// program with a logged error if the certificate cannot be made.
func TLSConfig() *tls.Config {
	cert, err := transport.SelfSigned(0, "127.0.0.1", "localhost")
	if err != nil {
		log.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}
}

// ExitOnSignal makes the program exit with status 0 on SIGINT or SIGTERM.
func ExitOnSignal() {
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
		<-sig
		os.Exit(0)
	}()
}
