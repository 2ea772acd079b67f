// This file holds the wording of the errors that the handlers of Func
// and Positional return, aiorpcX's where it has one.

package handler

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gorpcx/gorpcx/protocol"
)

// badParam returns the error for a value that failed to decode with err
// into the parameter of the given name ("" if none) at the given
// position in the positional params (-1 if named).
func badParam(method string, pos int, name string, err error) error {
	var what string
	switch {
	case name != "" && pos >= 0:
		what = "argument " + strconv.Itoa(pos+1) + " (" + quoteEcho(name) + ")"
	case name != "":
		what = "parameter " + quoteEcho(name)
	default:
		what = "argument " + strconv.Itoa(pos+1)
	}
	return protocol.InvalidParams("invalid " + what + " to method " + quoteEcho(method) + ": " + decodeDetail(err))
}

// paramNameError returns the error for named params that lack the required
// names missing or hold the unknown names excess, or nil if both are
// empty. aiorpcX reports missing names first.
func paramNameError(method string, missing, excess []string) error {
	if len(missing) > 0 {
		// aiorpcX: f'method "{method}" requires parameter{s} {missing}'
		return protocol.InvalidParams("method " + quoteEcho(method) + " requires " + listParamNames(missing))
	}
	if len(excess) > 0 {
		// aiorpcX: f'method "{method}" does not take parameter{s} {excess}'
		return protocol.InvalidParams("method " + quoteEcho(method) + " does not take " + listParamNames(excess))
	}
	return nil
}

// listParamNames returns `parameter "a"` or `parameters "a", "b"` for the
// distinct names, sorted, as aiorpcX does; past maxExcessNames names, the
// rest are counted rather than listed, and each name is cut to maxEchoBytes
// bytes.
func listParamNames(names []string) string {
	slices.Sort(names)
	names = slices.Compact(names)
	var b strings.Builder
	b.WriteString("parameter")
	if len(names) != 1 {
		b.WriteByte('s')
	}
	for i, n := range names {
		if i == maxExcessNames {
			b.WriteString(" and " + strconv.Itoa(len(names)-i) + " more")
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte(' ')
		b.WriteString(quoteEcho(n))
	}
	return b.String()
}

// plural returns "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
}

// malformedParams returns the error for params that are not valid JSON.
func malformedParams(method string) error {
	return protocol.InvalidParams("invalid request arguments: params to method " + quoteEcho(method) + " are not valid JSON")
}

// quoteEcho returns s, cut to maxEchoBytes bytes, in double quotes, as aiorpcX
// quotes names (without escaping: the message is escaped when encoded).
func quoteEcho(s string) string {
	return `"` + cutEcho(s, maxEchoBytes) + `"`
}

// cutEcho returns s cut to at most n bytes, at the start of a rune.
func cutEcho(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// decodeDetail returns the text of a decoding error, cut to maxEchoBytes bytes: it
// may quote the peer's input (a long number, a custom decoder's message).
func decodeDetail(err error) string {
	s := err.Error()
	if len(s) <= maxEchoBytes {
		return s
	}
	return cutEcho(s, maxEchoBytes) + "..."
}
