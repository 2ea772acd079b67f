package session

import (
	"sync"

	"github.com/gorpcx/gorpcx/protocol"
)

// batchReply gathers the replies to the items of one incoming batch
// and sends them as one array when the last item is done. Items that
// need no reply (notifications) add nothing; a batch with nothing to
// say sends nothing.
type batchReply struct {
	s     *Session
	mu    sync.Mutex
	refs  int // the reader's hold plus one per item being processed
	parts []*buffer
	size  int
	bytes int // of the session's incoming budget, held until the last release
}

func newBatchReply(s *Session) *batchReply {
	return &batchReply{s: s, refs: 1}
}

// hold counts one more item in progress.
func (b *batchReply) hold() {
	b.mu.Lock()
	b.refs++
	b.mu.Unlock()
}

// takeBytes notes n more bytes of the incoming budget held by the
// batch (its message, charged with its first item kept).
func (b *batchReply) takeBytes(n int) {
	b.mu.Lock()
	b.bytes += n
	b.mu.Unlock()
}

// giveBytes gives the batch's bytes back to the session's budget, once.
func (b *batchReply) giveBytes() {
	b.mu.Lock()
	n := b.bytes
	b.bytes = 0
	b.mu.Unlock()
	if n > 0 {
		b.s.acct.give(int64(n))
		b.s.wakeReaderIfWaiting()
	}
}

// add keeps one item's encoded reply. Like aiorpcX, once the replies
// so far add up to more than the response size limit, each further
// reply is replaced by the "response too large" error.
func (b *batchReply) add(id []byte, part *buffer) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.size += len(part.b) + 2
	if max := b.s.cfg.maxResponseSize; max > 0 && b.size > max {
		part.b = b.s.oversized(part.b[:0], id)
	}
	b.parts = append(b.parts, part)
}

// release ends one hold; the last sends the batch. flush is false on
// the reader goroutine, which must never block on a write.
func (b *batchReply) release(flush bool) {
	b.mu.Lock()
	b.refs--
	if b.refs > 0 {
		b.mu.Unlock()
		return
	}
	parts := b.parts
	b.parts = nil
	b.mu.Unlock()
	b.giveBytes()
	if len(parts) == 0 {
		return
	}
	buf := getBuffer()
	buf.b, _ = protocol.AppendBatch(buf.b[:0], len(parts), func(dst []byte, i int) ([]byte, error) {
		return append(dst, parts[i].b...), nil
	})
	for _, p := range parts {
		putBuffer(p)
	}
	b.s.w.send(buf, flush)
}
