package session

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/framing"
)

// FuzzSessionInput feeds arbitrary bytes to a session whose handler
// calls the peer back, as a hostile peer would, with small limits so
// that every path of admission is reached: whatever arrives, the
// session never panics, answers or drops each message, and ends when
// the connection closes.
func FuzzSessionInput(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","method":"echo","params":[1],"id":1}` + "\n",
		`{"jsonrpc":"2.0","method":"back","params":[],"id":2}` + "\n" + `{"jsonrpc":"2.0","result":1,"id":0}` + "\n",
		`[{"jsonrpc":"2.0","method":"echo","id":1},{"jsonrpc":"2.0","method":"n"}]` + "\n",
		"xyz\n{",
		`{"jsonrpc":"2.0","result":1,"id":99}` + "\n",
		"[]\n[1,2]\n{}\n",
	} {
		f.Add([]byte(seed))
	}
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		if req.Method == "back" {
			ctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			defer cancel()
			var r json.RawMessage
			err := FromContext(ctx).Call(ctx, "ping", nil, &r)
			return r, err
		}
		return req.Params, nil
	})
	f.Fuzz(func(t *testing.T, input []byte) {
		a, b := net.Pipe()
		s := New(framing.NewStream(framing.Newline{Max: 256}, a), &Options{
			Handler: h, Concurrency: 2, MaxQueued: 2, MaxIncomingBytes: 512, MaxWriteBuffer: 4096,
			ProcessingTimeout: 50 * time.Millisecond,
		})
		go func() { _, _ = io.Copy(io.Discard, b) }()
		b.SetWriteDeadline(time.Now().Add(2 * time.Second))
		_, _ = b.Write(input)
		b.Close()
		select {
		case <-s.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("the session did not end after the connection closed")
		}
	})
}
