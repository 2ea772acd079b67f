package main

import (
	"bufio"
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAnswer(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"request", `{"jsonrpc":"2.0","id":7,"method":"echo","params":["abc"]}`,
			`{"jsonrpc":"2.0","result":"abc","id":7}` + "\n"},
		{"spaces and order", ` { "params" : [ {"a":[1,2]} , 3 ] , "id" : "x" } `,
			`{"jsonrpc":"2.0","result":{"a":[1,2]},"id":"x"}` + "\n"},
		{"notification", `{"jsonrpc":"2.0","method":"echo","params":["abc"]}`, ""},
		{"no params", `{"jsonrpc":"2.0","id":1,"method":"echo"}`, ""},
		{"named params", `{"jsonrpc":"2.0","id":1,"method":"echo","params":{"value":1}}`, ""},
		{"batch", `[{"id":1,"params":["a"]},{"params":["n"]},{"id":2,"params":[true]}]`,
			`[{"jsonrpc":"2.0","result":"a","id":1},{"jsonrpc":"2.0","result":true,"id":2}]` + "\n"},
		{"batch of notifications", `[{"params":["n"]}]`, ""},
		{"garbage", `}{`, ""},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		w := bufio.NewWriter(&out)
		answer(w, []byte(tt.in))
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, out.String()); diff != "" {
			t.Errorf("%s: answer (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestServePipelined(t *testing.T) {
	client, srv := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		serve(srv)
	}()
	_ = client.SetDeadline(time.Now().Add(10 * time.Second))
	go func() {
		_, _ = client.Write([]byte(`{"id":1,"params":["a"]}` + "\n" + `{"id":2,"params":["b"]}` + "\n" + `{"id":3,`))
		_, _ = client.Write([]byte(`"params":["c"]}` + "\n"))
	}()
	r := bufio.NewReader(client)
	var got []string
	for range 3 {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, line)
	}
	want := []string{
		`{"jsonrpc":"2.0","result":"a","id":1}` + "\n",
		`{"jsonrpc":"2.0","result":"b","id":2}` + "\n",
		`{"jsonrpc":"2.0","result":"c","id":3}` + "\n",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	_ = client.Close()
	<-done
}
