package main

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
)

// payloadChars are the bytes of an echo value: none needs escaping in
// JSON, so every server writes the value back exactly as it was sent.
const payloadChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// makeValue returns the echo value of a connection: a JSON string of n
// random characters drawn from rng, with its quotes.
func makeValue(n int, rng *rand.Rand) []byte {
	v := make([]byte, 0, n+2)
	v = append(v, '"')
	for range n {
		v = append(v, payloadChars[rng.IntN(len(payloadChars))])
	}
	return append(v, '"')
}

// template is a request with a hole for its ID: prefix, the ID in
// decimal, suffix. A message is one request and '\n', or a batch of
// items requests with consecutive IDs, '[' … ']' and '\n'.
type template struct {
	prefix, suffix []byte
	items          int // 0: a single request, not a batch
}

// newTemplate returns the template of a request calling method (the
// echo method) with value, to be sent in batches of items requests (0
// for no batches). The method name is encoded as a JSON string once,
// here.
func newTemplate(method string, value []byte, items int) template {
	name, _ := json.Marshal(method) // a string always encodes
	suffix := append([]byte(`,"method":`), name...)
	suffix = append(suffix, `,"params":[`...)
	suffix = append(suffix, value...)
	return template{
		prefix: []byte(`{"jsonrpc":"2.0","id":`),
		suffix: append(suffix, "]}"...),
		items:  items,
	}
}

// appendMessage appends message number seq (from 0) to dst: the request
// of ID seq, or the batch of IDs seq·items to seq·items+items-1.
func (t *template) appendMessage(dst []byte, seq uint64) []byte {
	if t.items == 0 {
		dst = t.appendRequest(dst, seq)
		return append(dst, '\n')
	}
	dst = append(dst, '[')
	first := seq * uint64(t.items)
	for i := range uint64(t.items) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = t.appendRequest(dst, first+i)
	}
	return append(dst, ']', '\n')
}

func (t *template) appendRequest(dst []byte, id uint64) []byte {
	dst = append(dst, t.prefix...)
	dst = strconv.AppendUint(dst, id, 10)
	return append(dst, t.suffix...)
}
