package session

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/protocol"
)

// The tracker is driven by hand here, with no session, no goroutine and
// no connection: each case is a list of steps (register, answer,
// give up, close...) and the events they cause, in order. After every
// step the harness reports the outcomes that appeared, request by
// request in the order they were registered, so the events show both
// what each step did and which outcomes it set.

// trkHarness runs one case.
type trkHarness struct {
	t       *testing.T
	tr      tracker
	reqs    map[string]*trkReq    // single calls and batch requests ("b.1")
	batches map[string]*batchCall // batches by name
	names   []string              // calls and batches in registration order
	done    map[string]bool       // batches whose end was reported
	events  []string
}

// trkReq is a request registered by a case.
type trkReq struct {
	id       uint64
	c        *call      // a single call, or
	bc       *batchCall // the batch of request index
	index    int
	reported bool
}

type trkStep func(h *trkHarness)

func (h *trkHarness) event(format string, args ...any) {
	h.events = append(h.events, fmt.Sprintf(format, args...))
}

// report records the outcomes set since the last step.
func (h *trkHarness) report() {
	for _, name := range h.names {
		if bc, ok := h.batches[name]; ok {
			for i := range bc.calls {
				r := h.reqs[name+"."+strconv.Itoa(i)]
				if !r.reported && bc.answered[i] {
					r.reported = true
					h.event("%s.%d %s", name, i, outcome(bc.calls[i].Result, bc.calls[i].Err))
				}
			}
			select {
			case <-bc.done:
				if !h.done[name] {
					h.done[name] = true
					h.event("%s done", name)
				}
			default:
			}
			continue
		}
		r := h.reqs[name]
		if !r.reported && len(r.c.done) > 0 {
			r.reported = true
			h.event("%s %s", name, outcome(r.c.result, r.c.err))
		}
	}
}

func outcome(result json.RawMessage, err error) string {
	if err != nil {
		return "! " + err.Error()
	}
	return "= " + string(result)
}

// register registers a single call.
func register(name string) trkStep {
	return func(h *trkHarness) {
		c := &call{done: make(chan struct{}, 1)}
		id, err := h.tr.register(c)
		if err != nil {
			h.event("%s refused: %v", name, err)
			return
		}
		h.reqs[name] = &trkReq{id: id, c: c}
		h.names = append(h.names, name)
		h.event("%s id %d", name, id)
	}
}

// registerBatch registers a batch of n requests, named name.0 to
// name.n-1.
func registerBatch(name string, n int) trkStep {
	return func(h *trkHarness) {
		calls := make([]*BatchCall, n)
		for i := range calls {
			calls[i] = &BatchCall{Method: name + "." + strconv.Itoa(i)}
		}
		bc := newBatchCall(nil, calls)
		if err := h.tr.registerBatch(bc); err != nil {
			h.event("%s refused: %v", name, err)
			return
		}
		h.batches[name] = bc
		h.names = append(h.names, name)
		for i, id := range bc.ids {
			h.reqs[name+"."+strconv.Itoa(i)] = &trkReq{id: id, bc: bc, index: i}
		}
		if n == 0 {
			h.event("%s no ids", name)
			return
		}
		h.event("%s ids %d-%d", name, bc.ids[0], bc.ids[n-1])
	}
}

// trkResp is one response of a message from the peer.
type trkResp struct {
	to        string // the request answered, or
	rawID     string // the ID as on the wire
	result    string
	err       *jsonrpc2.Error
	malformed bool
}

func ok(to, result string) trkResp { return trkResp{to: to, result: result} }
func errResp(to string, code int64, msg string) trkResp {
	return trkResp{to: to, err: &jsonrpc2.Error{Code: code, Message: msg}}
}
func malformed(to string) trkResp       { return trkResp{to: to, malformed: true} }
func okID(rawID, result string) trkResp { return trkResp{rawID: rawID, result: result} }
func (r trkResp) label() string {
	if r.to != "" {
		return r.to
	}
	return "id " + r.rawID
}
func (h *trkHarness) rawID(r trkResp) []byte {
	if r.to == "" {
		return []byte(r.rawID)
	}
	return []byte(h.id(r.to))
}

func (h *trkHarness) id(name string) string {
	r, ok := h.reqs[name]
	if !ok {
		h.t.Fatalf("no request %q", name)
	}
	return strconv.FormatUint(r.id, 10)
}

// deliver hands one response to the tracker as the reader does.
func (h *trkHarness) deliver(r trkResp) *batchCall {
	rawID := h.rawID(r)
	var m match
	var bc *batchCall
	if r.malformed {
		perr := &protocol.ProtocolError{Err: protocol.InvalidRequest("response with both result and error"),
			RawID: rawID, Response: true}
		m, bc = h.tr.deliver(rawID, nil, perr)
	} else {
		it := &protocol.Item{Kind: protocol.KindResponse, RawID: rawID, RawResult: json.RawMessage(r.result)}
		it.Response.Error = r.err
		m, bc = h.tr.deliver(rawID, it, nil)
	}
	h.event("answer %s: %s", r.label(), [...]string{respMatched: "matched", respLate: "late", respUnsent: "unsent"}[m])
	return bc
}

// single is a message holding one response.
func single(r trkResp) trkStep {
	return func(h *trkHarness) { h.deliver(r) }
}

// batchResponse is a batch response: its responses are delivered in
// order, then every batch they answered is checked for requests left
// unanswered, as the reader does.
func batchResponse(rs ...trkResp) trkStep {
	return func(h *trkHarness) {
		var touched []*batchCall
		for _, r := range rs {
			if bc := h.deliver(r); bc != nil {
				touched = appendUnique(touched, bc)
			}
		}
		for _, bc := range touched {
			n := h.tr.incomplete(bc)
			h.event("incomplete %s: %d failed", h.batchName(bc), n)
		}
	}
}

func (h *trkHarness) batchName(bc *batchCall) string {
	for name, x := range h.batches {
		if x == bc {
			return name
		}
	}
	return "?"
}

// forget is a single call giving up.
func forget(name string) trkStep {
	return func(h *trkHarness) {
		r := h.reqs[name]
		if h.tr.forget(r.id, r.c) {
			h.event("forget %s: was waiting", name)
			return
		}
		if len(r.c.done) != 0 || r.c.result != nil || r.c.err != nil {
			h.event("forget %s: answered already, NOT drained", name)
			return
		}
		h.event("forget %s: answered already, drained", name)
	}
}

// abandon is a batch giving up with err.
func abandon(name string, err error) trkStep {
	return func(h *trkHarness) {
		h.tr.abandonBatch(h.batches[name], err)
		h.event("abandon %s", name)
	}
}

// closeWith is the connection ending.
func closeWith(err error) trkStep {
	return func(h *trkHarness) {
		h.event("close: %d failed", h.tr.close(err))
	}
}

// pending records how many requests wait.
func pending() trkStep {
	return func(h *trkHarness) { h.event("pending %d", h.tr.len()) }
}

var (
	errLost    = &ConnectionError{Err: io.EOF}
	errTimeout = &TimeoutError{Method: "batch", After: 1}
)

func TestTracker(t *testing.T) {
	const incomplete = "! protocol: batch response has no response to this request (code -32600, id "
	tests := []struct {
		name  string
		steps []trkStep
		want  []string
	}{{
		name:  "zero value",
		steps: []trkStep{pending(), single(okID("0", "1")), pending()},
		want:  []string{"pending 0", "answer id 0: unsent", "pending 0"},
	}, {
		name:  "call answered",
		steps: []trkStep{register("a"), pending(), single(ok("a", "1")), pending()},
		want:  []string{"a id 0", "pending 1", "answer a: matched", "a = 1", "pending 0"},
	}, {
		name:  "error response",
		steps: []trkStep{register("a"), single(errResp("a", -1, "no such block")), pending()},
		want: []string{"a id 0", "answer a: matched",
			"a ! jsonrpc2: code -1 message: no such block", "pending 0"},
	}, {
		name:  "malformed response fails its call",
		steps: []trkStep{register("a"), single(malformed("a")), pending()},
		want: []string{"a id 0", "answer a: matched",
			"a ! protocol: response with both result and error (code -32600, id 0)", "pending 0"},
	}, {
		name: "responses to requests never sent",
		steps: []trkStep{register("a"), single(okID("1", "1")), single(okID("99", "1")),
			single(okID(`"0"`, "1")), single(okID("null", "1")), single(okID("-1", "1")),
			single(okID("0.5", "1")), single(okID("18446744073709551616", "1")), pending()},
		want: []string{"a id 0", "answer id 1: unsent", "answer id 99: unsent",
			`answer id "0": unsent`, "answer id null: unsent", "answer id -1: unsent",
			"answer id 0.5: unsent", "answer id 18446744073709551616: unsent", "pending 1"},
	}, {
		name:  "late response to a call that gave up",
		steps: []trkStep{register("a"), forget("a"), pending(), single(ok("a", "1")), pending()},
		want: []string{"a id 0", "forget a: was waiting", "pending 0",
			"answer a: late", "pending 0"},
	}, {
		name:  "answer just before the call gives up is drained",
		steps: []trkStep{register("a"), single(ok("a", "1")), forget("a"), pending()},
		want: []string{"a id 0", "answer a: matched", "a = 1",
			"forget a: answered already, drained", "pending 0"},
	}, {
		name:  "second response to a call is late",
		steps: []trkStep{register("a"), single(ok("a", "1")), single(ok("a", "2"))},
		want:  []string{"a id 0", "answer a: matched", "a = 1", "answer a: late"},
	}, {
		name: "IDs are never reused",
		steps: []trkStep{register("a"), forget("a"), register("b"), single(ok("a", "1")),
			registerBatch("c", 2), abandon("c", errTimeout), register("d"),
			single(ok("c.0", "1")), pending()},
		want: []string{"a id 0", "forget a: was waiting", "b id 1", "answer a: late",
			"c ids 2-3", "abandon c", "c.0 ! " + errTimeout.Error(), "c.1 ! " + errTimeout.Error(),
			"c done", "d id 4", "answer c.0: late", "pending 2"},
	}, {
		name: "batch answered by one batch response in any order",
		steps: []trkStep{registerBatch("b", 3), pending(),
			batchResponse(ok("b.2", `"z"`), ok("b.0", `"x"`), ok("b.1", `"y"`)), pending()},
		want: []string{"b ids 0-2", "pending 3",
			"answer b.2: matched", "answer b.0: matched", "answer b.1: matched", "incomplete b: 0 failed",
			`b.0 = "x"`, `b.1 = "y"`, `b.2 = "z"`, "b done", "pending 0"},
	}, {
		name: "batch response leaving requests unanswered fails them",
		steps: []trkStep{registerBatch("b", 3),
			batchResponse(ok("b.0", "1"), errResp("b.2", 5, "no")), pending(),
			single(ok("b.1", "2"))},
		want: []string{"b ids 0-2",
			"answer b.0: matched", "answer b.2: matched", "incomplete b: 1 failed",
			"b.0 = 1", "b.1 " + incomplete + "1)", "b.2 ! jsonrpc2: code 5 message: no", "b done",
			"pending 0", "answer b.1: late"},
	}, {
		name: "batch answered by single responses",
		steps: []trkStep{registerBatch("b", 2), single(ok("b.1", "2")), pending(),
			single(ok("b.0", "1")), pending()},
		want: []string{"b ids 0-1", "answer b.1: matched", "b.1 = 2", "pending 1",
			"answer b.0: matched", "b.0 = 1", "b done", "pending 0"},
	}, {
		name: "batch answered partly singly, the rest by a batch response",
		steps: []trkStep{registerBatch("b", 3), single(ok("b.0", "1")),
			batchResponse(ok("b.2", "3"), ok("b.1", "2"))},
		want: []string{"b ids 0-2", "answer b.0: matched", "b.0 = 1",
			"answer b.2: matched", "answer b.1: matched", "incomplete b: 0 failed",
			"b.1 = 2", "b.2 = 3", "b done"},
	}, {
		name: "oversized batch response: every request answered with an error",
		steps: []trkStep{registerBatch("b", 2),
			batchResponse(errResp("b.1", -32600, "response too large (over 100 bytes)"),
				errResp("b.0", -32600, "response too large (over 100 bytes)"))},
		want: []string{"b ids 0-1", "answer b.1: matched", "answer b.0: matched", "incomplete b: 0 failed",
			"b.0 ! jsonrpc2: code -32600 message: response too large (over 100 bytes)",
			"b.1 ! jsonrpc2: code -32600 message: response too large (over 100 bytes)", "b done"},
	}, {
		name: "malformed response in a batch response",
		steps: []trkStep{registerBatch("b", 2),
			batchResponse(malformed("b.0"), ok("b.1", "2"))},
		want: []string{"b ids 0-1", "answer b.0: matched", "answer b.1: matched", "incomplete b: 0 failed",
			"b.0 ! protocol: response with both result and error (code -32600, id 0)", "b.1 = 2", "b done"},
	}, {
		name: "one batch response answers two batches, a call and nothing sent",
		steps: []trkStep{register("a"), registerBatch("b", 2), registerBatch("c", 1),
			batchResponse(ok("c.0", "3"), ok("a", "1"), okID("9", "0"), ok("b.1", "2")), pending()},
		want: []string{"a id 0", "b ids 1-2", "c ids 3-3",
			"answer c.0: matched", "answer a: matched", "answer id 9: unsent", "answer b.1: matched",
			"incomplete c: 0 failed", "incomplete b: 1 failed",
			"a = 1", "b.0 " + incomplete + "1)", "b.1 = 2", "b done", "c.0 = 3", "c done", "pending 0"},
	}, {
		name: "batch gives up after some answers",
		steps: []trkStep{registerBatch("b", 3), single(ok("b.1", "2")), abandon("b", errTimeout),
			pending(), single(ok("b.0", "1"))},
		want: []string{"b ids 0-2", "answer b.1: matched", "b.1 = 2", "abandon b",
			"b.0 ! " + errTimeout.Error(), "b.2 ! " + errTimeout.Error(), "b done",
			"pending 0", "answer b.0: late"},
	}, {
		name: "close fails every request waiting, then refuses registrations",
		steps: []trkStep{register("a"), registerBatch("b", 2), single(ok("b.0", "1")), pending(),
			closeWith(errLost), pending(), register("c"), registerBatch("d", 1),
			registerBatch("e", 0), single(ok("a", "1")), closeWith(ErrClosed), register("f")},
		want: []string{"a id 0", "b ids 1-2", "answer b.0: matched", "b.0 = 1", "pending 2",
			"close: 2 failed", "a ! connection lost: EOF", "b.1 ! connection lost: EOF", "b done",
			"pending 0", "c refused: connection lost: EOF", "d refused: connection lost: EOF",
			"e refused: connection lost: EOF", "answer a: late", "close: 0 failed",
			"f refused: connection lost: EOF"},
	}, {
		name:  "an answer before the close keeps its outcome",
		steps: []trkStep{register("a"), single(ok("a", "1")), closeWith(errLost), forget("a")},
		want: []string{"a id 0", "answer a: matched", "a = 1", "close: 0 failed",
			"forget a: answered already, drained"},
	}, {
		name:  "close then the call gives up",
		steps: []trkStep{register("a"), closeWith(errLost), forget("a"), single(ok("a", "1"))},
		want: []string{"a id 0", "close: 1 failed", "a ! connection lost: EOF",
			"forget a: answered already, drained", "answer a: late"},
	}, {
		name:  "batch of notifications only takes no ID",
		steps: []trkStep{registerBatch("n", 0), pending(), register("a")},
		want:  []string{"n no ids", "n done", "pending 0", "a id 0"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &trkHarness{t: t, reqs: map[string]*trkReq{}, batches: map[string]*batchCall{},
				done: map[string]bool{}}
			for _, step := range tt.steps {
				step(h)
				h.report()
			}
			if diff := cmp.Diff(tt.want, h.events); diff != "" {
				t.Errorf("events (-want +got):\n%s\ngot:\n%s", diff, strings.Join(h.events, "\n"))
			}
		})
	}
}

// Whatever the calls, batches, answers and give-ups, no two requests
// ever get the same ID, IDs only grow, and the table holds exactly the
// requests that still wait.
func TestTrackerIDsNeverReused(t *testing.T) {
	var tr tracker
	seen := map[uint64]bool{}
	waiting := map[uint64]*call{}
	next := uint64(0)
	take := func(id uint64) {
		if seen[id] || id != next {
			t.Fatalf("id %d: seen before %v, want %d", id, seen[id], next)
		}
		seen[id] = true
		next++
	}
	for i := range 300 {
		switch i % 5 {
		case 0, 1:
			c := &call{done: make(chan struct{}, 1)}
			id, err := tr.register(c)
			if err != nil {
				t.Fatal(err)
			}
			take(id)
			waiting[id] = c
		case 2:
			bc := newBatchCall(nil, []*BatchCall{{}, {}, {}})
			if err := tr.registerBatch(bc); err != nil {
				t.Fatal(err)
			}
			for _, id := range bc.ids {
				take(id)
			}
			tr.abandonBatch(bc, errTimeout)
		case 3: // some waiting call gives up
			for id, c := range waiting {
				tr.forget(id, c)
				delete(waiting, id)
				break
			}
		case 4: // an answer to some call, or to one that gave up
			id := uint64(i * 7 % (i + 1))
			m, _ := tr.deliver([]byte(strconv.FormatUint(id, 10)), &protocol.Item{RawResult: json.RawMessage("1")}, nil)
			if c, ok := waiting[id]; ok != (m == respMatched) {
				t.Fatalf("answer to %d: %v, waiting %v", id, m, ok)
			} else if ok {
				if len(c.done) != 1 {
					t.Fatalf("answer to %d: no outcome", id)
				}
				delete(waiting, id)
			} else if m != respLate {
				t.Fatalf("answer to %d, sent and not waiting: %v", id, m)
			}
		}
		if got := tr.len(); got != len(waiting) {
			t.Fatalf("step %d: len %d, want %d", i, got, len(waiting))
		}
	}
	if n := tr.close(errLost); n != len(waiting) {
		t.Errorf("close failed %d, want %d", n, len(waiting))
	}
	for id, c := range waiting {
		if len(c.done) != 1 || c.err != errLost {
			t.Errorf("call %d after close: %v", id, c.err)
		}
	}
}
