package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"sync"
	"time"
)

// headerSize is the size of a Bitcoin block header.
const headerSize = 80

// regtestBits is the compact target of every regtest block (Electrum
// does not check proof of work on regtest).
const regtestBits = 0x207fffff

// blockVersion is the version field of the blocks this server makes.
const blockVersion = 0x20000000

// blockInterval is the time between the timestamps of the blocks the
// chain starts with.
const blockInterval = 600

// maxHeight bounds the chain: about 150 MB of headers, hashes and
// merkle nodes (144 bytes a block). Appending past it fails with errChainFull.
const maxHeight = 1_000_000

// regtestGenesisHex is the regtest genesis block header.
const regtestGenesisHex = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4adae5494dffff7f2002000000"

// header is a block header as it travels: 80 bytes.
type header [headerSize]byte

// hash32 is a double SHA-256 digest, in internal byte order.
type hash32 [32]byte

// String returns the hash as Bitcoin displays it: hex of the bytes
// reversed.
func (h hash32) String() string {
	var r hash32
	for i := range h {
		r[i] = h[len(h)-1-i]
	}
	return hex.EncodeToString(r[:])
}

// sha256d is Bitcoin's double SHA-256.
func sha256d(b []byte) hash32 {
	first := sha256.Sum256(b)
	return sha256.Sum256(first[:])
}

// hashPair is the merkle parent of a and b.
func hashPair(a, b hash32) hash32 {
	var buf [64]byte
	copy(buf[:32], a[:])
	copy(buf[32:], b[:])
	return sha256d(buf[:])
}

// hash returns the block hash of h.
func (h *header) hash() hash32 { return sha256d(h[:]) }

// prev returns the hash of the block h builds on.
func (h *header) prev() (p hash32) {
	copy(p[:], h[4:36])
	return p
}

// time returns h's timestamp, in seconds since 1970.
func (h *header) time() uint32 { return binary.LittleEndian.Uint32(h[68:72]) }

// regtestGenesis returns the regtest genesis header.
func regtestGenesis() header {
	var h header
	if n, err := hex.Decode(h[:], []byte(regtestGenesisHex)); err != nil || n != headerSize {
		panic("electrum-server: bad genesis header constant")
	}
	return h
}

// errNotOnTip is returned by chain.append for a header that does not
// build on the tip (a block another node mined on another tip).
var errNotOnTip = errors.New("header does not build on the tip")

// errChainFull is returned by chain.append at maxHeight.
var errChainFull = fmt.Errorf("the chain has reached its largest height, %d", maxHeight)

// chain is a synthetic regtest chain: the regtest genesis block and
// blocks made on it, each referencing the previous one's hash. It only
// grows. Its methods are safe for concurrent use.
type chain struct {
	limit int // the largest height, maxHeight but in tests

	mu      sync.RWMutex
	headers []header
	// levels[0] holds the block hashes; levels[l][j] is the merkle
	// node over the hashes of blocks j<<l to (j+1)<<l - 1, kept for
	// every complete one, so that a checkpoint proof is O(log n).
	levels [][]hash32
}

// newChain returns a chain of height blocks above the regtest genesis
// block. The blocks are a function of their height alone (their
// timestamps ten minutes apart from the genesis block's), so every node
// started with the same height has the same chain.
func newChain(height int) (*chain, error) {
	if height < 0 || height > maxHeight {
		return nil, fmt.Errorf("height %d is not between 0 and %d", height, maxHeight)
	}
	c := &chain{limit: maxHeight, headers: make([]header, 0, height+1)}
	g := regtestGenesis()
	c.push(g)
	for i := 1; i <= height; i++ {
		c.push(c.next(g.time() + uint32(i)*blockInterval))
	}
	return c, nil
}

// next returns a header that builds on the tip with timestamp t (at
// least one second after the tip's). c.mu must be held.
func (c *chain) next(t uint32) header {
	tip := &c.headers[len(c.headers)-1]
	height := uint32(len(c.headers))
	if t <= tip.time() {
		t = tip.time() + 1
	}
	var h header
	binary.LittleEndian.PutUint32(h[0:4], blockVersion)
	prev := c.levels[0][len(c.levels[0])-1]
	copy(h[4:36], prev[:])
	// The merkle root stands for the block's transactions; there are
	// none, so it is a hash of the height.
	var seed [32]byte
	root := sha256d(strconv.AppendUint(append(seed[:0], "gorpcx regtest block "...), uint64(height), 10))
	copy(h[36:68], root[:])
	binary.LittleEndian.PutUint32(h[68:72], t)
	binary.LittleEndian.PutUint32(h[72:76], regtestBits)
	binary.LittleEndian.PutUint32(h[76:80], height) // nonce
	return h
}

// push appends h and its merkle nodes. c.mu must be held.
func (c *chain) push(h header) {
	c.headers = append(c.headers, h)
	node := h.hash()
	for l := 0; ; l++ {
		if l == len(c.levels) {
			c.levels = append(c.levels, nil)
		}
		c.levels[l] = append(c.levels[l], node)
		n := len(c.levels[l])
		if n%2 == 1 {
			return
		}
		node = hashPair(c.levels[l][n-2], c.levels[l][n-1])
	}
}

// mine makes a block on the tip with the timestamp now and returns its
// height and header, or errChainFull.
func (c *chain) mine(now time.Time) (int, header, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.headers) > c.limit {
		return 0, header{}, errChainFull
	}
	h := c.next(uint32(now.Unix()))
	c.push(h)
	return len(c.headers) - 1, h, nil
}

// append adds h, a block received from elsewhere (another node of a
// fleet), on the tip and returns its height. It returns errNotOnTip if
// h does not reference the tip's hash, and errChainFull at maxHeight.
func (c *chain) append(h header) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h.prev() != c.levels[0][len(c.levels[0])-1] {
		return 0, errNotOnTip
	}
	if len(c.headers) > c.limit {
		return 0, errChainFull
	}
	c.push(h)
	return len(c.headers) - 1, nil
}

// tip returns the height and header of the last block.
func (c *chain) tip() (int, header) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.headers) - 1, c.headers[len(c.headers)-1]
}

// header returns the header at height, and false if there is none.
func (c *chain) header(height int) (header, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if height < 0 || height >= len(c.headers) {
		return header{}, false
	}
	return c.headers[height], true
}

// appendHeaders appends the hex of up to count headers from start on to
// dst, and returns it and how many there were (fewer than count past
// the tip, none from a start past it).
func (c *chain) appendHeaders(dst []byte, start, count int) ([]byte, int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if start < 0 || start >= len(c.headers) || count <= 0 {
		return dst, 0
	}
	end := min(len(c.headers), start+count)
	for i := start; i < end; i++ {
		dst = hex.AppendEncode(dst, c.headers[i][:])
	}
	return dst, end - start
}

// proof returns the merkle branch of the block at height in the tree of
// the hashes of blocks 0 to cpHeight, and the tree's root, as protocol
// 1.4's cp_height asks (the tree duplicates a level's last node when the
// level has an odd count, as Bitcoin's transaction trees do). It
// returns an error unless height <= cpHeight <= the tip's height. It
// costs O(log cpHeight) hashes.
func (c *chain) proof(height, cpHeight int) ([]hash32, hash32, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if height < 0 || height > cpHeight {
		return nil, hash32{}, fmt.Errorf("header height %d must be at most cp_height %d", height, cpHeight)
	}
	if cpHeight >= len(c.headers) {
		return nil, hash32{}, fmt.Errorf("cp_height %d is above the tip, %d", cpHeight, len(c.headers)-1)
	}
	n := cpHeight + 1
	depth := bits.Len(uint(n - 1))
	// edge[l] is the last node of level l of the tree of n leaves: the
	// only one that may differ from the stored node of the whole chain.
	edge := make([]hash32, depth+1)
	edge[0] = c.levels[0][n-1]
	count := n // nodes at level l
	for l := 1; l <= depth; l++ {
		last := count - 1 // of level l-1
		if last%2 == 0 {
			edge[l] = hashPair(edge[l-1], edge[l-1])
		} else {
			edge[l] = hashPair(c.levels[l-1][last-1], edge[l-1])
		}
		count = (count + 1) / 2
	}
	branch := make([]hash32, 0, depth)
	idx, count := height, n
	for l := range depth {
		sib := idx ^ 1
		switch {
		case sib >= count-1:
			// The level's last node, or idx itself when idx is last
			// of an odd count and pairs with itself.
			branch = append(branch, edge[l])
		default:
			branch = append(branch, c.levels[l][sib])
		}
		idx >>= 1
		count = (count + 1) / 2
	}
	return branch, edge[depth], nil
}
