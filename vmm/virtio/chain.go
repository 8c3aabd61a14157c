package virtio

import (
	"fmt"

	"github.com/runx-dev/runx/vmm/memory"
)

// Sizes of a chain's two parts.
func (c *Chain) Sizes() (readable, writable uint64) {
	for _, d := range c.Descs {
		if d.Write {
			writable += uint64(d.Len)
		} else {
			readable += uint64(d.Len)
		}
	}
	return readable, writable
}

// ReadAll copies the chain's device-readable bytes, at most limit of them
// (a guest's chain may name gigabytes).
func (c *Chain) ReadAll(mem *memory.Memory, limit uint64) ([]byte, error) {
	r, _ := c.Sizes()
	if r > limit {
		return nil, fmt.Errorf("a request of %d bytes: more than %d", r, limit)
	}
	b := make([]byte, 0, r)
	for _, d := range c.Descs {
		if d.Write {
			break
		}
		s, err := mem.Slice(d.Addr, uint64(d.Len))
		if err != nil {
			return nil, err
		}
		b = append(b, s...)
	}
	return b, nil
}

// Fill writes src into the chain's device-writable buffers, in order, and
// returns how many bytes went (fewer when they are too small).
func (c *Chain) Fill(mem *memory.Memory, src []byte) (int, error) {
	n := 0
	for _, d := range c.Descs {
		if !d.Write || n == len(src) {
			continue
		}
		s, err := mem.Slice(d.Addr, uint64(d.Len))
		if err != nil {
			return n, err
		}
		n += copy(s, src[n:])
	}
	return n, nil
}

// Drain pops every chain available in q, hands each to handle (which
// returns the bytes it wrote into the chain's buffers), returns them to
// the driver and raises the interrupt if the driver wants one. A malformed
// queue stops it with the error (Firecracker's stance: the device stops
// using the queue).
func Drain(a *Activation, q int, handle func(*Chain) (uint32, error)) error {
	queue := a.Queues[q]
	pushed := false
	for {
		c, err := queue.Pop(a.Mem)
		if err != nil {
			return fmt.Errorf("queue %d: %w", q, err)
		}
		if c == nil {
			break
		}
		n, err := handle(c)
		if err != nil {
			return fmt.Errorf("queue %d: %w", q, err)
		}
		if err := queue.Push(a.Mem, c.Head, n); err != nil {
			return fmt.Errorf("queue %d: %w", q, err)
		}
		pushed = true
	}
	if !pushed {
		return nil
	}
	if ok, err := queue.NeedsInterrupt(a.Mem); ok || err != nil {
		a.Interrupt(InterruptUsedBuffer)
	}
	return nil
}
