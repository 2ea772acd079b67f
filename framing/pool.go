package framing

import "sync"

const (
	// batchSize is the size past which WriteMessages writes what it has
	// framed so far and starts a new buffer.
	batchSize = 64 << 10

	// maxPooled is the largest buffer kept for reuse; larger ones, made
	// for large messages, are left to the garbage collector.
	maxPooled = 256 << 10
)

// bufPool holds write buffers, shared by all the writers of the package.
var bufPool = sync.Pool{
	New: func() any {
		b := make([]byte, 0, 1024)
		return &b
	},
}

// getBuf returns an empty buffer from the pool.
func getBuf() *[]byte {
	bp := bufPool.Get().(*[]byte)
	*bp = (*bp)[:0]
	return bp
}

// putBuf returns buf, which may have been grown from *bp, to the pool.
func putBuf(bp *[]byte, buf []byte) {
	if cap(buf) > maxPooled {
		return
	}
	*bp = buf[:0]
	bufPool.Put(bp)
}
