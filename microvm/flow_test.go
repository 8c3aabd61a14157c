package microvm

import (
	"testing"
	"time"
)

// A side sends a window of messages, then waits for acknowledgements; a
// stream's end releases a waiting sender.
func TestCredits(t *testing.T) {
	c := newCredits()
	for i := 0; i < window; i++ {
		if !c.take() {
			t.Fatalf("take %d of the window failed", i)
		}
	}
	got := make(chan bool)
	go func() { got <- c.take() }()
	select {
	case <-got:
		t.Fatal("a take beyond the window did not wait")
	case <-time.After(20 * time.Millisecond):
	}
	if c.waiting.Load() != 1 {
		t.Errorf("waiting = %d, want 1", c.waiting.Load())
	}
	c.give(1)
	if !<-got {
		t.Fatal("an acknowledged message's credit was not given")
	}
	go func() { got <- c.take() }()
	time.Sleep(10 * time.Millisecond)
	c.close()
	if <-got {
		t.Error("take after the stream's end succeeded")
	}
	c.give(window * 4)
	if c.n > window {
		t.Errorf("credits grew past the window: %d", c.n)
	}
	if c.sent.Load() != window+1 {
		t.Errorf("sent = %d, want %d", c.sent.Load(), window+1)
	}
}
