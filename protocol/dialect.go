package protocol

import (
	"fmt"
	"strconv"
	"strings"
)

// Dialect is a variety of JSON-RPC. The zero value is V2.
type Dialect uint8

// The dialects.
const (
	// V2 is JSON-RPC 2.0 as specified at jsonrpc.org (aiorpcX
	// JSONRPCv2).
	V2 Dialect = iota
	// V1 is JSON-RPC 1.0: no "jsonrpc" member, positional params
	// only, IDs of any type, no batches, responses written with both
	// "result" and "error" (aiorpcX JSONRPCv1). It reads a response
	// lacking one of them with the missing member null, as real 1.0
	// peers send them, unless Options.Strict is set.
	V1
	// Loose reads both 2.0 and 1.0 shapes with any "jsonrpc" value and
	// writes 2.0 (aiorpcX JSONRPCLoose).
	Loose
	// Auto detects the dialect from the first message decoded that is
	// not a parse error and keeps it; until then it writes 2.0 (aiorpcX
	// JSONRPCAutoDetect). A codec for it holds that state: see New.
	Auto
)

var dialectNames = [...]string{V2: "v2", V1: "v1", Loose: "loose", Auto: "auto"}

// String returns the dialect's name: "v2", "v1", "loose" or "auto".
func (d Dialect) String() string {
	if int(d) < len(dialectNames) {
		return dialectNames[d]
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// Batches reports whether the dialect allows batches: all but V1.
func (d Dialect) Batches() bool { return d != V1 }

// valid reports whether d is one of the four dialects.
func (d Dialect) valid() bool { return int(d) < len(dialectNames) }

// ParseDialect returns the dialect named s ("v2", "v1", "loose" or
// "auto", in any case). It returns an error for any other name.
func ParseDialect(s string) (Dialect, error) {
	for d, name := range dialectNames {
		if strings.EqualFold(s, name) {
			return Dialect(d), nil
		}
	}
	return V2, fmt.Errorf("protocol: unknown dialect %q (want v2, v1, loose or auto)", s)
}
