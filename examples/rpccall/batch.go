package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/session"
)

// maxLine is the longest line a batch file of lines may have.
const maxLine = 1 << 20

// maxBatchFile is the largest batch file read.
const maxBatchFile = 16 << 20

// readBatch reads the requests of a batch file (name "-" is stdin). A
// file whose first character other than white space is [ is a JSON
// array of request objects; any other is one request a line, "method
// [params-json]", blank lines and lines starting with # skipped.
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
	data, err := io.ReadAll(io.LimitReader(r, maxBatchFile+1))
	switch {
	case err != nil:
		return nil, usagef("-batch %s: %v", name, err)
	case len(data) > maxBatchFile:
		return nil, usagef("-batch %s: longer than %d bytes", name, maxBatchFile)
	}
	var reqs []request
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '[' {
		reqs, err = readJSONBatch(name, trimmed, d)
	} else {
		reqs, err = readLineBatch(name, data, d)
	}
	if err != nil {
		return nil, err
	}
	if len(reqs) == 0 {
		return nil, usagef("-batch %s: no requests", name)
	}
	return reqs, nil
}

// readLineBatch reads a batch file of one request a line.
func readLineBatch(name string, data []byte, d protocol.Dialect) ([]request, error) {
	var reqs []request
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if line[0] == '[' || line[0] == '{' {
			return nil, usagef("%s:%d: a line starts with a method name, not JSON (a batch file of JSON is one array of request objects)", name, n)
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
	return reqs, nil
}

// jsonRequest is an element of a batch file of JSON. ID is only looked
// at for its presence.
type jsonRequest struct {
	Method *string          `json:"method"`
	Params json.RawMessage  `json:"params"`
	ID     *json.RawMessage `json:"id"`
}

// readJSONBatch reads a batch file that is a JSON array of request
// objects.
func readJSONBatch(name string, data []byte, d protocol.Dialect) ([]request, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(data, &elems); err != nil {
		return nil, usagef("-batch %s: not a JSON array: %v", name, err)
	}
	reqs := make([]request, 0, len(elems))
	for i, e := range elems {
		var jr jsonRequest
		if err := json.Unmarshal(e, &jr); err != nil || jr.Method == nil {
			return nil, usagef("-batch %s: element %d is not a request object with a \"method\" string", name, i+1)
		}
		req := request{method: *jr.Method, notify: jr.ID == nil}
		if p := bytes.TrimSpace(jr.Params); len(p) > 0 && !bytes.Equal(p, []byte("null")) {
			if err := checkParams(p, d); err != nil {
				return nil, usagef("-batch %s: element %d: params: %v", name, i+1, err)
			}
			req.params = p
		}
		reqs = append(reqs, req)
	}
	return reqs, nil
}

// sendBatch sends the batch (in JSON-RPC 1.0, the requests one by one)
// and prints every call's outcome, numbered by its place in the file.
// It returns the exit status: the worst of the outcomes.
func sendBatch(ctx context.Context, client *session.Session, cfg *config, stdout, stderr io.Writer) int {
	results := make([]*session.BatchCall, len(cfg.batch))
	if cfg.protocol == protocol.V1 {
		for i, req := range cfg.batch {
			if req.notify {
				if err := client.Notify(ctx, req.method, paramsOf(req.params)); err != nil {
					return report(stderr, fmt.Sprintf("#%d %s: ", i+1, req.method), err, cfg.timeout)
				}
				continue
			}
			c := &session.BatchCall{Method: req.method}
			c.Err = client.Call(ctx, req.method, paramsOf(req.params), &c.Result)
			results[i] = c
		}
	} else {
		var b session.Batch
		for i, req := range cfg.batch {
			if req.notify {
				b.Notify(req.method, paramsOf(req.params))
				continue
			}
			results[i] = b.Call(req.method, paramsOf(req.params), nil)
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
		if c == nil { // a notification
			continue
		}
		prefix := fmt.Sprintf("#%d %s: ", i+1, c.Method)
		if c.Err != nil {
			status = max(status, report(stderr, prefix, c.Err, cfg.timeout))
			continue
		}
		printResult(stdout, prefix, c.Result)
	}
	return status
}
