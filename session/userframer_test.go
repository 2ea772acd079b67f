package session

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"testing"

	"github.com/gorpcx/gorpcx/framing"
)

// userFramer is a framer written outside package framing, as a program
// would write one: lines, of which those starting with "!" are refused
// with the errors their second byte names.
type userFramer struct{}

func (userFramer) AppendFrame(dst, msg []byte) ([]byte, error) {
	return append(append(dst, msg...), '\n'), nil
}

func (userFramer) NewReader(r io.Reader) framing.Reader {
	return &userReader{br: bufio.NewReader(r)}
}

type userReader struct{ br *bufio.Reader }

var errUserLine = errors.New("user framer: refused line")

// nanError is a framing.Error of a user's own type, with a cost that is
// not a number.
type nanError struct{}

func (nanError) Error() string     { return "user framer: NaN cost" }
func (nanError) Fatal() bool       { return false }
func (nanError) CostHint() float64 { return math.NaN() }

func (u *userReader) ReadMessage() ([]byte, error) {
	line, err := u.br.ReadSlice('\n')
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if len(line) < 2 || line[0] != '!' {
		return line, nil
	}
	switch line[1] {
	case 'n': // not fatal, wrapped twice
		return nil, fmt.Errorf("reading: %w", framing.WrapError(errUserLine, false, 300))
	case 'f':
		return nil, framing.NewError("user framer: stream broken", true, 700)
	case 'N':
		return nil, nanError{}
	case '-':
		return nil, framing.NewError("user framer: negative cost", false, -1000)
	}
	return nil, errors.New("user framer: I/O failed") // not a framing.Error
}

// Buffered lets the session see pipelined requests, as for the built-in
// framers.
func (u *userReader) Buffered() int { return u.br.Buffered() }

// TestUserFramerErrors checks that a session honours the framing.Error
// of a framer written outside package framing as it does the built-in
// ones: a non-fatal one is charged (the base cost plus its hint), the
// message dropped and the reading goes on; a fatal one is charged and
// ends the session; any other error ends it uncharged.
func TestUserFramerErrors(t *testing.T) {
	tests := []struct {
		name      string
		line      string
		wantAlive bool
		wantCost  float64
		wantErrs  uint64
		wantEnd   error // found with errors.Is in the session's end
	}{
		{name: "non-fatal", line: "!n", wantAlive: true, wantCost: 100 + 300, wantErrs: 1},
		{name: "NaN cost counts as 0", line: "!N", wantAlive: true, wantCost: 100, wantErrs: 1},
		{name: "negative cost counts as 0", line: "!-", wantAlive: true, wantCost: 100, wantErrs: 1},
		{name: "fatal", line: "!f", wantCost: 100 + 700, wantErrs: 1},
		{name: "not a framing.Error", line: "!x", wantCost: 0, wantErrs: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := net.Pipe()
			s := New(framing.NewStream(userFramer{}, a), &Options{Handler: echoParams, Clock: newFakeClock()})
			peer := &rawPeer{t: t, conn: b, r: bufio.NewReader(b)}
			t.Cleanup(func() {
				s.Abort()
				b.Close()
			})
			peer.send(tt.line)
			if tt.wantAlive {
				// The message after the refused one is served.
				peer.send(`{"jsonrpc":"2.0","id":1,"method":"e","params":[7]}`)
				if got := peer.recv(); got != `{"jsonrpc":"2.0","result":[7],"id":1}` {
					t.Fatalf("got %s", got)
				}
			} else {
				err := waitEnded(t, s)
				var fe framing.Error
				if tt.wantErrs > 0 && (!errors.As(err, &fe) || !fe.Fatal()) {
					t.Errorf("session ended with %v, want the fatal framing.Error", err)
				}
				if tt.wantErrs == 0 && err == nil {
					t.Error("session ended without an error")
				}
			}
			st := s.Stats()
			if st.Errors != tt.wantErrs {
				t.Errorf("errors = %d, want %d", st.Errors, tt.wantErrs)
			}
			if !near(st.Cost, tt.wantCost) {
				t.Errorf("cost = %v, want %v", st.Cost, tt.wantCost)
			}
		})
	}
}

// TestUserFramerPipelined checks that a user framer with a Buffered
// method gets the replies to pipelined requests, refused lines between
// them, all answered.
func TestUserFramerPipelined(t *testing.T) {
	s, peer := newUserPeer(t)
	var burst bytes.Buffer
	for i := range 5 {
		fmt.Fprintf(&burst, "!n\n{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"e\",\"params\":[%d]}\n", i, i)
	}
	if _, err := peer.conn.Write(burst.Bytes()); err != nil {
		t.Fatal(err)
	}
	// Requests that arrive together are served concurrently: their
	// replies come in any order.
	got := map[string]bool{}
	for range 5 {
		got[peer.recv()] = true
	}
	for i := range 5 {
		if want := fmt.Sprintf(`{"jsonrpc":"2.0","result":[%d],"id":%d}`, i, i); !got[want] {
			t.Errorf("no reply %s among %v", want, got)
		}
	}
	if st := s.Stats(); st.Errors != 5 || !near(st.Cost, 5*400) {
		t.Errorf("errors %d, cost %v; want 5 and 2000", st.Errors, st.Cost)
	}
}

func newUserPeer(t *testing.T) (*Session, *rawPeer) {
	t.Helper()
	a, b := net.Pipe()
	s := New(framing.NewStream(userFramer{}, a), &Options{Handler: echoParams, Clock: newFakeClock()})
	t.Cleanup(func() {
		s.Abort()
		b.Close()
	})
	return s, &rawPeer{t: t, conn: b, r: bufio.NewReader(b)}
}
