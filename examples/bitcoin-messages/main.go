// Bitcoin-messages shows session.MessageSession, gorpcx's session for
// protocols of (command, payload) messages, over framing.Bitcoin, the
// message format of the Bitcoin peer-to-peer protocol (magic, command,
// length, double-SHA-256 checksum). Two nodes, alice and bob, joined by
// an in-memory connection, shake hands with version and verack and
// exchange a ping and a pong; each message is printed as it arrives.
//
// Run it with
//
//	go run ./examples/bitcoin-messages
//
// The output is the same on every run; the program exits 0 when the
// exchange completed, 1 otherwise.
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/session"
)

// timeout bounds the whole exchange, so that the example cannot hang.
const timeout = 10 * time.Second

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bitcoin-messages:", err)
		os.Exit(1)
	}
}

// node is one side of the exchange. Each message it receives causes
// exactly one message back, so that the printed order is always the
// same.
type node struct {
	name, peer string
	userAgent  string
	height     int32
	addr       netip.AddrPort
	peerAddr   netip.AddrPort
	pingNonce  uint64

	out  *printer
	sess *session.MessageSession
	done chan error // receives the end of the exchange (on alice)
}

// printer serialises the lines of both nodes.
type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *printer) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
}

// HandleMessage prints a message from the peer and answers it.
func (n *node) HandleMessage(ctx context.Context, command string, payload []byte) error {
	line := fmt.Sprintf("%-5s -> %-5s  %-7s %3d bytes", n.peer, n.name, command, len(payload))
	switch command {
	case "version":
		var v version
		if err := v.unmarshal(payload); err != nil {
			return n.fail(fmt.Errorf("bad version: %w", err))
		}
		n.out.printf("%s  %v\n", line, &v)
		if n.name == "bob" {
			// bob answers alice's version with his own.
			return n.send(ctx, "version", newVersion(n.userAgent, n.height, n.addr, n.peerAddr, 2).marshal())
		}
		return n.send(ctx, "verack", nil)
	case "verack":
		if n.name == "bob" {
			n.out.printf("%s\n", line)
			return n.send(ctx, "verack", nil)
		}
		n.out.printf("%s  handshake complete\n", line)
		return n.send(ctx, "ping", nonce(n.pingNonce))
	case "ping":
		if len(payload) != 8 {
			return n.fail(errors.New("ping without an 8-byte nonce"))
		}
		n.out.printf("%s  nonce %#016x\n", line, binary.LittleEndian.Uint64(payload))
		return n.send(ctx, "pong", payload)
	case "pong":
		if len(payload) != 8 || binary.LittleEndian.Uint64(payload) != n.pingNonce {
			return n.fail(errors.New("pong does not match the ping"))
		}
		n.out.printf("%s  nonce %#016x, matches the ping\n", line, n.pingNonce)
		n.done <- nil
		return nil
	}
	return n.fail(fmt.Errorf("unexpected command %q", command))
}

func (n *node) send(ctx context.Context, command string, payload []byte) error {
	if err := n.sess.Send(ctx, command, payload); err != nil {
		return n.fail(fmt.Errorf("sending %s: %w", command, err))
	}
	return nil
}

// fail ends the exchange with err.
func (n *node) fail(err error) error {
	err = fmt.Errorf("%s: %w", n.name, err)
	select {
	case n.done <- err:
	default:
	}
	return err
}

func run(w io.Writer) error {
	out := &printer{w: w}
	magic := framing.DefaultMagic
	out.printf("Two Bitcoin nodes over an in-memory connection, network magic %x\n\n", magic[:])

	done := make(chan error, 2)
	alice := &node{
		name: "alice", peer: "bob", userAgent: "/alice:0.1/", height: 0,
		addr:      netip.MustParseAddrPort("192.0.2.1:8333"),
		peerAddr:  netip.MustParseAddrPort("192.0.2.2:8333"),
		pingNonce: 0x0123456789abcdef,
		out:       out, done: done,
	}
	bob := &node{
		name: "bob", peer: "alice", userAgent: "/bob:0.1/", height: 840000,
		addr: alice.peerAddr, peerAddr: alice.addr,
		out: out, done: done,
	}
	a, b := net.Pipe()
	framer := framing.Bitcoin{Magic: magic}
	// One message at a time on each side: each handler answers before
	// the next message is handled.
	alice.sess = session.NewMessageSession(a, framer, alice, &session.Options{Name: "alice", Concurrency: 1})
	bob.sess = session.NewMessageSession(b, framer, bob, &session.Options{Name: "bob", Concurrency: 1})
	defer alice.sess.Abort()
	defer bob.sess.Abort()

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := alice.send(ctx, "version", newVersion(alice.userAgent, alice.height, alice.addr, alice.peerAddr, 1).marshal()); err != nil {
		return err
	}
	select {
	case err := <-done:
		if err != nil {
			return err
		}
	case <-ctx.Done():
		return errors.New("the exchange did not complete in time")
	}

	// alice closes; bob's session sees the connection end.
	if err := alice.sess.Shutdown(ctx); err != nil {
		return err
	}
	select {
	case <-bob.sess.Done():
	case <-ctx.Done():
		return errors.New("bob's session did not end")
	}
	why := "the connection was closed"
	if !errors.Is(bob.sess.Err(), io.EOF) {
		why = bob.sess.Err().Error()
	}
	out.printf("\nalice closed the connection; bob's session ended: %s\n", why)
	for _, n := range []*node{alice, bob} {
		st := n.sess.Stats()
		out.printf("%-5s sent %d messages (%d bytes), received %d (%d bytes), %d errors\n",
			n.name, st.SendCount, st.SendBytes, st.RecvCount, st.RecvBytes, st.Errors)
	}
	return nil
}
