package framing

import "math"

// Limits. A limit field of a framer ([Newline.Max], [ContentLength.Max],
// [ContentLength.MaxHeader], [RawJSON.Max], [RawJSON.MaxDepth],
// [LengthPrefixed.Max], [VarintPrefixed.Max], [Bitcoin.MaxPayload],
// [Bitcoin.MaxBlockPayload]) that is zero means the default below, so that
// the zero value of every framer is ready to use on a public server; a
// negative value, such as [NoLimit], means no limit.
const (
	// DefaultMax is the default maximum message size of [Newline],
	// [ContentLength], [RawJSON], [LengthPrefixed] and [VarintPrefixed],
	// in bytes (as aiorpcX's NewlineFramer).
	DefaultMax = 1_000_000

	// DefaultMaxHeader is the default limit of a [ContentLength] header
	// block, in bytes, its blank line included: some fifty times what a
	// language server sends.
	DefaultMaxHeader = 4096

	// DefaultMaxDepth is the default nesting limit of [RawJSON]: the
	// deepest nesting of objects and arrays accepted (an empty array is
	// one level), the same as the protocol package's.
	DefaultMaxDepth = 256

	// DefaultMaxPayload is the default maximum payload size of a
	// [Bitcoin] message other than "block", in bytes.
	DefaultMaxPayload = 2_000_000

	// DefaultMaxBlockPayload is the default maximum payload size of a
	// [Bitcoin] "block" message, in bytes.
	DefaultMaxBlockPayload = 128_000_000

	// NoLimit, as a framer's size limit, lifts the limit: the reader
	// then buffers whatever the peer sends, within what the wire format
	// can express. Use it only with trusted peers.
	NoLimit = -1
)

// limit resolves a configured limit: 0 means def, a negative value means
// no limit and is returned as -1.
func limit(configured, def int) int {
	switch {
	case configured == 0:
		return def
	case configured < 0:
		return -1
	}
	return configured
}

// over reports whether size is over the resolved limit lim (-1: none).
func over(size int64, lim int) bool {
	return lim >= 0 && size > int64(lim)
}

// maxFrame is the largest frame a reader can hold in memory.
const maxFrame = math.MaxInt - 2*readSize
