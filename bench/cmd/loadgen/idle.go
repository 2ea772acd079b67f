package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// idle opens cfg.idle connections, makes one call of the echo method
// cfg.method on each, prints the result line, and holds the connections
// until a signal or cfg.hold.
func idle(cfg *config) (*result, error) {
	ncs, err := dialAll(cfg, cfg.idle)
	if err != nil {
		return nil, err
	}
	defer closeAll(ncs)
	vs := values(cfg, len(ncs))
	res := &result{Server: cfg.server, Setting: cfg.setting, Conns: len(ncs), Payload: cfg.payload, Idle: len(ncs)}

	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	work := make(chan int)
	for range min(len(ncs), 64) {
		wg.Go(func() {
			buf := make([]byte, 4096)
			for i := range work {
				if err := callOnce(ncs[i], cfg.method, vs[i], buf, cfg.dialTimeout); err != nil {
					mu.Lock()
					res.Errors++
					if res.FirstError == "" {
						res.FirstError = fmt.Sprintf("connection %d: %v", i, err)
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range ncs {
		work <- i
	}
	close(work)
	wg.Wait()
	if err := printResult(res); err != nil {
		return nil, err
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-sig:
	case <-time.After(cfg.hold):
	}
	return res, nil
}

// callOnce sends method(value) with ID 0 on nc and checks the answer,
// within timeout; buf is scratch space for the answer.
func callOnce(nc net.Conn, method string, value, buf []byte, timeout time.Duration) error {
	t := newTemplate(method, value, 0)
	if err := nc.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	if _, err := nc.Write(t.appendMessage(buf[:0], 0)); err != nil {
		return err
	}
	n := 0
	for {
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			id, err := checkResponse(buf[:i], 0, value)
			switch {
			case err != nil:
				return err
			case id != 0:
				return fmt.Errorf("answer with ID %d to a request of ID 0", id)
			case i+1 != n:
				return fmt.Errorf("unexpected bytes after the answer: %.80q", buf[i+1:n])
			}
			return nc.SetDeadline(time.Time{})
		}
		if n == len(buf) {
			return fmt.Errorf("answer longer than %d bytes", len(buf))
		}
		m, err := nc.Read(buf[n:])
		n += m
		if err != nil {
			return err
		}
	}
}
