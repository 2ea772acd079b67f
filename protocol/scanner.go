package protocol

import "github.com/gorpcx/gorpcx/internal/jsonscan"

// scanner is the module's JSON scanner, with what the codec adds to
// it: the scanning of JSON-RPC objects (see fields.go) and the wording
// of parse errors.
type scanner struct {
	jsonscan.Scanner
}

// newScanner returns a scanner of buf that allows maxDepth levels of
// nesting.
func newScanner(buf []byte, maxDepth int) scanner {
	return scanner{jsonscan.Scanner{Buf: buf, MaxDepth: maxDepth}}
}

// parseError returns the protocol error for a message that failed to
// scan at i: a -32700 error owing a reply with a null ID.
func (s *scanner) parseError(i int, err jsonscan.Err) *ProtocolError {
	msg := s.Describe(i, err)
	if err == jsonscan.BadUTF8 {
		msg = "messages must be encoded in UTF-8" // aiorpcX's wording
	}
	return newProtocolError(CodeParseError, msg, nil, false)
}
