// Package framing turns a byte stream into messages and messages back
// into a byte stream: the layer between a connection and the RPC
// protocol.
//
// A [Framer] is one wire format. [Newline] ends each message with '\n'
// (the format of JSON-RPC over TCP in Electrum and aiorpcX);
// [LengthPrefixed] puts a 4-byte big-endian length before each message.
// [Bitcoin], the message format of the Bitcoin peer-to-peer protocol,
// carries (command, payload) pairs under a header with a network magic
// and a checksum, and has its own reader and [BitcoinStream].
//
// [NewStream] binds a framer to a connection and returns a [Stream]:
// read one whole message, write one whole message, close. The session
// layer consumes only that interface, which a WebSocket connection can
// satisfy directly.
//
// Every byte from the peer is untrusted. Each framer has a size limit
// with a default a public server can live with (the zero value of each
// framer is ready to use); readers never size a buffer from a length the
// peer announced, only from the bytes it actually sent, and hold at most
// the limit plus a few kilobytes. What a peer does wrong is reported as
// an error implementing [Error], a distinct type found with errors.As
// ([*TooLargeError], [*BadMagicError], [*BadChecksumError]) that says
// whether the stream can go on and what the offence should cost the
// peer.
//
// Concurrency: framers are configuration values, safe for concurrent
// use. A reader, and the ReadMessage method of a stream, serve one
// goroutine at a time. A stream's WriteMessage may be called from many
// goroutines at once: each message is framed and written with a single
// Write call, under a lock, so messages never interleave.
//
// Buffers: a message returned by a read is a slice of the reader's
// buffer, valid until the next read; copy it to keep it. Reading and
// writing in the steady state allocate nothing per message.
package framing
