package main

import "math/bits"

// The latency histogram is log-linear: values below 2^subBits
// nanoseconds have a bucket each, and every power of two above is split
// into 2^subBits equal buckets, so a bucket is never wider than 1/32
// (about 3 %) of the values it holds. Values of 2^maxBits ns (about
// 18 minutes) and more share the last bucket.
const (
	subBits = 5
	subs    = 1 << subBits
	maxBits = 40
	buckets = (maxBits - subBits + 1) * subs
)

// histogram counts latencies in nanoseconds in fixed buckets; adding a
// sample is a few arithmetic operations and allocates nothing.
type histogram struct {
	counts [buckets]uint64
	total  uint64
}

// bucketOf returns the bucket index of v nanoseconds.
func bucketOf(v uint64) int {
	if v < subs {
		return int(v)
	}
	msb := bits.Len64(v) - 1
	if msb >= maxBits {
		return buckets - 1
	}
	shift := msb - subBits
	return (shift+1)*subs + int(v>>shift) - subs
}

// bucketMid returns the middle of bucket i, in nanoseconds.
func bucketMid(i int) float64 {
	if i < subs {
		return float64(i)
	}
	shift := i/subs - 1
	low := uint64(subs+i%subs) << shift
	return float64(low) + float64(uint64(1)<<shift)/2
}

// add counts one sample of ns nanoseconds (negative counts as 0).
func (h *histogram) add(ns int64) {
	if ns < 0 {
		ns = 0
	}
	h.counts[bucketOf(uint64(ns))]++
	h.total++
}

// merge adds the counts of o to h.
func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
}

// quantile returns the q-quantile (0 < q ≤ 1) in nanoseconds: the middle
// of the bucket holding the ⌈q·total⌉-th smallest sample, or 0 when the
// histogram is empty.
func (h *histogram) quantile(q float64) float64 {
	if h.total == 0 {
		return 0
	}
	rank := uint64(q * float64(h.total))
	if float64(rank) < q*float64(h.total) {
		rank++
	}
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return bucketMid(i)
		}
	}
	return bucketMid(buckets - 1)
}
