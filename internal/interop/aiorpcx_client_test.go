package interop

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gorpcx/gorpcx/protocol"
)

// The aiorpcX client (connect_rs, RPCSession, aiorpcx_client.py) against
// servers of the interop contract: gorpcx inside the test, the
// examples/interop-server program, and, as the reference, aiorpcX's own
// server (aiorpcx_server.py). The same scenario must give the same
// outcomes from all three, except where noted.

// suiteV2 is what the suite scenario reports in JSON-RPC 2.0, and in
// the loose dialect and auto-detection when the client speaks 2.0.
const suiteV2 = `
{"case": "echo_positional", "result": {"a": [1, 2.5, null, "ü"], "b": {}}}
{"case": "echo_named", "result": "named"}
{"case": "add_positional", "result": 5.5}
{"case": "add_named", "result": 42}
{"case": "add_too_few", "error": [-32602, "1 argument passed to method \"add\" but it requires 2"]}
{"case": "add_too_many", "error": [-32602, "3 arguments passed to method add taking at most 2"]}
{"case": "add_wrong_name", "error": [-32602, "method \"add\" requires parameter \"b\""]}
{"case": "sleep_named", "error": [-32602, "method \"sleep\" cannot be called with named arguments"]}
{"case": "unknown_method", "error": [-32601, "unknown method \"no_such_method\""]}
{"case": "fail", "error": [-1234, "custom failure"]}
{"case": "batch", "result": [{"result": "b1"}, {"result": 3}, {"error": [5, "five"]}, {"error": [-32601, "unknown method \"no_such_method\""]}]}
{"case": "notify_back", "result": true}
{"case": "notification_received", "result": {"method": "client.note", "params": ["hello", 1]}}
{"case": "notification_sent", "result": 2}
{"case": "request_back", "result": 42}
{"case": "request_back_named", "result": 15}
{"case": "request_back_error", "error": [-77, "client says no"]}
{"case": "echo_during_sleep", "result": "quick"}
{"case": "concurrency", "result": ["echo", "sleep"]}
{"case": "bye", "result": "bye"}
{"case": "closed_after_bye", "result": true}
{"case": "done", "result": true}
`

// suiteV1 is what changes in JSON-RPC 1.0: aiorpcX's client refuses
// named params and batches itself, before sending.
const suiteV1 = `
{"case": "echo_named", "protocol_error": [-32602, "JSONRPCv1 does not support named arguments"]}
{"case": "add_named", "protocol_error": [-32602, "JSONRPCv1 does not support named arguments"]}
{"case": "add_wrong_name", "protocol_error": [-32602, "JSONRPCv1 does not support named arguments"]}
{"case": "sleep_named", "protocol_error": [-32602, "JSONRPCv1 does not support named arguments"]}
{"case": "batch", "protocol_error": [-32600, "protocol does not permit batches"]}
`

// requestBackNamedV1 is each server's answer to a request_back asking
// it to send named params to a JSON-RPC 1.0 client: -32602 from all,
// in their own words.
var requestBackNamedV1 = map[string]string{
	"gorpcx":         `{"case": "request_back_named", "error": [-32602, "JSON-RPC 1.0 does not allow named params"]}`,
	"interop-server": `{"case": "request_back_named", "error": [-32602, "invalid argument 2 (\"params\") to method \"request_back\": JSON-RPC 1.0 does not allow named params"]}`,
	"aiorpcX":        `{"case": "request_back_named", "error": [-32602, "JSONRPCv1 does not support named arguments"]}`,
}

// outcomes parses report lines (blank lines ignored) and replaces the
// cases of base that overrides report again.
func outcomes(t *testing.T, base string, overrides ...string) []outcome {
	t.Helper()
	lines := func(s string) []string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if strings.TrimSpace(l) != "" {
				out = append(out, l)
			}
		}
		return out
	}
	want := parseOutcomes(t, lines(base))
	for _, o := range overrides {
		for _, r := range parseOutcomes(t, lines(o)) {
			i := slices.IndexFunc(want, func(w outcome) bool { return w.Case == r.Case })
			if i < 0 {
				t.Fatalf("override of unknown case %q", r.Case)
			}
			want[i] = r
		}
	}
	return want
}

// target is a server the Python client is run against.
type target struct {
	name string
	// start starts the server speaking dialect (and newline framing of
	// limit maxMessage, 0 for the default) and returns its port.
	start func(t *testing.T, dialect string, maxMessage int) string
}

var targets = []target{{
	name: "gorpcx",
	start: func(t *testing.T, dialect string, maxMessage int) string {
		d, err := protocol.ParseDialect(dialect)
		if err != nil {
			t.Fatal(err)
		}
		return startGoServer(t, d, maxMessage).port()
	},
}, {
	name: "interop-server",
	start: func(t *testing.T, dialect string, maxMessage int) string {
		flags := []string{"-protocol", dialect}
		if maxMessage > 0 {
			flags = append(flags, "-max-message", strconv.Itoa(maxMessage))
		}
		p, addr := startInteropServer(t, flags...)
		t.Cleanup(func() { stopInteropServer(t, p) })
		return addr[strings.LastIndexByte(addr, ':')+1:]
	},
}, {
	name: "aiorpcX",
	start: func(t *testing.T, dialect string, maxMessage int) string {
		args := []string{"--protocol", dialect}
		if maxMessage > 0 {
			args = append(args, "--max-size", strconv.Itoa(maxMessage))
		}
		s := startPyServer(t, args...)
		return s.addr[strings.LastIndexByte(s.addr, ':')+1:]
	},
}}

func TestAiorpcxClient(t *testing.T) {
	python(t)
	t.Parallel()
	for _, tg := range targets {
		for _, tc := range []struct {
			server, client string
			scenario       string
			want           func(t *testing.T) []outcome
		}{
			{"v2", "v2", "suite", func(t *testing.T) []outcome { return outcomes(t, suiteV2) }},
			{"loose", "loose", "suite", func(t *testing.T) []outcome { return outcomes(t, suiteV2) }},
			{"v1", "v1", "suite", func(t *testing.T) []outcome {
				return outcomes(t, suiteV2, suiteV1, requestBackNamedV1[tg.name])
			}},
			// Auto-detection: aiorpcX's loose client writes 2.0.
			{"auto", "v2", "suite", func(t *testing.T) []outcome { return outcomes(t, suiteV2) }},
			{"auto", "loose", "suite", func(t *testing.T) []outcome { return outcomes(t, suiteV2) }},
			// A request without "jsonrpc" is detected as the loose
			// dialect, by aiorpcX's rules, which answers in the 2.0
			// shape; aiorpcX's strict 1.0 client refuses the answer.
			// aiorpcX's own server does exactly the same.
			{"auto", "v1", "echo", func(t *testing.T) []outcome {
				return outcomes(t, `
{"case": "echo", "protocol_error": [-32600, "response must contain both \"result\" and \"error\""]}
{"case": "done", "result": true}`)
			}},
		} {
			t.Run(tg.name+"/server "+tc.server+"/client "+tc.client, func(t *testing.T) {
				t.Parallel()
				port := tg.start(t, tc.server, 0)
				got := runPyClient(t, port, "--protocol", tc.client, "--scenario", tc.scenario)
				if diff := cmp.Diff(tc.want(t), got); diff != "" {
					t.Errorf("aiorpcX client report (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestAiorpcxClientOversized(t *testing.T) {
	python(t)
	t.Parallel()
	for _, tg := range targets {
		t.Run(tg.name+"/to the server", func(t *testing.T) {
			t.Parallel()
			// The server drops a 300,000-byte notification over its
			// 10,000-byte limit, and reads the next line normally.
			port := tg.start(t, "v2", 10_000)
			got := runPyClient(t, port, "--scenario", "oversize_send")
			// gorpcx counts a dropped message as an error of the peer
			// (it costs, as aiorpcX's framing errors do); aiorpcX's
			// NewlineFramer drops it without counting.
			errors := 1
			if tg.name == "aiorpcX" {
				errors = 0
			}
			want := outcomes(t, `
{"case": "after_oversized_sent", "result": "after sent"}
{"case": "server_stats", "result": {"recv_count": 2, "errors": `+strconv.Itoa(errors)+`}}
{"case": "done", "result": true}`)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("aiorpcX client report (-want +got):\n%s", diff)
			}
		})
		t.Run(tg.name+"/from the server", func(t *testing.T) {
			t.Parallel()
			// The aiorpcX client drops the server's 300,000-byte
			// notification over its 10,000-byte limit, and reads the
			// answer after it.
			port := tg.start(t, "v2", 0)
			got := runPyClient(t, port, "--max-size", "10000", "--scenario", "oversize_recv")
			want := outcomes(t, `
{"case": "oversized_notification", "result": true}
{"case": "notes_received", "result": 0}
{"case": "after_oversized_received", "result": "after received"}
{"case": "done", "result": true}`)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("aiorpcX client report (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAiorpcxClientServerGoesAway closes the gorpcx session while the
// aiorpcX client waits for an answer: the client's request must end.
// aiorpcX cancels its pending requests when the connection is lost
// (CancelledError), where gorpcx fails them with a ConnectionError.
func TestAiorpcxClientServerGoesAway(t *testing.T) {
	python(t)
	t.Parallel()
	gs := startGoServer(t, protocol.V2, 0)
	p := startPython(t, "aiorpcx_client.py", "--port", gs.port(), "--scenario", "mid_call")
	select {
	case sess := <-gs.sleeping:
		sess.Abort()
	case <-time.After(procWait):
		t.Fatalf("the aiorpcX client's request did not arrive; stderr:\n%s", p.stderr.String())
	}
	lines := p.rest(t)
	if code := p.wait(t); code != 0 {
		t.Fatalf("aiorpcx_client.py: exit status %d; stderr:\n%s", code, p.stderr.String())
	}
	want := outcomes(t, `
{"case": "mid_call", "exception": "CancelledError"}
{"case": "closed_mid_call", "result": true}
{"case": "done", "result": true}`)
	if diff := cmp.Diff(want, parseOutcomes(t, lines)); diff != "" {
		t.Errorf("aiorpcX client report (-want +got):\n%s", diff)
	}
}
