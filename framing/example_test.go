package framing_test

import (
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
