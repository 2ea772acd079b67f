package realpeer

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestNeedPylsp checks that the command made runs pylsp in its
// directory, which answers initialize over its standard input and
// output, and exits when its input ends.
func TestNeedPylsp(t *testing.T) {
	p := NeedPylsp(t)
	cmd := p.Command()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// One goroutine reads: the reply to initialize, then whatever else
	// until the output ends, then waits for the process.
	reply := make(chan []byte, 1)
	exited := make(chan error, 1)
	go func() {
		br := bufio.NewReader(stdout)
		reply <- readLSP(br)
		io.Copy(io.Discard, br)
		exited <- cmd.Wait()
	}()
	defer func() {
		stdin.Close()
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("pylsp exited with %v once its input ended", err)
			}
		case <-time.After(wait):
			cmd.Process.Kill()
			<-exited
			t.Errorf("pylsp did not exit within %v of its input ending", wait)
		}
	}()

	body := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":"file://%s","capabilities":{}}}`, p.Dir)
	if _, err := fmt.Fprintf(stdin, "Content-Length: %d\r\n\r\n%s", len(body), body); err != nil {
		t.Fatal(err)
	}
	var got []byte
	select {
	case got = <-reply:
	case <-time.After(wait):
		t.Fatalf("no reply to initialize within %v", wait)
	}
	var msg struct {
		ID     int `json:"id"`
		Result struct {
			ServerInfo struct{ Name string } `json:"serverInfo"`
		} `json:"result"`
	}
	if err := json.Unmarshal(got, &msg); err != nil || msg.ID != 1 || msg.Result.ServerInfo.Name != "pylsp" {
		t.Fatalf("reply %q (%v); want id 1 and serverInfo.name pylsp", got, err)
	}
}

// readLSP reads one LSP message by hand (headers, a blank line, the
// body) and returns its body, or nil if it cannot.
func readLSP(br *bufio.Reader) []byte {
	h, err := textproto.NewReader(br).ReadMIMEHeader()
	if err != nil {
		return nil
	}
	n, err := strconv.Atoi(h.Get("Content-Length"))
	if err != nil || n < 0 || n > 1<<20 {
		return nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(br, b); err != nil {
		return nil
	}
	return b
}

func TestInterpreter(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on PATH:", err)
	}
	tests := []struct {
		name, first, want, err string
	}{
		{"absolute", "#!/usr/bin/python3\n", "/usr/bin/python3", ""},
		{"with an argument", "#! /usr/bin/python3 -I\n", "/usr/bin/python3", ""},
		{"env", "#!/usr/bin/env sh\n", sh, ""},
		{"not a script", "\x7fELF", "", "not a script"},
		{"empty", "", "", "not a script"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "prog")
			if err := os.WriteFile(path, []byte(tc.first+"print(1)\n"), 0o700); err != nil {
				t.Fatal(err)
			}
			got, err := interpreter(path)
			if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("interpreter = %q, %v; want %q, error containing %q", got, err, tc.want, tc.err)
			}
		})
	}
}
