package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/gorpcx/gorpcx/pubsub"
)

func TestGenesis(t *testing.T) {
	c, err := newChain(0)
	if err != nil {
		t.Fatal(err)
	}
	height, g := c.tip()
	if height != 0 || hex.EncodeToString(g[:]) != regtestGenesisHex {
		t.Fatalf("tip = %d %x, want the regtest genesis block", height, g)
	}
	const want = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
	if got := g.hash().String(); got != want {
		t.Fatalf("genesis hash %s, want %s", got, want)
	}
}

// checkLinks checks that every header of c references the previous
// one's hash, has regtest bits and a later timestamp.
func checkLinks(t *testing.T, c *chain) {
	t.Helper()
	height, _ := c.tip()
	prev, _ := c.header(0)
	for i := 1; i <= height; i++ {
		h, ok := c.header(i)
		if !ok {
			t.Fatalf("no header at %d of %d", i, height)
		}
		if h.prev() != prev.hash() {
			t.Fatalf("header %d references %s, not %s", i, h.prev(), prev.hash())
		}
		if bits := binary.LittleEndian.Uint32(h[72:76]); bits != regtestBits {
			t.Fatalf("header %d has bits %#x", i, bits)
		}
		if h.time() <= prev.time() {
			t.Fatalf("header %d has time %d, not after %d", i, h.time(), prev.time())
		}
		prev = h
	}
}

func TestChainGrows(t *testing.T) {
	c, err := newChain(10)
	if err != nil {
		t.Fatal(err)
	}
	same, _ := newChain(10)
	for i := 0; i <= 10; i++ {
		a, _ := c.header(i)
		b, _ := same.header(i)
		if a != b {
			t.Fatalf("two chains of height 10 differ at %d", i)
		}
	}
	// A clock behind the tip still gives increasing timestamps.
	for i, now := range []time.Time{time.Unix(0, 0), time.Now(), time.Now()} {
		height, h, err := c.mine(now)
		if err != nil || height != 11+i {
			t.Fatalf("mine = %d, %v; want %d", height, err, 11+i)
		}
		if got, _ := c.header(height); got != h {
			t.Fatalf("header %d is not the one mined", height)
		}
	}
	checkLinks(t, c)

	// A block from elsewhere is appended when it builds on the tip.
	other, _ := newChain(10)
	for range 3 {
		if _, _, err := other.mine(time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	_, foreign := other.tip()
	if _, err := c.append(foreign); !errors.Is(err, errNotOnTip) {
		t.Fatalf("append of a block on another tip: %v, want errNotOnTip", err)
	}
	_, tip := c.tip()
	c.mu.Lock()
	next := c.next(tip.time() + 600)
	c.mu.Unlock()
	height, err := c.append(next)
	if err != nil || height != 14 {
		t.Fatalf("append = %d, %v; want 14", height, err)
	}
	checkLinks(t, c)
}

func TestChainLimits(t *testing.T) {
	for _, h := range []int{-1, maxHeight + 1} {
		if _, err := newChain(h); err == nil {
			t.Errorf("newChain(%d) made a chain", h)
		}
	}
	c, err := newChain(12)
	if err != nil {
		t.Fatal(err)
	}
	c.limit = 13
	if _, _, err := c.mine(time.Now()); err != nil {
		t.Fatalf("mine below the largest height: %v", err)
	}
	if _, _, err := c.mine(time.Now()); !errors.Is(err, errChainFull) {
		t.Fatalf("mine at the largest height: %v, want errChainFull", err)
	}
	_, tip := c.tip()
	c.mu.Lock()
	next := c.next(tip.time() + 1)
	c.mu.Unlock()
	if _, err := c.append(next); !errors.Is(err, errChainFull) {
		t.Fatalf("append at the largest height: %v, want errChainFull", err)
	}
}

func TestAppendHeaders(t *testing.T) {
	c, _ := newChain(5)
	tests := []struct {
		start, count, want int
	}{
		{0, 6, 6},
		{2, 2, 2},
		{4, 10, 2},
		{5, 1, 1},
		{6, 1, 0},
		{-1, 1, 0},
		{0, 0, 0},
	}
	for _, tt := range tests {
		buf, n := c.appendHeaders(nil, tt.start, tt.count)
		if n != tt.want || len(buf) != 2*headerSize*n {
			t.Errorf("appendHeaders(%d, %d) = %d headers in %d bytes, want %d", tt.start, tt.count, n, len(buf), tt.want)
			continue
		}
		for i := range n {
			h, _ := c.header(tt.start + i)
			if got := string(buf[2*headerSize*i : 2*headerSize*(i+1)]); got != hex.EncodeToString(h[:]) {
				t.Errorf("appendHeaders(%d, %d): header %d differs", tt.start, tt.count, i)
			}
		}
	}
}

// naiveProof is ElectrumX's branch_and_root over the hashes of blocks 0
// to cpHeight, for the block at height: the reference proof's own
// algorithm, level by level over the whole list.
func naiveProof(c *chain, height, cpHeight int) ([]hash32, hash32) {
	hashes := make([]hash32, cpHeight+1)
	for i := range hashes {
		h, _ := c.header(i)
		hashes[i] = h.hash()
	}
	var branch []hash32
	index := height
	for len(hashes) > 1 {
		if len(hashes)%2 == 1 {
			hashes = append(hashes, hashes[len(hashes)-1])
		}
		branch = append(branch, hashes[index^1])
		index >>= 1
		next := make([]hash32, len(hashes)/2)
		for i := range next {
			next[i] = hashPair(hashes[2*i], hashes[2*i+1])
		}
		hashes = next
	}
	return branch, hashes[0]
}

func TestProof(t *testing.T) {
	c, err := newChain(70)
	if err != nil {
		t.Fatal(err)
	}
	for cp := 0; cp <= 70; cp++ {
		for height := 0; height <= cp; height++ {
			branch, root, err := c.proof(height, cp)
			if err != nil {
				t.Fatalf("proof(%d, %d): %v", height, cp, err)
			}
			wantBranch, wantRoot := naiveProof(c, height, cp)
			if root != wantRoot || fmt.Sprint(branch) != fmt.Sprint(wantBranch) {
				t.Fatalf("proof(%d, %d) = %v %v, want %v %v", height, cp, branch, root, wantBranch, wantRoot)
			}
		}
	}
	for _, tt := range [][2]int{{5, 4}, {-1, 3}, {3, 71}} {
		if _, _, err := c.proof(tt[0], tt[1]); err == nil {
			t.Errorf("proof(%d, %d) has no error", tt[0], tt[1])
		}
	}
}

func TestAppendBlock(t *testing.T) {
	hub, err := pubsub.NewHub(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	if err := hub.Declare(headersTopic, headersSubscription); err != nil {
		t.Fatal(err)
	}
	here, _ := newChain(5)
	var out bytes.Buffer
	n := &node{chain: here, hub: hub, log: zap.NewNop(), out: &out}

	// Another node of a fleet mines two blocks on the same chain.
	there, _ := newChain(5)
	var mined []header
	for range 2 {
		_, h, err := there.mine(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		mined = append(mined, h)
	}
	ctx := context.Background()
	if err := n.appendBlock(ctx, mined[1]); !errors.Is(err, errNotOnTip) {
		t.Fatalf("appending block 7 on 5: %v, want errNotOnTip", err)
	}
	for _, h := range mined {
		if err := n.appendBlock(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	if height, tip := here.tip(); height != 7 || tip != mined[1] {
		t.Fatalf("tip %d %s, want 7 %s", height, tip.hash(), mined[1].hash())
	}
	want := fmt.Sprintf("block 6 %s\nblock 7 %s\n", mined[0].hash(), mined[1].hash())
	if out.String() != want {
		t.Fatalf("printed %q, want %q", out.String(), want)
	}
	if st, _ := hub.Stats(headersTopic); st.Published != 2 {
		t.Fatalf("published %d tips, want 2", st.Published)
	}
}
