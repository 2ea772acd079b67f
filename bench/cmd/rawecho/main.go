// Rawecho is the ceiling of the gorpcx benchmarks: a newline-delimited
// JSON-RPC echo server that does as little as a server can. It answers
// each request line by byte scanning, without parsing JSON: it finds the
// "id" member and the first element of "params" and writes
//
//	{"jsonrpc":"2.0","result":<params[0]>,"id":<id>}
//
// with no check of the method or of anything else. A line that starts
// with '[' is a batch, answered as a batch. Answers go into a buffered
// writer that is flushed once no complete request is left in what was
// read, so answers to pipelined requests share a write.
//
// It relies on what the load generator sends: keys without escapes, and
// no "id" or "params" inside a string before the real member. It is a
// yardstick, not a server to use.
//
// With -tls it is the raw TLS echo, the ceiling of the TLS settings: the
// same echo over crypto/tls (tls.NewListener), with the configuration of
// every benchmark server's -tls (a self-signed ECDSA P-256 certificate
// from transport.SelfSigned, TLS 1.3, Go's defaults otherwise). The
// handshake happens on the connection's first read.
//
// Usage:
//
//	rawecho [-addr 127.0.0.1:0] [-tls]
//
// The first line on standard output is "listening on HOST:PORT". It
// serves until SIGINT or SIGTERM.
package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"flag"
	"log"
	"net"

	"github.com/gorpcx/gorpcx/bench/internal/jsonscan"
	"github.com/gorpcx/gorpcx/bench/internal/startup"
)

// maxLine is the longest request line (as gorpcx's default limit); a
// longer one closes the connection.
const maxLine = 1_000_000

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen `address`")
	useTLS := flag.Bool("tls", false, "serve TLS 1.3 with a self-signed ECDSA P-256 certificate made at start")
	flag.Parse()
	var cfg *tls.Config
	if *useTLS {
		cfg = startup.TLSConfig()
	}
	ln := startup.Listen(*addr)
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	startup.ExitOnSignal()
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go serve(c)
	}
}

// serve answers the requests of one connection until it ends.
func serve(c net.Conn) {
	defer c.Close()
	w := bufio.NewWriterSize(c, 64<<10)
	buf := make([]byte, 16<<10)
	start, end := 0, 0
	for {
		n, err := c.Read(buf[end:])
		end += n
		for {
			i := bytes.IndexByte(buf[start:end], '\n')
			if i < 0 {
				break
			}
			answer(w, buf[start:start+i])
			start += i + 1
		}
		if w.Buffered() > 0 && w.Flush() != nil {
			return
		}
		switch {
		case start == end:
			start, end = 0, 0
		case start > 0:
			end = copy(buf, buf[start:end])
			start = 0
		case end == len(buf):
			if len(buf) >= maxLine {
				return
			}
			buf = append(buf, make([]byte, len(buf))...)
		}
		if err != nil {
			return
		}
	}
}

var (
	keyID     = []byte(`"id"`)
	keyParams = []byte(`"params"`)
)

// answer writes the answer to one request line (nothing for a
// notification or a line it cannot make sense of).
func answer(w *bufio.Writer, line []byte) {
	i := jsonscan.SkipSpace(line, 0)
	if i == len(line) || line[i] != '[' {
		if id, value, ok := scan(line); ok {
			reply(w, id, value)
			_ = w.WriteByte('\n')
		}
		return
	}
	first := true
	jsonscan.Elements(line, i, func(req []byte) bool {
		if id, value, ok := scan(req); ok {
			if first {
				_ = w.WriteByte('[')
				first = false
			} else {
				_ = w.WriteByte(',')
			}
			reply(w, id, value)
		}
		return true
	})
	if !first {
		_, _ = w.WriteString("]\n")
	}
}

// reply writes one response object; a batch item has no newline after it
// (the caller writes the batch's).
func reply(w *bufio.Writer, id, value []byte) {
	_, _ = w.WriteString(`{"jsonrpc":"2.0","result":`)
	_, _ = w.Write(value)
	_, _ = w.WriteString(`,"id":`)
	_, _ = w.Write(id)
	_ = w.WriteByte('}')
}

// scan finds the raw ID and the raw first param of a request, by
// searching for the keys; ok is false if either is missing.
func scan(req []byte) (id, value []byte, ok bool) {
	id = member(req, keyID)
	p := member(req, keyParams)
	if id == nil || len(p) < 2 || p[0] != '[' {
		return nil, nil, false
	}
	j := jsonscan.SkipSpace(p, 1)
	end := jsonscan.Value(p, j)
	if end < 0 {
		return nil, nil, false
	}
	return id, p[j:end], true
}

// member returns the raw value after the first occurrence of key and a
// colon in b, or nil.
func member(b, key []byte) []byte {
	k := bytes.Index(b, key)
	if k < 0 {
		return nil
	}
	i := jsonscan.SkipSpace(b, k+len(key))
	if i == len(b) || b[i] != ':' {
		return nil
	}
	i = jsonscan.SkipSpace(b, i+1)
	end := jsonscan.Value(b, i)
	if end < 0 {
		return nil
	}
	return b[i:end]
}
