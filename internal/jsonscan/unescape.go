package jsonscan

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// unescapeByte maps the letter after a backslash to the byte it
// stands for (all but 'u').
var unescapeByte = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// hex4 returns the value of the four hex digits at the start of b,
// which the scanner has checked.
func hex4(b []byte) rune {
	return unhex(b[0])<<12 | unhex(b[1])<<8 | unhex(b[2])<<4 | unhex(b[3])
}

// AppendUnescaped appends the contents of a JSON string, raw (without
// its quotes, already validated by a [Scanner]), with its escape
// sequences decoded. A \u escape of half a surrogate pair that is not
// part of a pair becomes U+FFFD, as in encoding/json.
func AppendUnescaped(dst, raw []byte) []byte {
	for len(raw) > 0 {
		j := bytes.IndexByte(raw, '\\')
		if j < 0 {
			return append(dst, raw...)
		}
		dst = append(dst, raw[:j]...)
		raw = raw[j:]
		if raw[1] != 'u' {
			dst = append(dst, unescapeByte[raw[1]])
			raw = raw[2:]
			continue
		}
		r := hex4(raw[2:])
		raw = raw[6:]
		if utf16.IsSurrogate(r) {
			r2 := rune(-1)
			if r < 0xdc00 && len(raw) >= 6 && raw[0] == '\\' && raw[1] == 'u' {
				r2 = hex4(raw[2:])
			}
			if r = utf16.DecodeRune(r, r2); r != utf8.RuneError {
				raw = raw[6:]
			}
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}
