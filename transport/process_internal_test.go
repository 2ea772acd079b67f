package transport

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

func TestTailBuffer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		limit  int
		writes []string
		want   string
	}{
		{"nothing", 8, nil, ""},
		{"empty writes", 8, []string{"", ""}, ""},
		{"under the limit", 8, []string{"ab", "cd"}, "abcd"},
		{"exactly the limit", 8, []string{"abcd", "efgh"}, "abcdefgh"},
		{"one past", 8, []string{"abcdefgh", "i"}, "bcdefghi"},
		{"crossing the limit in one write", 8, []string{"abcdef", "ghijk"}, "defghijk"},
		{"wrapping twice", 4, []string{"ab", "cde", "fgh", "ij", "k"}, "hijk"},
		{"one write over the limit", 4, []string{"abcdefghij"}, "ghij"},
		{"over the limit after wrapping", 4, []string{"ab", "cdefghij"}, "ghij"},
		{"small writes", 3, strings.Split("abcdefgh", ""), "fgh"},
		{"a limit of one", 1, []string{"ab", "c"}, "c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &tailBuffer{limit: tc.limit}
			for _, w := range tc.writes {
				b.write([]byte(w))
			}
			if got := string(b.bytes()); got != tc.want {
				t.Errorf("kept %q, want %q", got, tc.want)
			}
			if cap(b.buf) > tc.limit {
				t.Errorf("buffer capacity %d past the limit %d", cap(b.buf), tc.limit)
			}
		})
	}
}

// TestTailBufferLarge writes a long stream in uneven pieces and checks
// the tail against the stream's end.
func TestTailBufferLarge(t *testing.T) {
	const limit = 1000
	var all bytes.Buffer
	b := &tailBuffer{limit: limit}
	for i := range 500 {
		piece := bytes.Repeat([]byte{byte('a' + i%26)}, i%37+i%5*100)
		all.Write(piece)
		b.write(piece)
		want := all.Bytes()
		if len(want) > limit {
			want = want[len(want)-limit:]
		}
		if got := b.bytes(); !bytes.Equal(got, want) {
			t.Fatalf("after %d writes: kept %d bytes, not the stream's last %d", i+1, len(got), len(want))
		}
	}
}

func TestExitErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    *ExitError
		want string
	}{
		{"no state", &ExitError{Command: "srv", Pid: 42}, "transport: process srv (pid 42) exited"},
		{"wait error only", &ExitError{Command: "srv", Pid: 42, Err: exec.ErrWaitDelay}, "transport: process srv (pid 42) exec: WaitDelay expired before I/O complete"},
		{"cause and stderr", &ExitError{Command: "srv", Pid: 7, Cause: ErrGraceExpired, Stderr: []byte("one\ntwo  \n\n")},
			`transport: process srv (pid 7) exited, ended by this side: ` + ErrGraceExpired.Error() + `: stderr "two"`},
		{"long stderr line", &ExitError{Command: "srv", Pid: 7, Stderr: []byte(strings.Repeat("a", 300) + "END")},
			`transport: process srv (pid 7) exited: stderr "` + strings.Repeat("a", 197) + `END"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.e.Error(); got != tc.want {
				t.Errorf("Error() =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
	e := &ExitError{Err: exec.ErrWaitDelay, Cause: ErrGraceExpired}
	if !errors.Is(e, exec.ErrWaitDelay) || !errors.Is(e, ErrGraceExpired) {
		t.Error("Unwrap does not give Err and Cause")
	}
	if (&ExitError{}).ExitCode() != -1 {
		t.Error("ExitCode without a state is not -1")
	}
}
