package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/session"
)

// maxLine is the longest line a batch file may have.
const maxLine = 1 << 20

// readBatch reads the requests of a batch file (name "-" is stdin): one
// a line, "method [params-json]"; blank lines and lines starting with #
// are skipped.
func readBatch(name string, stdin io.Reader, d protocol.Dialect) ([]request, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, usagef("-batch: %v", err)
		}
		defer f.Close()
		r = f
	}
	var reqs []request
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		method, params, _ := strings.Cut(line, " ")
		req := request{method: method}
		if params = strings.TrimSpace(params); params != "" {
			p, err := parseParams(params, d)
			if err != nil {
				return nil, usagef("%s:%d: params: %v", name, n, err)
			}
			req.params = p
		}
		reqs = append(reqs, req)
	}
	if err := sc.Err(); err != nil {
		return nil, usagef("-batch %s: %v", name, err)
	}
	if len(reqs) == 0 {
		return nil, usagef("-batch %s: no requests", name)
	}
	return reqs, nil
}

// sendBatch sends the batch (in JSON-RPC 1.0, the requests one by one)
// and prints every outcome, numbered in the order of the file. It
// returns the exit status: the worst of the outcomes.
func sendBatch(ctx context.Context, client *session.Session, cfg *config, stdout, stderr io.Writer) int {
	results := make([]*session.BatchCall, len(cfg.batch))
	if cfg.protocol == protocol.V1 {
		for i, req := range cfg.batch {
			c := &session.BatchCall{Method: req.method}
			c.Err = client.Call(ctx, req.method, paramsOf(req), &c.Result)
			results[i] = c
		}
	} else {
		var b session.Batch
		for i, req := range cfg.batch {
			results[i] = b.Call(req.method, paramsOf(req), nil)
		}
		err := client.SendBatch(ctx, &b)
		var be *session.BatchError
		if err != nil && !errors.As(err, &be) {
			// The batch as a whole failed: every call holds that error.
			return report(stderr, "", err, cfg.timeout)
		}
	}
	status := exitOK
	for i, c := range results {
		prefix := fmt.Sprintf("#%d %s: ", i+1, c.Method)
		if c.Err != nil {
			status = max(status, report(stderr, prefix, c.Err, cfg.timeout))
			continue
		}
		printResult(stdout, prefix, c.Result)
	}
	return status
}

// paramsOf returns a request's params for Call: nil when there are none.
func paramsOf(req request) any {
	if req.params == nil {
		return nil
	}
	return req.params
}
