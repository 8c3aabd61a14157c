package microvm

import (
	"sync"
	"sync/atomic"
)

// Flow control on a Stream. ttrpc buffers 64 messages a stream on the
// receiving side and, when its reader has not taken one for a second with
// those full, ends the stream (ErrStreamFull): a container whose output
// outran a paused reader (a slow pipe, a terminal on hold) was reported
// killed, and stdin pushed at a program not reading it could end its stream
// the same way. So each side sends at most window data messages (stdout and
// stderr one way, stdin the other) that the other has not acknowledged
// having written out (Input.ack, Output.ack), and a slow reader holds the
// writer back as a pipe would.
const window = 32

// credits counts the messages a side may still send unacknowledged.
type credits struct {
	mu      sync.Mutex
	cond    *sync.Cond
	n       int
	closed  bool
	waiting atomic.Int32  // senders blocked in take
	sent    atomic.Uint64 // messages taken, ever
}

func newCredits() *credits {
	c := &credits{n: window}
	c.cond = sync.NewCond(&c.mu)
	return c
}

// take waits for a credit and uses it; false once the stream is over.
func (c *credits) take() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 && !c.closed {
		c.waiting.Add(1)
		for c.n == 0 && !c.closed {
			c.cond.Wait()
		}
		c.waiting.Add(-1)
	}
	if c.closed {
		return false
	}
	c.n--
	c.sent.Add(1)
	return true
}

// give returns n credits (the other side acknowledged n messages).
func (c *credits) give(n uint32) {
	c.mu.Lock()
	c.n = min(c.n+int(n), window)
	c.mu.Unlock()
	c.cond.Broadcast()
}

// close ends the stream's sending: takers return false.
func (c *credits) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cond.Broadcast()
}
