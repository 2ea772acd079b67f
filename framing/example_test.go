package framing_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/gorpcx/gorpcx/framing"
)

// A client and a server exchange newline-framed messages over a
// connection (here an in-memory net.Pipe).
func ExampleNewStream() {
	clientConn, serverConn := net.Pipe()
	client := framing.NewStream(framing.Newline{}, clientConn)
	server := framing.NewStream(framing.Newline{}, serverConn)
	defer server.Close()

	go func() {
		defer client.Close()
		client.WriteMessage([]byte(`{"jsonrpc":"2.0","method":"server.version","id":1}`))
		client.WriteMessages([][]byte{
			[]byte(`{"jsonrpc":"2.0","method":"server.ping","id":2}`),
			[]byte(`{"jsonrpc":"2.0","method":"server.ping","id":3}`),
		})
	}()

	for {
		msg, err := server.ReadMessage()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println("error:", err)
			break
		}
		fmt.Printf("%s\n", msg)
	}
	// Output:
	// {"jsonrpc":"2.0","method":"server.version","id":1}
	// {"jsonrpc":"2.0","method":"server.ping","id":2}
	// {"jsonrpc":"2.0","method":"server.ping","id":3}
}

// A line over the limit is reported and skipped; the reader goes on with
// the next line.
func ExampleNewline() {
	input := "hello\nthis line is far too long\nworld\n"
	r := framing.Newline{Max: 10}.NewReader(strings.NewReader(input))
	for {
		msg, err := r.ReadMessage()
		if err == io.EOF {
			break
		}
		var fe framing.Error
		if errors.As(err, &fe) {
			fmt.Printf("%v (fatal: %v, cost: %v)\n", err, fe.Fatal(), fe.CostHint())
			if fe.Fatal() {
				break
			}
			continue
		}
		if err != nil {
			fmt.Println("error:", err)
			break
		}
		fmt.Printf("%s\n", msg)
	}
	// Output:
	// hello
	// framing: message over the limit of 10 bytes (fatal: false, cost: 500)
	// world
}

// A Bitcoin message is a command and a payload behind a header.
func ExampleBitcoin() {
	mainnet := framing.Bitcoin{Magic: [4]byte{0xf9, 0xbe, 0xb4, 0xd9}}
	wire, err := mainnet.AppendMessage(nil, "verack", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("% x\n", wire)

	m, err := mainnet.NewReader(strings.NewReader(string(wire))).ReadMessage()
	fmt.Printf("%q %d bytes %v\n", m.Command, len(m.Payload), err)

	_, err = framing.Bitcoin{}.NewReader(strings.NewReader(string(wire))).ReadMessage()
	var bad *framing.BadMagicError
	fmt.Println(errors.As(err, &bad), bad.Fatal())
	// Output:
	// f9 be b4 d9 76 65 72 61 63 6b 00 00 00 00 00 00 00 00 00 00 5d f6 e0 e2
	// "verack" 0 bytes <nil>
	// true true
}

// Two peers exchange Bitcoin messages over a connection.
func ExampleNewBitcoinStream() {
	a, b := net.Pipe()
	peer := framing.NewBitcoinStream(framing.Bitcoin{}, a)
	node := framing.NewBitcoinStream(framing.Bitcoin{}, b)
	defer node.Close()

	go func() {
		defer peer.Close()
		peer.WriteMessage("ping", []byte{1, 2, 3, 4, 5, 6, 7, 8})
	}()

	m, err := node.ReadMessage()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %x\n", m.Command, m.Payload)
	// Output:
	// ping 0102030405060708
}

// A language server's messages: a header with the length, a blank line,
// the JSON. A length over the limit is skipped, and the stream goes on.
func ExampleContentLength() {
	lsp := framing.ContentLength{Max: 100}
	wire, _ := lsp.AppendFrame(nil, []byte(`{"jsonrpc":"2.0","id":1,"method":"shutdown"}`))
	fmt.Printf("%q\n", wire)

	input := string(wire) +
		"Content-Length: 5000\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" + strings.Repeat(" ", 5000) +
		"content-length: 33\r\n\r\n" + `{"jsonrpc":"2.0","method":"exit"}`
	r := lsp.NewReader(strings.NewReader(input))
	for {
		msg, err := r.ReadMessage()
		if err == io.EOF {
			break
		}
		var fe framing.Error
		if errors.As(err, &fe) {
			fmt.Printf("%v (fatal: %v)\n", err, fe.Fatal())
			if fe.Fatal() {
				break
			}
			continue
		}
		if err != nil {
			fmt.Println("error:", err)
			break
		}
		fmt.Printf("%s\n", msg)
	}
	// Output:
	// "Content-Length: 44\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"shutdown\"}"
	// {"jsonrpc":"2.0","id":1,"method":"shutdown"}
	// framing: message of 5000 bytes over the limit of 100 bytes (fatal: false)
	// {"jsonrpc":"2.0","method":"exit"}
}

// JSON values back to back, as ovsdb-server writes them: each object or
// array is a message. A top-level scalar is skipped; bytes that are not
// JSON end the stream.
func ExampleRawJSON() {
	input := `{"id":0,"method":"echo","params":[]}{"id":0,"result":[],"error":null}` + "\n" +
		`"stray" [1,[2,[3]]] } {"lost":true}`
	r := framing.RawJSON{}.NewReader(strings.NewReader(input))
	for {
		msg, err := r.ReadMessage()
		if err == io.EOF {
			break
		}
		var fe framing.Error
		if errors.As(err, &fe) {
			fmt.Printf("%v\n", err)
			if fe.Fatal() {
				break
			}
			continue
		}
		if err != nil {
			fmt.Println("error:", err)
			break
		}
		fmt.Printf("%s\n", msg)
	}
	// Output:
	// {"id":0,"method":"echo","params":[]}
	// {"id":0,"result":[],"error":null}
	// framing: bad JSON framing: top-level value is a string, not an object or an array; message skipped
	// [1,[2,[3]]]
	// framing: bad JSON framing: byte '}' where a JSON value should start; the stream cannot continue
}

// Each message behind its length as an unsigned varint.
func ExampleVarintPrefixed() {
	wire, _ := framing.VarintPrefixed{}.AppendFrame(nil, []byte(strings.Repeat("x", 300)))
	fmt.Printf("% x\n", wire[:3])

	msg, err := framing.VarintPrefixed{}.NewReader(strings.NewReader(string(wire))).ReadMessage()
	fmt.Println(len(msg), err)

	_, err = framing.VarintPrefixed{Max: 100}.NewReader(strings.NewReader(string(wire))).ReadMessage()
	fmt.Println(err)
	// Output:
	// ac 02 78
	// 300 <nil>
	// framing: message of 300 bytes over the limit of 100 bytes; the stream cannot continue
}

// tabFramer is a framer written outside this package: tab-separated
// messages, of which an empty one is refused with an error that is not
// fatal, so that a session charges the peer and reads on.
type tabFramer struct{}

func (tabFramer) AppendFrame(dst, msg []byte) ([]byte, error) {
	if strings.IndexByte(string(msg), '\t') >= 0 {
		return dst, errors.New("tab in message")
	}
	return append(append(dst, msg...), '\t'), nil
}

func (tabFramer) NewReader(r io.Reader) framing.Reader {
	return &tabReader{br: bufio.NewReader(r)}
}

type tabReader struct{ br *bufio.Reader }

func (t *tabReader) ReadMessage() ([]byte, error) {
	msg, err := t.br.ReadSlice('\t')
	if err != nil {
		return nil, err
	}
	if len(msg) == 1 {
		// A session adds its base cost of an error (100) to 50.
		return nil, framing.NewError("tab framing: empty message", false, 50)
	}
	return msg[:len(msg)-1], nil
}

// A framer of one's own reports what the peer did wrong with
// framing.NewError, and gets the treatment of the built-in framers.
func ExampleNewError() {
	r := tabFramer{}.NewReader(strings.NewReader("one\t\ttwo\t"))
	for {
		msg, err := r.ReadMessage()
		if err == io.EOF {
			break
		}
		var fe framing.Error
		if errors.As(err, &fe) {
			fmt.Printf("%v (fatal: %v, cost: %v)\n", err, fe.Fatal(), fe.CostHint())
			continue
		}
		fmt.Printf("%s\n", msg)
	}
	// Output:
	// one
	// tab framing: empty message (fatal: false, cost: 50)
	// two
}
