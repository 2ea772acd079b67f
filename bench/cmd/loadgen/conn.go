package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorpcx/gorpcx/bench/internal/jsonscan"
)

// Phases of a run, in order.
const (
	warming   = iota // requests flow, nothing is counted
	measuring        // answers are counted and timed
	stopping         // no more requests; errors are no longer counted
)

// maxLine bounds a response line, as the servers bound requests.
const maxLine = 1 << 20

// slot records one message in flight: its sequence number and when it
// was sent (0: the slot is free). The writer fills a slot, the reader
// frees it.
type slot struct {
	seq atomic.Uint64
	at  atomic.Int64
}

// conn is one connection of the load: a writer goroutine keeps depth
// messages in flight, a reader goroutine checks and times the answers.
type conn struct {
	nc    net.Conn
	run   *run
	tmpl  template
	want  []byte // the echo value, as the result must be
	depth uint64

	slots []slot // a power of two, at least 4·depth
	mask  uint64
	done  atomic.Uint64 // messages answered
	wake  chan struct{} // the reader freed slots

	// Written by the reader only; read after it has returned.
	hist     histogram
	answered uint64 // messages answered while measuring
	errors   uint64
	firstErr error

	writeErr error // written by the writer only
}

// newConn prepares the load of one connection.
func newConn(nc net.Conn, r *run, value []byte) *conn {
	w := uint64(64)
	for w < 4*uint64(r.depth) {
		w *= 2
	}
	return &conn{
		nc:    nc,
		run:   r,
		tmpl:  newTemplate(r.method, value, r.batch),
		want:  value,
		depth: uint64(r.depth),
		slots: make([]slot, w),
		mask:  w - 1,
		wake:  make(chan struct{}, 1),
	}
}

// fail counts an error seen while the run is not stopping.
func (c *conn) fail(err error) {
	if c.run.phase.Load() == stopping {
		return
	}
	c.errors++
	if c.firstErr == nil {
		c.firstErr = err
	}
}

// writeLoop sends messages while fewer than depth are in flight,
// all that may be sent at once in a single write, until the run stops.
// It returns the write error, if any, before the run stopped.
func (c *conn) writeLoop() error {
	var seq uint64
	out := make([]byte, 0, 64<<10)
	for c.run.phase.Load() != stopping {
		room := int64(c.depth) - int64(seq-c.done.Load())
		if room > 0 && c.slots[seq&c.mask].at.Load() == 0 {
			now := c.run.now()
			out = out[:0]
			for ; room > 0; room-- {
				s := &c.slots[seq&c.mask]
				if s.at.Load() != 0 {
					break // an older message is still unanswered (out of order)
				}
				s.seq.Store(seq)
				s.at.Store(now)
				out = c.tmpl.appendMessage(out, seq)
				seq++
			}
			if _, err := c.nc.Write(out); err != nil {
				if c.run.phase.Load() == stopping {
					return nil
				}
				return err
			}
			continue
		}
		select {
		case <-c.wake:
		case <-c.run.stop:
		}
	}
	return nil
}

// readLoop reads, checks and times answers until the connection fails
// or is closed.
func (c *conn) readLoop() {
	buf := make([]byte, 64<<10)
	start, end := 0, 0
	seen := make([]bool, c.tmpl.items) // batch items seen, reused
	for {
		n, err := c.nc.Read(buf[end:])
		now := c.run.now()
		end += n
		measuring := c.run.phase.Load() == measuring
		var answered uint64
		for {
			i := bytes.IndexByte(buf[start:end], '\n')
			if i < 0 {
				break
			}
			if c.check(buf[start:start+i], now, measuring, seen) {
				answered++
			}
			start += i + 1
		}
		if answered > 0 {
			c.done.Add(answered)
			select {
			case c.wake <- struct{}{}:
			default:
			}
		}
		switch {
		case start == end:
			start, end = 0, 0
		case start > 0:
			end = copy(buf, buf[start:end])
			start = 0
		case end == len(buf):
			if len(buf) >= maxLine {
				c.fail(fmt.Errorf("response line over %d bytes", maxLine))
				return
			}
			buf = append(buf, make([]byte, len(buf))...)
		}
		if err != nil {
			c.fail(err)
			return
		}
	}
}

// check checks one answer line and, if it answers a message in flight,
// frees its slot and returns true. Errors are counted.
func (c *conn) check(line []byte, now int64, measuring bool, seen []bool) bool {
	seq, err := c.parse(line, seen)
	if err != nil {
		c.fail(err)
		if seq < 0 {
			return false
		}
	}
	s := &c.slots[uint64(seq)&c.mask]
	at := s.at.Load()
	if at == 0 || s.seq.Load() != uint64(seq) {
		c.fail(fmt.Errorf("answer to message %d, which is not in flight", seq))
		return false
	}
	if measuring {
		c.hist.add(now - at)
		c.answered++
	}
	s.at.Store(0)
	return true
}

// errMismatch is the error of a result that is not the value sent.
var errMismatch = errors.New("result differs from the value sent")

// parse checks an answer line and returns the sequence number of the
// message it answers, with an error if anything in it is wrong (a
// sequence number of -1 if it cannot be told).
func (c *conn) parse(line []byte, seen []bool) (int64, error) {
	i := jsonscan.SkipSpace(line, 0)
	if c.tmpl.items == 0 {
		return checkResponse(line, i, c.want)
	}
	if i >= len(line) || line[i] != '[' {
		return -1, fmt.Errorf("not a batch: %.80s", line)
	}
	clear(seen)
	var (
		seq      int64 = -1
		count    int
		firstErr error
	)
	items := int64(c.tmpl.items)
	end := jsonscan.Elements(line, i, func(elem []byte) bool {
		id, err := checkResponse(elem, 0, c.want)
		if id < 0 {
			firstErr = err
			return false
		}
		if seq < 0 {
			seq = id / items
		}
		if id/items != seq || seen[id%items] {
			firstErr = fmt.Errorf("batch answer has a wrong or repeated ID %d", id)
			return false
		}
		seen[id%items] = true
		count++
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return true
	})
	switch {
	case end < 0 && firstErr == nil:
		firstErr = fmt.Errorf("malformed batch answer: %.80s", line)
	case count != c.tmpl.items && firstErr == nil:
		firstErr = fmt.Errorf("batch answer of %d items, not %d", count, c.tmpl.items)
	}
	return seq, firstErr
}

// checkResponse checks the response object at b[i] and returns its ID,
// with an error if its result is not want (an ID of -1 if it has none
// the load generator could have sent).
func checkResponse(b []byte, i int, want []byte) (int64, error) {
	i = jsonscan.SkipSpace(b, i)
	var id, result, rpcErr []byte
	end := jsonscan.Object(b, i, func(m jsonscan.Member) bool {
		switch string(m.Key) {
		case `"id"`:
			id = m.Value
		case `"result"`:
			result = m.Value
		case `"error"`:
			rpcErr = m.Value
		}
		return true
	})
	if end < 0 {
		return -1, fmt.Errorf("malformed answer: %.80s", b[i:])
	}
	n := parseID(id)
	if n < 0 {
		return -1, fmt.Errorf("answer with an ID the load generator did not send: %.80s", b[i:])
	}
	switch {
	case rpcErr != nil:
		return n, fmt.Errorf("error answer: %.200s", rpcErr)
	case !bytes.Equal(result, want):
		return n, errMismatch
	}
	return n, nil
}

// parseID returns the value of a JSON integer of up to 18 digits with
// no sign, or -1 for anything else.
func parseID(b []byte) int64 {
	if len(b) == 0 || len(b) > 18 || (b[0] == '0' && len(b) > 1) {
		return -1
	}
	var n int64
	for _, d := range b {
		if d < '0' || d > '9' {
			return -1
		}
		n = n*10 + int64(d-'0')
	}
	return n
}

// serve starts the connection's writer and reader; they end when the
// run stops and the connection is closed, or when it fails.
func (c *conn) serve(wg *sync.WaitGroup) {
	wg.Add(2)
	go func() {
		defer wg.Done()
		c.readLoop()
	}()
	go func() {
		defer wg.Done()
		c.writeErr = c.writeLoop()
	}()
}

// now returns the nanoseconds since the run began, on the monotonic
// clock.
func (r *run) now() int64 { return int64(time.Since(r.began)) }
