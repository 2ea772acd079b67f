package session

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A peer that reads slowly but steadily is not taken for a stalled one,
// however long the session has been writing in all: the timeout is per
// write, though the timer stays armed across writes.
func TestSendStallSlowReader(t *testing.T) {
	const timeout = 300 * time.Millisecond
	s, peer := newRawPeer(t, &Options{Handler: echoParams, SendTimeout: timeout})
	const n = 12 // 12 × 50 ms of reading: twice the timeout
	sent := make(chan error, 1)
	go func() {
		for range n {
			if err := s.Notify(context.Background(), "tick", []int{1}); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	for range n {
		time.Sleep(50 * time.Millisecond)
		peer.recv()
	}
	if err := <-sent; err != nil {
		t.Fatalf("Notify: %v", err)
	}
	select {
	case <-s.Done():
		t.Fatalf("session ended: %v", s.Wait())
	default:
	}
}

// A write that stalls after others went through is caught, though the
// timer was armed by an earlier write.
func TestSendStallAfterWrites(t *testing.T) {
	s, peer := newRawPeer(t, &Options{Handler: echoParams, SendTimeout: 100 * time.Millisecond})
	for range 3 {
		done := make(chan error, 1)
		go func() { done <- s.Notify(context.Background(), "read", []int{1}) }()
		peer.recv()
		if err := <-done; err != nil {
			t.Fatalf("Notify: %v", err)
		}
		time.Sleep(40 * time.Millisecond) // the timer fires in between, or not
	}
	// The peer stops reading.
	go func() { _ = s.Notify(context.Background(), "nobody.reads", []int{1}) }()
	if err := waitEnded(t, s); !errors.Is(err, ErrSendStalled) {
		t.Errorf("ended with %v, want ErrSendStalled", err)
	}
}

// The timer does not stay armed once the session stops writing, and
// the next write arms it again: a stall is still caught.
func TestSendStallTimerDisarms(t *testing.T) {
	s, peer := newRawPeer(t, &Options{Handler: echoParams, SendTimeout: 30 * time.Millisecond})
	done := make(chan error, 1)
	go func() { done <- s.Notify(context.Background(), "read", []int{1}) }()
	peer.recv()
	if err := <-done; err != nil {
		t.Fatalf("Notify: %v", err)
	}
	waitFor(t, "the stall timer to disarm", func() bool { return !s.w.stall.armed.Load() })
	go func() { _ = s.Notify(context.Background(), "nobody.reads", []int{1}) }()
	if err := waitEnded(t, s); !errors.Is(err, ErrSendStalled) {
		t.Errorf("ended with %v, want ErrSendStalled", err)
	}
}

// waitEnded returns why s ended, failing the test if it has not ended
// within 5 s.
func waitEnded(t *testing.T, s *Session) error {
	t.Helper()
	select {
	case <-s.Done():
		return s.Wait()
	case <-time.After(5 * time.Second):
		t.Fatal("the session did not end")
		return nil
	}
}
