// Package startup holds the start-up the benchmark servers share: listen,
// announce the address on the first line of standard output, and exit on
// SIGINT or SIGTERM.
package startup

import (
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
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

// ExitOnSignal makes the program exit with status 0 on SIGINT or SIGTERM.
func ExitOnSignal() {
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
		<-sig
		os.Exit(0)
	}()
}
