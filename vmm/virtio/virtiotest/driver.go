// Package virtiotest is a guest driver for devices' unit tests: it sets a
// device up through its MMIO transport as Linux's virtio_mmio does, offers
// buffers and reads back what the device returned, without KVM.
package virtiotest

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/runx-dev/runx/vmm/memory"
	"github.com/runx-dev/runx/vmm/virtio"
)

// Guest memory layout: queue i's three parts in the 64 KiB at
// (i+1)*queueStride, buffers from bufBase.
const (
	memSize     = 16 << 20
	queueStride = 0x10000
	bufBase     = 1 << 20
	QueueSize   = 64
)

// Driver drives one device.
type Driver struct {
	t      testing.TB
	T      *virtio.MMIO
	Mem    *memory.Memory
	queues []*queue
	next   uint64 // bump allocator of buffers
	// eventIdx: EVENT_IDX was negotiated.
	eventIdx bool
}

type queue struct {
	base     uint64
	desc     uint16 // the next descriptor to use (round robin)
	avail    uint16
	usedSeen uint16
}

// Used is a chain the device returned.
type Used struct {
	Head    uint16
	Len     uint32
	Written [][]byte // the chain's device-writable buffers, as they are now
}

// New sets dev up with the features it offers, all its queues of
// QueueSize, and DRIVER_OK; it fails the test if the device refuses.
func New(t testing.TB, dev virtio.Device) *Driver {
	t.Helper()
	return NewAccepting(t, dev, ^uint64(0))
}

// NewAccepting is New with the driver accepting only the offered features
// that accept has (a driver without some feature).
func NewAccepting(t testing.TB, dev virtio.Device, accept uint64) *Driver {
	t.Helper()
	mem, err := memory.NewShared(0, memSize)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := virtio.NewMMIO(dev, mem)
	if err != nil {
		t.Fatal(err)
	}
	d := &Driver{t: t, T: tr, Mem: mem, next: bufBase}
	t.Cleanup(func() { tr.Close(); mem.Close() })
	d.wr(virtio.RegStatus, virtio.StatusAcknowledge|virtio.StatusDriver)
	d.wr(virtio.RegDeviceFeaturesSel, 0)
	lo := d.rd(virtio.RegDeviceFeatures)
	d.wr(virtio.RegDeviceFeaturesSel, 1)
	hi := d.rd(virtio.RegDeviceFeatures)
	accept |= virtio.FeatureVersion1
	d.eventIdx = (uint64(hi)<<32|uint64(lo))&accept&virtio.FeatureEventIdx != 0
	d.wr(virtio.RegDriverFeaturesSel, 0)
	d.wr(virtio.RegDriverFeatures, lo&uint32(accept))
	d.wr(virtio.RegDriverFeaturesSel, 1)
	d.wr(virtio.RegDriverFeatures, hi&uint32(accept>>32))
	d.wr(virtio.RegStatus, virtio.StatusAcknowledge|virtio.StatusDriver|virtio.StatusFeaturesOK)
	for i := range dev.QueueSizes() {
		q := &queue{base: uint64(i+1) * queueStride}
		d.queues = append(d.queues, q)
		d.wr(virtio.RegQueueSel, uint32(i))
		d.wr(virtio.RegQueueNum, QueueSize)
		d.wr(virtio.RegQueueDescLow, uint32(q.base))
		d.wr(virtio.RegQueueDriverLow, uint32(q.base+0x1000))
		d.wr(virtio.RegQueueDeviceLow, uint32(q.base+0x2000))
		d.wr(virtio.RegQueueReady, 1)
	}
	d.wr(virtio.RegStatus, virtio.StatusAcknowledge|virtio.StatusDriver|virtio.StatusFeaturesOK|virtio.StatusDriverOK)
	if s := d.rd(virtio.RegStatus); s&(virtio.StatusNeedsReset|virtio.StatusFailed) != 0 || s&virtio.StatusDriverOK == 0 {
		t.Fatalf("the device did not start: status %#x", s)
	}
	return d
}

func (d *Driver) rd(off uint64) uint32 {
	b := make([]byte, 4)
	d.T.Read(off, b)
	return binary.LittleEndian.Uint32(b)
}

func (d *Driver) wr(off uint64, v uint32) {
	b := make([]byte, 4)
	binary.LittleEndian.PutUint32(b, v)
	d.T.Write(off, b)
}

// Config reads n bytes of the configuration space at off.
func (d *Driver) Config(off uint64, n int) []byte {
	b := make([]byte, n)
	d.T.Read(virtio.RegConfig+off, b)
	return b
}

func (d *Driver) alloc(n uint32) uint64 {
	a := d.next
	d.next += (uint64(n) + 15) &^ 15
	if d.next > memSize {
		d.t.Fatal("virtiotest: out of buffer memory")
	}
	return a
}

// Offer makes a chain of the readable buffers, then writable buffers of
// the given sizes, available in queue q (no notification: Kick), and
// returns its head.
func (d *Driver) Offer(q int, readable [][]byte, writable ...uint32) uint16 {
	qu := d.queues[q]
	n := len(readable) + len(writable)
	head := qu.desc
	for i := range n {
		idx := (head + uint16(i)) % QueueSize
		var addr uint64
		var size uint32
		var flags uint16
		if i < len(readable) {
			size = uint32(len(readable[i]))
			addr = d.alloc(size)
			if err := d.Mem.Write(addr, readable[i]); err != nil {
				d.t.Fatal(err)
			}
		} else {
			size = writable[i-len(readable)]
			addr = d.alloc(size)
			flags |= 2 // WRITE
		}
		if i < n-1 {
			flags |= 1 // NEXT
		}
		b := make([]byte, 16)
		binary.LittleEndian.PutUint64(b, addr)
		binary.LittleEndian.PutUint32(b[8:], size)
		binary.LittleEndian.PutUint16(b[12:], flags)
		binary.LittleEndian.PutUint16(b[14:], (idx+1)%QueueSize)
		if err := d.Mem.Write(qu.base+16*uint64(idx), b); err != nil {
			d.t.Fatal(err)
		}
	}
	qu.desc = (head + uint16(n)) % QueueSize
	avail := qu.base + 0x1000
	if err := d.Mem.PutU16(avail+4+2*uint64(qu.avail%QueueSize), head); err != nil {
		d.t.Fatal(err)
	}
	qu.avail++
	if err := d.Mem.StoreU32(avail, uint32(qu.avail)<<16); err != nil {
		d.t.Fatal(err)
	}
	return head
}

// OfferNotify is Offer, then a notification only if the device asked for
// one, as Linux's driver decides with EVENT_IDX (virtqueue_kick_prepare:
// the new index passed the device's avail_event); without EVENT_IDX it
// always notifies.
func (d *Driver) OfferNotify(q int, readable [][]byte, writable ...uint32) uint16 {
	old := d.queues[q].avail
	head := d.Offer(q, readable, writable...)
	qu := d.queues[q]
	event, err := d.Mem.U16(qu.base + 0x2000 + 4 + 8*QueueSize)
	if err != nil {
		d.t.Fatal(err)
	}
	if !d.eventIdx || qu.avail-event-1 < qu.avail-old {
		d.Kick(q)
	}
	return head
}

// Kick notifies queue q.
func (d *Driver) Kick(q int) { d.wr(virtio.RegQueueNotify, uint32(q)) }

// Next waits, at most timeout, for the device to return a chain in queue
// q; ok false when none came.
func (d *Driver) Next(q int, timeout time.Duration) (u Used, ok bool) {
	qu := d.queues[q]
	used := qu.base + 0x2000
	deadline := time.Now().Add(timeout)
	for {
		w, err := d.Mem.LoadU32(used)
		if err != nil {
			d.t.Fatal(err)
		}
		if uint16(w>>16) != qu.usedSeen {
			break
		}
		if time.Now().After(deadline) {
			return Used{}, false
		}
		time.Sleep(time.Millisecond)
	}
	at := used + 4 + 8*uint64(qu.usedSeen%QueueSize)
	id, _ := d.Mem.U32(at)
	n, _ := d.Mem.U32(at + 4)
	qu.usedSeen++
	// used_event, as Linux's driver sets it: an interrupt for the next
	// (read only with EVENT_IDX).
	if err := d.Mem.PutU16(qu.base+0x1000+4+2*QueueSize, qu.usedSeen); err != nil {
		d.t.Fatal(err)
	}
	u = Used{Head: uint16(id), Len: n}
	for i := uint16(id); ; i = (i + 1) % QueueSize {
		b := make([]byte, 16)
		if err := d.Mem.Read(qu.base+16*uint64(i), b); err != nil {
			d.t.Fatal(err)
		}
		flags := binary.LittleEndian.Uint16(b[12:])
		if flags&2 != 0 {
			s, _ := d.Mem.Slice(binary.LittleEndian.Uint64(b), uint64(binary.LittleEndian.Uint32(b[8:])))
			u.Written = append(u.Written, s)
		}
		if flags&1 == 0 {
			break
		}
	}
	return u, true
}

// Interrupt waits, at most timeout, for the interrupt status to be set
// (the device raises it after it returned the buffers), acknowledges it
// and returns it.
func (d *Driver) Interrupt(timeout time.Duration) uint32 {
	deadline := time.Now().Add(timeout)
	for {
		if s := d.rd(virtio.RegInterruptStatus); s != 0 || time.Now().After(deadline) {
			d.wr(virtio.RegInterruptACK, s)
			return s
		}
		time.Sleep(time.Millisecond)
	}
}

// DescAddr is where descriptor idx of queue q is (to damage it).
func (d *Driver) DescAddr(q int, idx uint16) uint64 {
	return d.queues[q].base + 16*uint64(idx)
}
