package interop

import (
	"strings"
	"testing"
)

// checkLines checks that each of want is a line of out, in that order.
func checkLines(t *testing.T, out string, want []string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	i := 0
	for _, w := range want {
		for i < len(lines) && strings.TrimSpace(lines[i]) != w {
			i++
		}
		if i == len(lines) {
			t.Errorf("output lacks the line %q (in this order); output:\n%s", w, out)
			return
		}
	}
}

// runTwice runs an example twice and checks that it exits 0 with no
// standard error and the same output each time, which it returns.
func runTwice(t *testing.T, name string) string {
	t.Helper()
	bin := example(t, name)
	var first string
	for i := range 2 {
		stdout, stderr, code := runProc(t, "", bin)
		if code != 0 || stderr != "" {
			t.Fatalf("%s: exit status %d, stderr:\n%s\nstdout:\n%s", name, code, stderr, stdout)
		}
		if i == 0 {
			first = stdout
		} else if stdout != first {
			t.Errorf("%s: output differs between runs:\nfirst:\n%s\nsecond:\n%s", name, first, stdout)
		}
	}
	return first
}

func TestDemo(t *testing.T) {
	t.Parallel()
	out := runTwice(t, "demo")
	checkLines(t, out, []string{
		"1. Start a server and connect a client",
		"client connected",
		"2. A call with positional params",
		"-> add [2,3]",
		"<- 5",
		"3. A call with named params",
		`-> greet {"name":"Ada"}`,
		`<- "Hello, Ada!"`,
		"<- error 1001: division by zero",
		`<- error -32601: unknown method "multiply"`,
		"5. A batch: three calls and a notification in one message",
		"<- add: 3",
		`<- greet: "Hello, Grace!"`,
		"<- divide: error 1001: division by zero",
		"(1 of 3 calls failed)",
		`server got notification log ["a notification inside the batch"]`,
		"6. A notification from the client to the server",
		`server got notification log ["hello from the client"]`,
		"7. A notification from the server to the client",
		`<- "subscribed to releases"`,
		`client got notification news ["releases: gorpcx demo started"]`,
		"8. A request from the server to the client",
		`<- "you are demo-client"`,
		"9. Graceful shutdown with a request in flight",
		`<- "finished" (answered before the connection closed)`,
		"client session ended: closed by the server",
		"a call now fails at once: connection lost: EOF",
		"10. Statistics of the two sessions",
	})
	// The counts of the two sides mirror each other.
	if !strings.Contains(out, "client: received 10 messages (688 bytes), sent 10 messages (766 bytes), 0 errors") ||
		!strings.Contains(out, "server: received 10 messages (766 bytes), sent 10 messages (688 bytes), 3 errors") {
		t.Errorf("statistics lines missing or wrong:\n%s", out)
	}
}

func TestBitcoinMessages(t *testing.T) {
	t.Parallel()
	out := runTwice(t, "bitcoin-messages")
	checkLines(t, out, []string{
		"Two Bitcoin nodes over an in-memory connection, network magic e3e1f3e8",
		"alice -> bob    version  97 bytes  protocol 70016, user agent /alice:0.1/, height 0, from 192.0.2.1:8333",
		"bob   -> alice  version  95 bytes  protocol 70016, user agent /bob:0.1/, height 840000, from 192.0.2.2:8333",
		"alice -> bob    verack    0 bytes",
		"bob   -> alice  verack    0 bytes  handshake complete",
		"alice -> bob    ping      8 bytes  nonce 0x0123456789abcdef",
		"bob   -> alice  pong      8 bytes  nonce 0x0123456789abcdef, matches the ping",
		"alice closed the connection; bob's session ended: the connection was closed",
		// 24-byte headers, and payloads of 97, 0 and 8 bytes.
		"alice sent 3 messages (177 bytes), received 3 (175 bytes), 0 errors",
		"bob   sent 3 messages (175 bytes), received 3 (177 bytes), 0 errors",
	})
}
