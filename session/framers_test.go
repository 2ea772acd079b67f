package session

import (
	"bufio"
	"fmt"
	"net"
	"testing"

	"github.com/gorpcx/gorpcx/framing"
)

// TestSessionOverEachFramer runs a client and a server session over each
// framer of package framing that carries JSON-RPC, and calls across.
func TestSessionOverEachFramer(t *testing.T) {
	for name, f := range map[string]framing.Framer{
		"content-length":          framing.ContentLength{},
		"raw JSON":                framing.RawJSON{},
		"raw JSON, newline after": framing.RawJSON{NewlineAfter: true},
		"varint":                  framing.VarintPrefixed{},
	} {
		t.Run(name, func(t *testing.T) {
			a, b := net.Pipe()
			srv := New(framing.NewStream(f, a), &Options{Handler: echoParams})
			cli := New(framing.NewStream(f, b), &Options{Side: Client})
			defer srv.Abort()
			defer cli.Abort()
			for i := range 3 {
				var got []string
				want := []string{"x", fmt.Sprint(i), `"}{[`}
				if err := cli.Call(t.Context(), "e", want, &got); err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("got %q, want %q", got, want)
				}
			}
		})
	}
}

// A raw JSON peer that sends a top-level scalar, or nests too deep, is
// charged and the session goes on with its next value.
func TestRawJSONRefusedValuesGoOn(t *testing.T) {
	a, b := net.Pipe()
	s := New(framing.NewStream(framing.RawJSON{MaxDepth: 4, NewlineAfter: true}, a), &Options{Handler: echoParams, Clock: newFakeClock()})
	t.Cleanup(func() {
		s.Abort()
		b.Close()
	})
	peer := &rawPeer{t: t, conn: b, r: bufio.NewReader(b)}
	peer.send(`"a string" 42 [[[[[1]]]]]{"jsonrpc":"2.0","id":1,"method":"e","params":[[[1]]]}`)
	if got := peer.recv(); got != `{"jsonrpc":"2.0","result":[[[1]]],"id":1}` {
		t.Errorf("got %s", got)
	}
	if st := s.Stats(); st.Errors != 3 || !near(st.Cost, 3*1100) {
		t.Errorf("errors %d, cost %v; want 3 and 3300", st.Errors, st.Cost)
	}
}
