// Package virtio is what every virtio device of the VMM shares: the split
// virtqueue (virtio 1.x, 2.7) and, with the devices, the MMIO transport.
// Each device lives in its own folder under vmm/devices.
package virtio

import (
	"errors"
	"fmt"

	"github.com/runx-dev/runx/vmm/memory"
)

// Descriptor flags (2.7.5).
const (
	descNext     = 1
	descWrite    = 2
	descIndirect = 4
)

// availNoInterrupt: the driver wants no interrupt (2.7.6).
const availNoInterrupt = 1

// MaxQueueSize is the largest queue a device offers (a power of two, as the
// split ring requires).
const MaxQueueSize = 256

// Queue is one split virtqueue as the device sees it: where the driver put
// its three parts, and how far the device has got.
type Queue struct {
	Size       uint16 // set by the driver, at most MaxQueueSize
	Ready      bool
	Desc       uint64 // descriptor table
	Avail      uint64 // driver area
	Used       uint64 // device area
	EventIdx   bool   // VIRTIO_F_EVENT_IDX was negotiated
	nextAvail  uint16 // the next avail ring entry to take
	nextUsed   uint16 // the next used ring entry to fill
	signalUsed uint16 // nextUsed when the driver was last notified
	lastIdx    uint16 // the driver's index as Pop last read it
}

// Desc is one buffer of a chain: guest memory the device reads (Write
// false) or writes.
type Desc struct {
	Addr  uint64
	Len   uint32
	Write bool
}

// Chain is one request: the buffers of one descriptor chain, the readable
// ones first (2.7.4.2: a driver puts device-writable after device-readable
// buffers).
type Chain struct {
	Head  uint16
	Descs []Desc
}

// Errors of a malformed queue or chain: the device reports them by failing
// (as Firecracker, it does not try to go on with the queue).
var (
	ErrNotReady  = errors.New("the queue is not ready")
	ErrQueueSize = errors.New("the queue size is not a power of two up to the maximum")
	ErrAvailIdx  = errors.New("the driver made more buffers available than the queue holds")
	ErrDescIndex = errors.New("a descriptor index beyond the table")
	ErrChainLoop = errors.New("a descriptor chain longer than its table (a loop)")
	ErrIndirect  = errors.New("a malformed indirect descriptor")
	ErrOrder     = errors.New("a device-readable buffer after a device-writable one")
)

// Valid checks what the driver set before it made the queue ready.
func (q *Queue) Valid(mem *memory.Memory) error {
	if q.Size == 0 || q.Size > MaxQueueSize || q.Size&(q.Size-1) != 0 {
		return fmt.Errorf("size %d: %w", q.Size, ErrQueueSize)
	}
	n := uint64(q.Size)
	for _, part := range []struct {
		name       string
		addr, size uint64
		align      uint64
	}{
		{"descriptor table", q.Desc, 16 * n, 16},
		{"driver area", q.Avail, 6 + 2*n, 2},
		{"device area", q.Used, 6 + 8*n, 4},
	} {
		if part.addr%part.align != 0 {
			return fmt.Errorf("the %s at %#x is not %d-byte aligned", part.name, part.addr, part.align)
		}
		if _, err := mem.Slice(part.addr, part.size); err != nil {
			return fmt.Errorf("the %s: %w", part.name, err)
		}
	}
	return nil
}

// availIdx is the driver's avail index (the ring's second 16-bit word).
func (q *Queue) availIdx(mem *memory.Memory) (uint16, error) {
	if q.Avail%4 == 0 {
		w, err := mem.LoadU32(q.Avail)
		return uint16(w >> 16), err
	}
	return mem.U16(q.Avail + 2)
}

// Pop takes the next chain the driver made available; nil when there is none.
func (q *Queue) Pop(mem *memory.Memory) (*Chain, error) {
	if !q.Ready {
		return nil, ErrNotReady
	}
	idx, err := q.availIdx(mem)
	if err != nil {
		return nil, err
	}
	q.lastIdx = idx
	if idx == q.nextAvail {
		return nil, nil
	}
	if uint16(idx-q.nextAvail) > q.Size {
		return nil, fmt.Errorf("avail index %d, %d taken: %w", idx, q.nextAvail, ErrAvailIdx)
	}
	head, err := mem.U16(q.Avail + 4 + 2*uint64(q.nextAvail%q.Size))
	if err != nil {
		return nil, err
	}
	c, err := q.chain(mem, head)
	if err != nil {
		return nil, err
	}
	q.nextAvail++
	if q.EventIdx {
		// avail_event: tell the driver which index to notify at next.
		if err := q.setAvailEvent(mem, q.nextAvail); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// setAvailEvent writes avail_event, then fences: the next read of the
// driver's index must not pass it (the driver writes its index, fences,
// reads avail_event).
func (q *Queue) setAvailEvent(mem *memory.Memory, v uint16) error {
	if err := mem.PutU16(q.Used+4+8*uint64(q.Size), v); err != nil {
		return err
	}
	memory.Fence()
	return nil
}

// Undo gives back the last n chains Pop took, unused: a device that found
// too few buffers for a packet takes them again later. It asks the driver
// for a notification at its next buffer and says whether buffers came
// since Pop found none (then the device tries again now: no notification
// will come for those).
func (q *Queue) Undo(mem *memory.Memory, n uint16) (retry bool, err error) {
	q.nextAvail -= n
	if !q.EventIdx {
		// The driver notifies at every buffer: one made meanwhile has
		// fired the kick already.
		return false, nil
	}
	// avail_event at the driver's index now, not at the chains given
	// back: those are behind it, and the driver notifies only when its
	// index passes avail_event.
	seen := q.lastIdx
	idx, err := q.availIdx(mem)
	if err != nil {
		return false, err
	}
	if err := q.setAvailEvent(mem, idx); err != nil {
		return false, err
	}
	now, err := q.availIdx(mem)
	return now != seen, err
}

// chain walks the descriptors from head, following one indirect table.
func (q *Queue) chain(mem *memory.Memory, head uint16) (*Chain, error) {
	if head >= q.Size {
		return nil, fmt.Errorf("head %d of %d: %w", head, q.Size, ErrDescIndex)
	}
	c := &Chain{Head: head}
	table, size := q.Desc, uint32(q.Size)
	i, indirect := uint32(head), false
	for seen := uint32(0); ; seen++ {
		if seen >= size {
			return nil, ErrChainLoop
		}
		at := table + 16*uint64(i)
		addr, err := mem.U64(at)
		if err != nil {
			return nil, err
		}
		length, err := mem.U32(at + 8)
		if err != nil {
			return nil, err
		}
		flags, err := mem.U16(at + 12)
		if err != nil {
			return nil, err
		}
		next, err := mem.U16(at + 14)
		if err != nil {
			return nil, err
		}
		if flags&descIndirect != 0 {
			// 2.7.5.3.1: not inside an indirect table, not with NEXT, a
			// whole number of descriptors, and the chain's only one.
			if indirect || flags&descNext != 0 || length == 0 || length%16 != 0 || len(c.Descs) != 0 {
				return nil, ErrIndirect
			}
			if _, err := mem.Slice(addr, uint64(length)); err != nil {
				return nil, fmt.Errorf("indirect table: %w", err)
			}
			table, size, i, indirect = addr, length/16, 0, true
			seen = ^uint32(0) // the loop's ++ makes it 0: the table's first
			continue
		}
		if _, err := mem.Slice(addr, uint64(length)); err != nil {
			return nil, fmt.Errorf("descriptor %d: %w", i, err)
		}
		write := flags&descWrite != 0
		if !write && len(c.Descs) > 0 && c.Descs[len(c.Descs)-1].Write {
			return nil, ErrOrder
		}
		c.Descs = append(c.Descs, Desc{Addr: addr, Len: length, Write: write})
		if flags&descNext == 0 {
			return c, nil
		}
		if uint32(next) >= size {
			return nil, fmt.Errorf("next %d of %d: %w", next, size, ErrDescIndex)
		}
		i = uint32(next)
	}
}

// Push returns a chain to the driver, with the number of bytes the device
// wrote into its buffers.
func (q *Queue) Push(mem *memory.Memory, head uint16, written uint32) error {
	at := q.Used + 4 + 8*uint64(q.nextUsed%q.Size)
	if err := mem.PutU32(at, uint32(head)); err != nil {
		return err
	}
	if err := mem.PutU32(at+4, written); err != nil {
		return err
	}
	q.nextUsed++
	// The index last, with a fence: the driver reads the entry after it.
	// The device area's first word is flags (the device's: 0) and index.
	return mem.StoreU32(q.Used, uint32(q.nextUsed)<<16)
}

// NeedsInterrupt says whether the driver wants an interrupt for the used
// buffers pushed since the last time it said yes (2.7.7.2, 2.7.10).
func (q *Queue) NeedsInterrupt(mem *memory.Memory) (bool, error) {
	old := q.signalUsed
	q.signalUsed = q.nextUsed
	if !q.EventIdx {
		flags, err := mem.U16(q.Avail)
		return flags&availNoInterrupt == 0, err
	}
	// used_event, after the avail ring.
	event, err := mem.U16(q.Avail + 4 + 2*uint64(q.Size))
	if err != nil {
		return true, err
	}
	return q.nextUsed-event-1 < q.nextUsed-old, nil
}

// Reset forgets the queue (the driver reset the device).
func (q *Queue) Reset() { *q = Queue{} }
