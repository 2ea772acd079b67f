package interop

import (
	"bufio"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"
)

// TestRPCCallBatchMissingResponse runs rpccall against a server whose
// batch response leaves out a request: that request's
// *protocol.ProtocolError, made by the session with only Reply set, is
// reported as a malformed response (rpccall used to crash on it).
func TestRPCCallBatchMissingResponse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil {
			return
		}
		var batch []struct{ ID json.RawMessage }
		if json.Unmarshal([]byte(line), &batch) != nil || len(batch) == 0 {
			return
		}
		// Only the first request is answered.
		conn.Write([]byte(`[{"jsonrpc":"2.0","result":1,"id":` + string(batch[0].ID) + "}]\n"))
		// Until rpccall hangs up.
		bufio.NewReader(conn).ReadString('\n')
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	runRPCCall(t, []rpccallCase{{
		name:   "batch response missing an answer",
		args:   []string{"-batch", "-", ln.Addr().String()},
		stdin:  strings.Join([]string{"echo [1]", "echo [2]", ""}, "\n"),
		code:   3,
		stdout: "#1 echo: 1\n",
		stderr: "#2 echo: malformed response: batch response has no response to this request\n",
	}})
}
