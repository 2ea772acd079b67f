package session

import "sync"

// buffer is a pooled message buffer. Messages are encoded into one,
// queued for writing, and returned to the pool once written.
type buffer struct{ b []byte }

// maxPooled is the largest buffer kept for reuse; larger ones (a rare
// huge reply) are left to the garbage collector.
const maxPooled = 64 << 10

var bufferPool = sync.Pool{New: func() any { return &buffer{b: make([]byte, 0, 512)} }}

func getBuffer() *buffer { return bufferPool.Get().(*buffer) }

func putBuffer(b *buffer) {
	if cap(b.b) > maxPooled {
		return
	}
	b.b = b.b[:0]
	bufferPool.Put(b)
}
