// Package framing turns a byte stream into messages and messages back
// into a byte stream: the layer between a connection and the RPC
// protocol.
//
// A [Framer] is one wire format. Which one to use is the peer's choice:
//
//   - [Newline] ends each message with '\n': JSON-RPC over TCP in
//     Electrum, ElectrumX and aiorpcX, the stdio transport of the Model
//     Context Protocol, and many hand-written JSON-RPC servers.
//   - [ContentLength] puts a header with the message's length before it,
//     as the base protocol of the Language Server Protocol does (and the
//     Debug Adapter Protocol): language servers and debug adapters over
//     stdio or a socket; the header framings of x/tools' jsonrpc2,
//     creachadair/jrpc2 and sourcegraph/jsonrpc2 (VSCodeObjectCodec).
//   - [RawJSON] writes JSON objects and arrays back to back: Open
//     vSwitch's ovsdb-server (RFC 7047), geth's IPC socket,
//     sourcegraph/jsonrpc2's PlainObjectStream, and the raw framings of
//     x/tools' jsonrpc2 and creachadair/jrpc2.
//   - [LengthPrefixed] puts a 4-byte big-endian length before each
//     message; [VarintPrefixed] an unsigned varint length, as
//     sourcegraph/jsonrpc2's VarintObjectCodec.
//   - [Bitcoin], the message format of the Bitcoin peer-to-peer
//     protocol, carries (command, payload) pairs under a header with a
//     network magic and a checksum, and has its own reader and
//     [BitcoinStream].
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
// the limit plus a few kilobytes. A reader holds no buffer until the
// first byte arrives (it waits with one byte of room), and
// [Conn.ReleaseBuffer] lets an idle reader's buffer go, so a silent or
// idle connection holds none. What a peer does wrong is reported as
// an error implementing [Error], a distinct type found with errors.As
// ([*TooLargeError], [*FormatError], [*BadMagicError],
// [*BadChecksumError]) that says whether the stream can go on and what
// the offence should cost the peer. Where a reader can find the next
// message for certain (the end of a line, a length read from a header
// that was well formed, the end of a JSON value) the error is not fatal:
// the offending message is dropped as it arrives, without being
// buffered, and the next read goes on; where it cannot, the error is
// fatal and returned again by every later read.
//
// Framers of your own: any type with the two methods of [Framer] can be
// given to [NewStream], and a session runs over the stream as over the
// built-in ones. For its reader's errors to be treated as theirs, return
// an error that implements [Error] (found with errors.As, so it may be
// wrapped): [NewError] and [WrapError] make one. A session then charges
// the peer its base cost of an error plus the error's CostHint (a
// negative or NaN hint counts as 0); if the error is not fatal it drops
// the message and calls ReadMessage again, so the reader must be ready
// to return the next message, and if it is fatal the session closes with
// the error. An error that does not implement Error is taken for an I/O
// error: the session ends with it, uncharged. A reader that also has a
// Buffered() int method (the bytes read and not yet returned) lets a
// session write the replies to pipelined requests together, as for the
// built-in readers.
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
