// Package jsonscan validates and splits JSON text in place, strictly
// (RFC 8259 and valid UTF-8), without reflection or recursion, and
// without allocating unless nesting goes past 256 levels. It is the one
// JSON scanner of the module: package protocol decodes messages with
// it, and package handler splits the params of a request with it.
//
// A [Scanner] works on indexes into a byte slice and reports failures
// as an [Err] with the offending index, so that a caller can word its
// own error. [SplitArray] and [SplitObject] split an array or an
// object into its raw elements or members.
package jsonscan
