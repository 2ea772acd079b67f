package interop

import (
	"encoding/json"
	"net"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// These tests run examples/interop-server as a process through its
// documented flags and check its contract (docs: the interop-server
// specification) over raw TCP, byte for byte.

var listeningLine = regexp.MustCompile(`^listening on (127\.0\.0\.1:[1-9][0-9]*)$`)

// startInteropServer starts the interop server with flags and returns
// the process and the address from its first line.
func startInteropServer(t *testing.T, flags ...string) (*proc, string) {
	t.Helper()
	p := startProc(t, example(t, "interop-server"), flags...)
	line := p.line(t)
	m := listeningLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("interop-server %q: first line %q, want %q; stderr:\n%s", flags, line, "listening on 127.0.0.1:PORT", p.stderr.String())
	}
	return p, m[1]
}

// stopInteropServer sends SIGTERM and checks the exit status is 0.
func stopInteropServer(t *testing.T, p *proc) {
	t.Helper()
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t); code != 0 {
		t.Errorf("interop-server exited %d after SIGTERM, want 0; stderr:\n%s", code, p.stderr.String())
	}
}

// exchange is a conversation on a fresh connection: each step sends
// one message and expects the messages given back, in order, before
// the next step (requests sent together may be answered in any order).
type exchange struct {
	name  string
	steps []step
}

type step struct {
	send string
	want []string
}

// s is a step: send a message, expect want.
func s(send string, want ...string) step { return step{send, want} }

func runExchanges(t *testing.T, addr string, length bool, tests []exchange) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialRaw(t, addr)
			c.length = length
			for _, st := range tt.steps {
				c.send(st.send)
				var got []string
				for range st.want {
					got = append(got, c.recv())
				}
				if diff := cmp.Diff(st.want, got); diff != "" {
					t.Errorf("replies to %s (-want +got):\n%s", st.send, diff)
				}
			}
		})
	}
}

// checkStats checks the reply to a stats request: recv_count and
// errors exactly; send_count may lag by one, since the server counts a
// message once its write has returned, which can be just after the peer
// has read it.
func checkStats(t *testing.T, reply string, recv, send, errs uint64) {
	t.Helper()
	var r struct {
		Result struct {
			Recv   *uint64 `json:"recv_count"`
			Send   *uint64 `json:"send_count"`
			Errors *uint64 `json:"errors"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(reply), &r); err != nil || r.Result.Recv == nil || r.Result.Send == nil || r.Result.Errors == nil {
		t.Fatalf("stats: %s is not a stats result", reply)
	}
	if *r.Result.Recv != recv || *r.Result.Errors != errs || *r.Result.Send > send || *r.Result.Send+1 < send {
		t.Errorf("stats: got %s, want recv_count %d, send_count %d (or one less), errors %d", reply, recv, send, errs)
	}
}

func TestInteropServerMethods(t *testing.T) {
	t.Parallel()
	p, addr := startInteropServer(t)
	runExchanges(t, addr, false, []exchange{{
		name: "echo positional",
		steps: []step{
			s(`{"jsonrpc":"2.0","id":1,"method":"echo","params":[{"a":[1,-2.5e3,null,true,"ü"],"b":{}}]}`, `{"jsonrpc":"2.0","result":{"a":[1,-2.5e3,null,true,"ü"],"b":{}},"id":1}`),
		},
	}, {
		name: "echo named, string id",
		steps: []step{
			s(`{"jsonrpc":"2.0","id":"abc","method":"echo","params":{"value":"named"}}`, `{"jsonrpc":"2.0","result":"named","id":"abc"}`),
		},
	}, {
		name: "ids come back byte for byte",
		steps: []step{
			s(`{"jsonrpc":"2.0","id":-5,"method":"echo","params":[1]}`, `{"jsonrpc":"2.0","result":1,"id":-5}`),
			s(`{"jsonrpc":"2.0","id":1.5e3,"method":"echo","params":[2]}`, `{"jsonrpc":"2.0","result":2,"id":1.5e3}`),
			s(`{"jsonrpc":"2.0","id":18446744073709551617,"method":"echo","params":[3]}`, `{"jsonrpc":"2.0","result":3,"id":18446744073709551617}`),
			s(`{"jsonrpc":"2.0","id":null,"method":"echo","params":[4]}`, `{"jsonrpc":"2.0","result":4,"id":null}`),
		},
	}, {
		name: "add",
		steps: []step{
			s(`{"jsonrpc":"2.0","id":1,"method":"add","params":[2,3.5]}`, `{"jsonrpc":"2.0","result":5.5,"id":1}`),
			s(`{"jsonrpc":"2.0","id":2,"method":"add","params":{"a":40,"b":2}}`, `{"jsonrpc":"2.0","result":42,"id":2}`),
			s(`{"jsonrpc":"2.0","id":3,"method":"add","params":[9007199254740993,1]}`, `{"jsonrpc":"2.0","result":9007199254740994,"id":3}`),
		},
	}, {
		name: "wrong params name the method",
		steps: []step{
			s(`{"jsonrpc":"2.0","id":1,"method":"add","params":[1]}`, `{"jsonrpc":"2.0","error":{"code":-32602,"message":"1 argument passed to method \"add\" but it requires 2"},"id":1}`),
			s(`{"jsonrpc":"2.0","id":2,"method":"add","params":[1,2,3]}`, `{"jsonrpc":"2.0","error":{"code":-32602,"message":"3 arguments passed to method add taking at most 2"},"id":2}`),
			s(`{"jsonrpc":"2.0","id":3,"method":"add","params":{"a":1}}`, `{"jsonrpc":"2.0","error":{"code":-32602,"message":"method \"add\" requires parameter \"b\""},"id":3}`),
			s(`{"jsonrpc":"2.0","id":4,"method":"add","params":{"a":1,"b":2,"c":3}}`, `{"jsonrpc":"2.0","error":{"code":-32602,"message":"method \"add\" does not take parameter \"c\""},"id":4}`),
			s(`{"jsonrpc":"2.0","id":5,"method":"echo"}`, `{"jsonrpc":"2.0","error":{"code":-32602,"message":"0 arguments passed to method \"echo\" but it requires 1"},"id":5}`),
			s(`{"jsonrpc":"2.0","id":6,"method":"sleep","params":{"seconds":1}}`, `{"jsonrpc":"2.0","error":{"code":-32602,"message":"method \"sleep\" cannot be called with named arguments"},"id":6}`),
			s(`{"jsonrpc":"2.0","id":7,"method":"sleep","params":[61]}`, `{"jsonrpc":"2.0","error":{"code":-32602,"message":"invalid argument to method \"sleep\": 61 seconds is not between 0 and 60"},"id":7}`),
			s(`{"jsonrpc":"2.0","id":8,"method":"fail","params":[1]}`, `{"jsonrpc":"2.0","error":{"code":-32602,"message":"1 argument passed to method \"fail\" but it requires 2"},"id":8}`),
			s(`{"jsonrpc":"2.0","id":9,"method":"stats","params":[1]}`, `{"jsonrpc":"2.0","error":{"code":-32602,"message":"1 argument passed to method stats taking at most 0"},"id":9}`),
			s(`{"jsonrpc":"2.0","id":10,"method":"add","params":[1,"2"]}`, `{"jsonrpc":"2.0","error":{"code":-32602,"message":"invalid argument 2 (\"b\") to method \"add\": \"2\" is not a number"},"id":10}`),
		},
	}, {
		name: "sleep",
		steps: []step{
			s(`{"jsonrpc":"2.0","id":1,"method":"sleep","params":[0.01]}`, `{"jsonrpc":"2.0","result":true,"id":1}`),
		},
	}, {
		name: "fail",
		steps: []step{
			s(`{"jsonrpc":"2.0","id":1,"method":"fail","params":[-5,"boom"]}`, `{"jsonrpc":"2.0","error":{"code":-5,"message":"boom"},"id":1}`),
		},
	}, {
		name: "notify_back",
		steps: []step{
			s(`{"jsonrpc":"2.0","id":1,"method":"notify_back","params":["note",[1,{"x":2}]]}`,
				`{"jsonrpc":"2.0","method":"note","params":[1,{"x":2}]}`,
				`{"jsonrpc":"2.0","result":true,"id":1}`,
			),
		},
	}, {
		name: "notify_back with params that are not a structure",
		steps: []step{
			s(`{"jsonrpc":"2.0","id":1,"method":"notify_back","params":["note",5]}`, `{"jsonrpc":"2.0","error":{"code":-32602,"message":"invalid argument 2 (\"params\") to method \"notify_back\": must be an array, an object or null"},"id":1}`),
		},
	}, {
		name: "unknown method",
		steps: []step{
			s(`{"jsonrpc":"2.0","id":1,"method":"nope","params":[]}`, `{"jsonrpc":"2.0","error":{"code":-32601,"message":"unknown method \"nope\""},"id":1}`),
		},
	}, {
		name: "malformed JSON",
		steps: []step{
			s(`{"jsonrpc":"2.0","id":1,"method":"echo","params":[1]`, `{"jsonrpc":"2.0","error":{"code":-32700,"message":"invalid JSON: unexpected end of input"},"id":null}`),
		},
	}, {
		name: "invalid request objects",
		steps: []step{
			s(`{"jsonrpc":"2.0","id":1,"method":5}`, `{"jsonrpc":"2.0","error":{"code":-32600,"message":"method must be a string"},"id":1}`),
			s(`{"jsonrpc":"1.0","id":2,"method":"echo","params":[1]}`, `{"jsonrpc":"2.0","error":{"code":-32600,"message":"\"jsonrpc\" is not \"2.0\""},"id":2}`),
			s(`{"jsonrpc":"2.0","id":3,"method":"echo","params":7}`, `{"jsonrpc":"2.0","error":{"code":-32600,"message":"params must be an array or an object: 7"},"id":3}`),
			s(`"a string"`, `{"jsonrpc":"2.0","error":{"code":-32600,"message":"message is not a JSON object or array"},"id":null}`),
		},
	}, {
		name: "empty batch",
		steps: []step{
			s(`[]`, `{"jsonrpc":"2.0","error":{"code":-32600,"message":"batch is empty"},"id":null}`),
		},
	}, {
		name: "batch of notifications gets no reply",
		steps: []step{
			s(`[{"jsonrpc":"2.0","method":"echo","params":[1]},{"jsonrpc":"2.0","method":"add","params":[1,2]}]`),
			s(`{"jsonrpc":"2.0","id":"next","method":"echo","params":["after"]}`, `{"jsonrpc":"2.0","result":"after","id":"next"}`),
		},
	}, {
		name: "stats",
		steps: []step{
			s(`{"jsonrpc":"2.0","id":1,"method":"stats","params":[]}`, `{"jsonrpc":"2.0","result":{"recv_count":1,"send_count":0,"errors":0},"id":1}`),
			s(`{"jsonrpc":"2.0","id":2,"method":"echo","params":[1]}`, `{"jsonrpc":"2.0","result":1,"id":2}`),
			s(`{"jsonrpc":"2.0","id":3,"method":"fail","params":[1,"x"]}`, `{"jsonrpc":"2.0","error":{"code":1,"message":"x"},"id":3}`),
		},
	}})

	t.Run("stats after traffic", func(t *testing.T) {
		c := dialRaw(t, addr)
		c.roundTrip(`{"jsonrpc":"2.0","id":1,"method":"echo","params":[1]}`)
		c.roundTrip(`{"jsonrpc":"2.0","id":2,"method":"fail","params":[1,"x"]}`)
		c.roundTrip(`{bad`)
		// A message that cannot be parsed counts as received, and as an
		// error, as does the error reply of fail.
		checkStats(t, c.roundTrip(`{"jsonrpc":"2.0","id":3,"method":"stats"}`), 4, 3, 2)
	})

	t.Run("batch", func(t *testing.T) {
		c := dialRaw(t, addr)
		got := batchElems(t, c.roundTrip(`[`+
			`{"jsonrpc":"2.0","id":1,"method":"echo","params":["one"]},`+
			`{"jsonrpc":"2.0","method":"echo","params":["notified"]},`+
			`{"jsonrpc":"2.0","id":2,"method":"add","params":{"a":1,"b":2}},`+
			`{"jsonrpc":"2.0","id":3,"method":"nope"},`+
			`{"jsonrpc":"2.0","id":4,"method":"fail","params":[7,"seven"]},`+
			`{"jsonrpc":"2.0","id":5},`+
			`5]`))
		want := batchElems(t, `[`+
			`{"jsonrpc":"2.0","result":"one","id":1},`+
			`{"jsonrpc":"2.0","result":3,"id":2},`+
			`{"jsonrpc":"2.0","error":{"code":-32601,"message":"unknown method \"nope\""},"id":3},`+
			`{"jsonrpc":"2.0","error":{"code":7,"message":"seven"},"id":4},`+
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"message has no \"method\", \"result\" or \"error\""},"id":5},`+
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"batch item is not a JSON object"},"id":null}]`)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("batch reply (-want +got):\n%s", diff)
		}
	})

	t.Run("request_back", func(t *testing.T) {
		c := dialRaw(t, addr)
		c.send(`{"jsonrpc":"2.0","id":"r1","method":"request_back","params":["ask",{"q":1}]}`)
		if got, want := c.recv(), `{"jsonrpc":"2.0","method":"ask","params":{"q":1},"id":0}`; got != want {
			t.Fatalf("request to the caller: got %s, want %s", got, want)
		}
		c.send(`{"jsonrpc":"2.0","result":{"ok":[true]},"id":0}`)
		if got, want := c.recv(), `{"jsonrpc":"2.0","result":{"ok":[true]},"id":"r1"}`; got != want {
			t.Errorf("request_back result: got %s, want %s", got, want)
		}

		// An error answer comes back as the error of request_back.
		c.send(`{"jsonrpc":"2.0","id":"r2","method":"request_back","params":["ask",[]]}`)
		if got, want := c.recv(), `{"jsonrpc":"2.0","method":"ask","params":[],"id":1}`; got != want {
			t.Fatalf("request to the caller: got %s, want %s", got, want)
		}
		c.send(`{"jsonrpc":"2.0","error":{"code":-9,"message":"denied"},"id":1}`)
		if got, want := c.recv(), `{"jsonrpc":"2.0","error":{"code":-9,"message":"denied"},"id":"r2"}`; got != want {
			t.Errorf("request_back error: got %s, want %s", got, want)
		}
	})

	t.Run("bye", func(t *testing.T) {
		c := dialRaw(t, addr)
		if got, want := c.roundTrip(`{"jsonrpc":"2.0","id":1,"method":"bye","params":[]}`), `{"jsonrpc":"2.0","result":"bye","id":1}`; got != want {
			t.Errorf("bye: got %s, want %s", got, want)
		}
		c.expectEOF()
	})

	t.Run("concurrent within a session", func(t *testing.T) {
		c := dialRaw(t, addr)
		c.send(`{"jsonrpc":"2.0","id":"slow","method":"sleep","params":[0.5]}`,
			`{"jsonrpc":"2.0","id":"fast","method":"echo","params":[1]}`)
		got := []string{c.recv(), c.recv()}
		want := []string{`{"jsonrpc":"2.0","result":1,"id":"fast"}`, `{"jsonrpc":"2.0","result":true,"id":"slow"}`}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("replies (-want +got):\n%s", diff)
		}
	})

	stopInteropServer(t, p)
}

func TestInteropServerFlags(t *testing.T) {
	t.Parallel()
	t.Run("concurrency 1", func(t *testing.T) {
		t.Parallel()
		p, addr := startInteropServer(t, "-concurrency", "1")
		c := dialRaw(t, addr)
		c.send(`{"jsonrpc":"2.0","id":"slow","method":"sleep","params":[0.2]}`,
			`{"jsonrpc":"2.0","id":"fast","method":"echo","params":[1]}`)
		got := []string{c.recv(), c.recv()}
		want := []string{`{"jsonrpc":"2.0","result":true,"id":"slow"}`, `{"jsonrpc":"2.0","result":1,"id":"fast"}`}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("replies (-want +got):\n%s", diff)
		}
		stopInteropServer(t, p)
	})

	t.Run("processing timeout", func(t *testing.T) {
		t.Parallel()
		p, addr := startInteropServer(t, "-processing-timeout", "100ms")
		c := dialRaw(t, addr)
		got := c.roundTrip(`{"jsonrpc":"2.0","id":1,"method":"sleep","params":[30]}`)
		want := `{"jsonrpc":"2.0","error":{"code":-102,"message":"server busy - request timed out"},"id":1}`
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
		stopInteropServer(t, p)
	})

	t.Run("protocol v1", func(t *testing.T) {
		t.Parallel()
		p, addr := startInteropServer(t, "-protocol", "v1")
		runExchanges(t, addr, false, []exchange{{
			name: "calls",
			steps: []step{
				s(`{"method":"echo","params":["x"],"id":1}`, `{"result":"x","error":null,"id":1}`),
				s(`{"method":"nope","params":[],"id":2}`, `{"result":null,"error":{"code":-32601,"message":"unknown method \"nope\""},"id":2}`),
				s(`{"method":"echo","params":["notified"],"id":null}`),
				s(`{"method":"echo","params":{"value":1},"id":3}`, `{"result":null,"error":{"code":-32602,"message":"JSON-RPC 1.0 does not allow named params"},"id":3}`),
				s(`{"method":"notify_back","params":["note",[1]],"id":4}`,
					`{"method":"note","params":[1],"id":null}`,
					`{"result":true,"error":null,"id":4}`,
				),
			},
		}, {
			name: "no batches",
			steps: []step{
				s(`[{"method":"echo","params":["x"],"id":1}]`, `{"result":null,"error":{"code":-32600,"message":"JSON-RPC 1.0 does not allow batches"},"id":null}`),
			},
		}, {
			name: "request_back with named params",
			steps: []step{
				s(`{"method":"request_back","params":["ask",{"q":1}],"id":1}`, `{"result":null,"error":{"code":-32602,"message":"invalid argument 2 (\"params\") to method \"request_back\": JSON-RPC 1.0 does not allow named params"},"id":1}`),
			},
		}})
		stopInteropServer(t, p)
	})

	t.Run("protocol loose", func(t *testing.T) {
		t.Parallel()
		p, addr := startInteropServer(t, "-protocol", "loose")
		runExchanges(t, addr, false, []exchange{{
			name: "both shapes",
			steps: []step{
				s(`{"method":"echo","params":["v1 shape"],"id":1}`, `{"jsonrpc":"2.0","result":"v1 shape","id":1}`),
				s(`{"jsonrpc":"2.0","method":"echo","params":["v2 shape"],"id":2}`, `{"jsonrpc":"2.0","result":"v2 shape","id":2}`),
				s(`{"jsonrpc":"3.0","method":"echo","params":{"value":"named"},"id":3}`, `{"jsonrpc":"2.0","result":"named","id":3}`),
				s(`[{"method":"echo","params":["in a batch"],"id":4},{"method":"echo","params":["notified"]}]`, `[{"jsonrpc":"2.0","result":"in a batch","id":4}]`),
			},
		}})
		stopInteropServer(t, p)
	})

	t.Run("protocol auto", func(t *testing.T) {
		t.Parallel()
		p, addr := startInteropServer(t, "-protocol", "auto")
		runExchanges(t, addr, false, []exchange{{
			name: "detects 2.0",
			steps: []step{
				s(`{"jsonrpc":"2.0","method":"echo","params":["x"],"id":1}`, `{"jsonrpc":"2.0","result":"x","id":1}`),
				s(`{"method":"echo","params":["no jsonrpc"],"id":2}`, `{"jsonrpc":"2.0","error":{"code":-32600,"message":"\"jsonrpc\" is not \"2.0\""},"id":2}`),
				s(`[{"jsonrpc":"2.0","method":"echo","params":["in a batch"],"id":3}]`, `[{"jsonrpc":"2.0","result":"in a batch","id":3}]`),
			},
		}, {
			name: "detects 2.0 from a batch",
			steps: []step{
				s(`[{"jsonrpc":"2.0","method":"echo","params":["first"],"id":1},{"jsonrpc":"2.0","method":"echo","params":["notified"]}]`, `[{"jsonrpc":"2.0","result":"first","id":1}]`),
				s(`{"jsonrpc":"2.0","method":"echo","params":["then"],"id":2}`, `{"jsonrpc":"2.0","result":"then","id":2}`),
			},
		}, {
			name: "detects 1.0",
			steps: []step{
				s(`{"jsonrpc":"1.0","method":"echo","params":["x"],"id":1}`, `{"result":"x","error":null,"id":1}`),
				s(`[{"method":"echo","params":["x"],"id":2}]`, `{"result":null,"error":{"code":-32600,"message":"JSON-RPC 1.0 does not allow batches"},"id":null}`),
			},
		}, {
			// As in aiorpcX, a request without "jsonrpc" is taken for
			// the loose dialect, which answers in the 2.0 shape.
			name: "detects loose",
			steps: []step{
				s(`{"method":"echo","params":["x"],"id":1}`, `{"jsonrpc":"2.0","result":"x","id":1}`),
				s(`{"jsonrpc":"2.0","method":"echo","params":["y"],"id":2}`, `{"jsonrpc":"2.0","result":"y","id":2}`),
			},
		}})
		stopInteropServer(t, p)
	})

	t.Run("length framing", func(t *testing.T) {
		t.Parallel()
		p, addr := startInteropServer(t, "-framing", "length", "-max-message", "100")
		runExchanges(t, addr, true, []exchange{{
			name: "echo",
			steps: []step{
				s(`{"jsonrpc":"2.0","id":1,"method":"echo","params":["line\nbreak"]}`, `{"jsonrpc":"2.0","result":"line\nbreak","id":1}`),
			},
		}})
		// Over the limit, a length-prefixed stream cannot go on.
		c := dialRaw(t, addr)
		c.length = true
		c.send(`{"jsonrpc":"2.0","id":1,"method":"echo","params":["` + strings.Repeat("x", 100) + `"]}`)
		c.expectEOF()
		stopInteropServer(t, p)
	})

	t.Run("max message, newline framing", func(t *testing.T) {
		t.Parallel()
		p, addr := startInteropServer(t, "-max-message", "60")
		// The oversized line is dropped without a reply; the next one
		// is read normally. The drop counts as an error. The limit is
		// on incoming messages: the stats reply is longer than 60.
		c := dialRaw(t, addr)
		c.send(`{"jsonrpc":"2.0","id":1,"method":"echo","params":["` + strings.Repeat("x", 200) + `"]}`)
		if got, want := c.roundTrip(`{"jsonrpc":"2.0","id":2,"method":"echo","params":["fits"]}`), `{"jsonrpc":"2.0","result":"fits","id":2}`; got != want {
			t.Errorf("after an oversized line: got %s, want %s", got, want)
		}
		checkStats(t, c.roundTrip(`{"jsonrpc":"2.0","id":3,"method":"stats"}`), 2, 1, 1)
		stopInteropServer(t, p)
	})

	t.Run("log level", func(t *testing.T) {
		t.Parallel()
		p, addr := startInteropServer(t, "-log", "debug")
		c := dialRaw(t, addr)
		c.roundTrip(`{"jsonrpc":"2.0","id":1,"method":"echo","params":["logged"]}`)
		stopInteropServer(t, p)
		if !strings.Contains(p.stderr.String(), "DEBUG") {
			t.Errorf("-log debug: no debug lines on stderr:\n%s", p.stderr.String())
		}

		p, _ = startInteropServer(t, "-log", "error")
		stopInteropServer(t, p)
		if s := p.stderr.String(); s != "" {
			t.Errorf("-log error: stderr has lines below error:\n%s", s)
		}
	})

	t.Run("bad flags", func(t *testing.T) {
		t.Parallel()
		bin := example(t, "interop-server")
		for _, args := range [][]string{
			{"-protocol", "v3"},
			{"-framing", "bitcoin"},
			{"-max-message", "0"},
			{"-concurrency", "0"},
			{"-log", "verbose"},
			{"-addr"},
			{"extra"},
		} {
			stdout, stderr, code := runProc(t, "", bin, args...)
			if code != 2 || stdout != "" || stderr == "" {
				t.Errorf("interop-server %q: exit %d, stdout %q, stderr %q; want exit 2, a message on stderr only", args, code, stdout, stderr)
			}
		}
	})

	t.Run("address in use", func(t *testing.T) {
		t.Parallel()
		p, addr := startInteropServer(t)
		stdout, stderr, code := runProc(t, "", example(t, "interop-server"), "-addr", addr)
		if code != 1 || stdout != "" || !strings.Contains(stderr, "cannot listen") {
			t.Errorf("second server on %s: exit %d, stdout %q, stderr %q; want exit 1 and the reason", addr, code, stdout, stderr)
		}
		stopInteropServer(t, p)
	})
}

func TestInteropServerShutdown(t *testing.T) {
	t.Parallel()
	t.Run("SIGINT when idle", func(t *testing.T) {
		t.Parallel()
		p, _ := startInteropServer(t)
		p.signal(t, syscall.SIGINT)
		if code := p.wait(t); code != 0 {
			t.Errorf("exit status %d after SIGINT, want 0; stderr:\n%s", code, p.stderr.String())
		}
	})

	t.Run("in-flight request finishes", func(t *testing.T) {
		t.Parallel()
		p, addr := startInteropServer(t)
		c := dialRaw(t, addr)
		// The echo's reply shows that the sleep before it was read.
		c.send(`{"jsonrpc":"2.0","id":"slow","method":"sleep","params":[1]}`,
			`{"jsonrpc":"2.0","id":"fast","method":"echo","params":[1]}`)
		if got, want := c.recv(), `{"jsonrpc":"2.0","result":1,"id":"fast"}`; got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
		p.signal(t, syscall.SIGTERM)
		// The listener closes at once, while the request goes on.
		refused := false
		for range 1000 {
			conn, err := net.DialTimeout("tcp", addr, procWait)
			if err != nil {
				refused = true
				break
			}
			conn.Close()
			time.Sleep(10 * time.Millisecond)
		}
		if !refused {
			t.Errorf("still accepting connections after SIGTERM")
		}
		if got, want := c.recv(), `{"jsonrpc":"2.0","result":true,"id":"slow"}`; got != want {
			t.Errorf("in-flight request: got %s, want %s", got, want)
		}
		c.expectEOF()
		if code := p.wait(t); code != 0 {
			t.Errorf("exit status %d after SIGTERM, want 0; stderr:\n%s", code, p.stderr.String())
		}
	})

	t.Run("grace period ends", func(t *testing.T) {
		t.Parallel()
		p, addr := startInteropServer(t)
		c := dialRaw(t, addr)
		c.send(`{"jsonrpc":"2.0","id":"slow","method":"sleep","params":[60]}`,
			`{"jsonrpc":"2.0","id":"fast","method":"echo","params":[1]}`)
		c.recv()
		start := time.Now()
		p.signal(t, syscall.SIGTERM)
		// The request is aborted after the grace period: no reply.
		c.expectEOF()
		if code := p.wait(t); code != 0 {
			t.Errorf("exit status %d after SIGTERM, want 0; stderr:\n%s", code, p.stderr.String())
		}
		t.Logf("aborted after %v", time.Since(start).Round(time.Millisecond))
	})
}
