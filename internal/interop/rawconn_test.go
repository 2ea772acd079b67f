package interop

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"slices"
	"testing"
	"time"
)

// rawConn is a plain TCP connection to a server, speaking JSON-RPC by
// hand so that the exact bytes on the wire can be checked. Every read
// is bounded by procWait.
type rawConn struct {
	t      *testing.T
	conn   net.Conn
	r      *bufio.Reader
	length bool // 4-byte length prefix framing instead of newlines
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, procWait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawConn{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// send writes each message framed.
func (c *rawConn) send(msgs ...string) {
	c.t.Helper()
	var b []byte
	for _, m := range msgs {
		if c.length {
			b = binary.BigEndian.AppendUint32(b, uint32(len(m)))
			b = append(b, m...)
		} else {
			b = append(append(b, m...), '\n')
		}
	}
	c.conn.SetWriteDeadline(time.Now().Add(procWait))
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// recv reads one message; it fails the test on EOF or any error.
func (c *rawConn) recv() string {
	c.t.Helper()
	m, err := c.read()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

func (c *rawConn) read() (string, error) {
	c.conn.SetReadDeadline(time.Now().Add(procWait))
	if c.length {
		var hdr [4]byte
		if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
			return "", err
		}
		msg := make([]byte, binary.BigEndian.Uint32(hdr[:]))
		_, err := io.ReadFull(c.r, msg)
		return string(msg), err
	}
	line, err := c.r.ReadString('\n')
	if err != nil {
		return line, err
	}
	return line[:len(line)-1], nil
}

// expectEOF checks that the server closed the connection and sent
// nothing more.
func (c *rawConn) expectEOF() {
	c.t.Helper()
	m, err := c.read()
	if !errors.Is(err, io.EOF) {
		c.t.Fatalf("read %q, %v; want the connection closed", m, err)
	}
}

// roundTrip sends one message and returns the next one received.
func (c *rawConn) roundTrip(msg string) string {
	c.t.Helper()
	c.send(msg)
	return c.recv()
}

// batchElems splits a batch reply into its elements, sorted, since a
// batch is answered in whatever order its requests finish.
func batchElems(t *testing.T, msg string) []string {
	t.Helper()
	var elems []json.RawMessage
	if err := json.Unmarshal([]byte(msg), &elems); err != nil {
		t.Fatalf("%q is not a batch: %v", msg, err)
	}
	out := make([]string, len(elems))
	for i, e := range elems {
		out[i] = string(e)
	}
	slices.Sort(out)
	return out
}
