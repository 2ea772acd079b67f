package session

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/framing"
)

// requestBack is the interop server's request_back: it asks the caller
// method(params) and returns the caller's answer.
var requestBack = HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	var p []json.RawMessage
	if err := json.Unmarshal(*req.Params, &p); err != nil || len(p) != 2 {
		return nil, &jsonrpc2.Error{Code: -32602, Message: "want [method, params]"}
	}
	var method string
	if err := json.Unmarshal(p[0], &method); err != nil {
		return nil, err
	}
	var result json.RawMessage
	if err := FromContext(ctx).Call(ctx, method, p[1], &result); err != nil {
		return nil, err
	}
	return result, nil
})

// serveTCP serves one connection of a loopback listener with a
// session of opts, and returns the client's end.
func serveTCP(t *testing.T, opts *Options) (net.Conn, *Session) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan *Session, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- New(framing.NewStream(framing.Newline{}, c), opts)
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() {
		conn.Close()
		s.Abort()
	})
	return conn, s
}

// A client that pipelines many requests whose handlers call it back,
// and answers each callback as soon as it reads it, gets every result:
// the server reads the answers to its handlers' calls however full its
// request queue is. (With the defaults, concurrency 20 and a queue of
// 80, 400 such requests used to stall until the timeouts fired.)
func TestCallbackFloodDoesNotStall(t *testing.T) {
	const n = 400
	conn, _ := serveTCP(t, &Options{Handler: requestBack})
	var batch strings.Builder
	for i := range n {
		fmt.Fprintf(&batch, `{"jsonrpc":"2.0","id":%d,"method":"request_back","params":["client.ping",[%d]]}`+"\n", i, i)
	}
	go conn.Write([]byte(batch.String()))

	// A hang guard, not a speed goal: the stall lasted 30 s.
	conn.SetDeadline(time.Now().Add(25 * time.Second))
	r := bufio.NewReader(conn)
	got := make(map[int]int)
	for len(got) < n {
		line, err := r.ReadBytes('\n')
		if err != nil {
			t.Fatalf("after %d results: %v", len(got), err)
		}
		var msg struct {
			ID     json.RawMessage
			Method string
			Params []int
			Result []int
			Error  *jsonrpc2.Error
		}
		if err := json.Unmarshal(line, &msg); err != nil {
			t.Fatalf("bad line %q: %v", line, err)
		}
		switch {
		case msg.Method == "client.ping":
			// Answer the callback at once, echoing its params.
			reply := fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":[%d]}`+"\n", msg.ID, msg.Params[0])
			if _, err := conn.Write([]byte(reply)); err != nil {
				t.Fatal(err)
			}
		case msg.Error != nil:
			t.Fatalf("request %s failed: %v", msg.ID, msg.Error)
		default:
			var id int
			json.Unmarshal(msg.ID, &id)
			if len(msg.Result) != 1 {
				t.Fatalf("request %d: result %v", id, msg.Result)
			}
			got[id] = msg.Result[0]
		}
	}
	for i := range n {
		if got[i] != i {
			t.Errorf("request %d: result %d", i, got[i])
		}
	}
}

// Bytes of a next message arriving behind a complete request used to
// hold the request's reply until the next message was complete: the
// reply is written within the burst window whatever is buffered behind
// it.
func TestReplyNotHeldBehindPartialMessage(t *testing.T) {
	for _, tc := range []struct{ name, bytes, want string }{
		{"request", `{"jsonrpc":"2.0","method":"echo","params":[1],"id":1}` + "\n" + `{"jsonrpc":"2.0",`,
			`{"jsonrpc":"2.0","result":[1],"id":1}`},
		{"parse error", "xyz\n{",
			`{"jsonrpc":"2.0","error":{"code":-32700,"message":"invalid JSON at byte 0"},"id":null}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, _ := serveTCP(t, &Options{Handler: echoParams})
			if _, err := conn.Write([]byte(tc.bytes)); err != nil {
				t.Fatal(err)
			}
			// A hang guard: the reply used to wait for the rest of the
			// message, forever here.
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			line, err := bufio.NewReader(conn).ReadString('\n')
			if err != nil {
				t.Fatalf("no reply while the next message is incomplete: %v", err)
			}
			if got := strings.TrimSuffix(line, "\n"); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}
