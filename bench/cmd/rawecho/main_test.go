package main

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gorpcx/gorpcx/bench/internal/startup"
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

// TestServeTLS: with -tls's configuration the echo answers over TLS 1.3,
// with an ECDSA P-256 certificate.
func TestServeTLS(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln = tls.NewListener(ln, startup.TLSConfig())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		serve(c)
	}()
	defer func() {
		_ = ln.Close()
		<-done
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte(`{"id":1,"params":["a"]}` + "\n")); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"jsonrpc":"2.0","result":"a","id":1}` + "\n"; line != want {
		t.Errorf("answer %q, want %q", line, want)
	}
	st := c.ConnectionState()
	if st.Version != tls.VersionTLS13 {
		t.Errorf("TLS version %x, want TLS 1.3", st.Version)
	}
	if len(st.PeerCertificates) != 1 {
		t.Fatalf("%d peer certificates, want one", len(st.PeerCertificates))
	}
	if k, ok := st.PeerCertificates[0].PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("certificate key %T, want ECDSA P-256", st.PeerCertificates[0].PublicKey)
	}
}
