// Package fs is virtio-fs (virtio 1.2, 5.11) as a vhost-user front end:
// the device's queues are served by a vhost-user back end (Debian's
// virtiofsd), which maps the guest's memory (the memfds behind it) and is
// handed the queues' kick eventfds (the KVM ioeventfds, so a guest's
// notification reaches virtiofsd in the kernel, no VMM thread between)
// and, as their call eventfd, the device's irqfd: virtiofsd raises the
// guest's interrupt itself, and the transport reports the used-buffer bit
// as always set (Activation.DirectInterrupt, as Firecracker's vhost-user
// devices do). A relay through a VMM goroutine cost a wake-up per request.
//
// Why a shared file system and not a block device for the rootfs: a
// container's rootfs is a host directory whose writes the host must see
// (engines read and copy it: docker cp, podman commit, bind mounts from
// the host), and virtio-fs gives that without an image to build.
package fs

import (
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"unsafe"

	"github.com/runx-dev/runx/vmm/memory"
	"github.com/runx-dev/runx/vmm/virtio"
)

// Type is virtio-fs's device ID.
const Type = 26

// tagMax is the configuration space's tag field (NUL-padded, not
// NUL-terminated when full).
const tagMax = 36

// Queues: hiprio (0) and one request queue.
const numRequestQueues = 1

// offerable are the ring and transport features the VMM passes through
// from the back end to the guest: indirect descriptors, EVENT_IDX,
// VERSION_1.
const offerable = 1<<28 | 1<<29 | virtio.FeatureVersion1

// Device is a virtio-fs device backed by a vhost-user back end.
type Device struct {
	tag      string
	b        backend
	features uint64 // the back end's
	mu       sync.Mutex
	queues   int // set up in the back end (started)
}

// New sets the back end on conn up (owner, features) for a file system
// with the given tag.
func New(tag string, conn *net.UnixConn) (*Device, error) {
	if tag == "" || len(tag) > tagMax {
		return nil, fmt.Errorf("virtio-fs tag %q: 1 to %d bytes", tag, tagMax)
	}
	d := &Device{tag: tag, b: backend{c: conn}}
	if _, err := d.b.call(reqSetOwner, nil, nil, false); err != nil {
		return nil, err
	}
	var err error
	if d.features, err = d.b.getU64(reqGetFeatures); err != nil {
		return nil, err
	}
	if d.features&virtio.FeatureVersion1 == 0 {
		return nil, fmt.Errorf("the vhost-user back end does not offer VIRTIO_F_VERSION_1 (features %#x)", d.features)
	}
	if d.features&featureProtocol != 0 {
		pf, err := d.b.getU64(reqGetProtocolFeatures)
		if err != nil {
			return nil, err
		}
		if err := d.b.setU64(reqSetProtocolFeatures, pf&protocolReplyAck); err != nil {
			return nil, err
		}
		d.b.replyAck = pf&protocolReplyAck != 0
	}
	return d, nil
}

func (*Device) Type() uint32 { return Type }

func (d *Device) Features() uint64 { return d.features & offerable &^ virtio.FeatureVersion1 }

func (*Device) QueueSizes() []uint16 {
	return []uint16{virtio.MaxQueueSize, virtio.MaxQueueSize}
}

func (*Device) WriteConfig(uint64, []byte) {}

// ReadConfig: the tag, then num_request_queues.
func (d *Device) ReadConfig(off uint64, data []byte) {
	cfg := make([]byte, tagMax+4)
	copy(cfg, d.tag)
	binary.LittleEndian.PutUint32(cfg[tagMax:], numRequestQueues)
	clear(data)
	if off < uint64(len(cfg)) {
		copy(data, cfg[off:])
	}
}

// Activate hands the guest's memory and queues to the back end.
func (d *Device) Activate(a virtio.Activation) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	features := a.Features
	if d.features&featureProtocol != 0 {
		features |= featureProtocol
	}
	if err := d.b.setU64(reqSetFeatures, features); err != nil {
		return err
	}
	var rs []region
	for _, r := range a.Mem.Regions {
		fd := a.Mem.FD(r.GPA)
		if fd < 0 {
			return fmt.Errorf("guest memory at %#x is not shareable (no memfd)", r.GPA)
		}
		rs = append(rs, region{gpa: r.GPA, size: uint64(len(r.Data)), uaddr: uint64(uintptr(unsafe.Pointer(&r.Data[0]))), fd: fd})
	}
	if err := d.b.setMemTable(rs); err != nil {
		return err
	}
	va := func(gpa uint64) (uint64, error) {
		for _, r := range rs {
			if gpa >= r.gpa && gpa-r.gpa < r.size {
				return r.uaddr + gpa - r.gpa, nil
			}
		}
		return 0, fmt.Errorf("queue address %#x: %w", gpa, memory.ErrRange)
	}
	irq := a.DirectInterrupt()
	for i, q := range a.Queues {
		idx := uint32(i)
		desc, err1 := va(q.Desc)
		used, err2 := va(q.Used)
		avail, err3 := va(q.Avail)
		for _, err := range []error{err1, err2, err3} {
			if err != nil {
				return err
			}
		}
		steps := []func() error{
			func() error { return d.b.setState(reqSetVringNum, idx, uint32(q.Size)) },
			func() error { return d.b.setState(reqSetVringBase, idx, 0) },
			func() error { return d.b.setVringAddr(idx, desc, used, avail) },
			func() error { return d.b.setU64(reqSetVringKick, uint64(idx), a.Kicks[i].FD()) },
			func() error { return d.b.setU64(reqSetVringCall, uint64(idx), irq.FD()) },
		}
		if d.features&featureProtocol != 0 {
			steps = append(steps, func() error { return d.b.setState(reqSetVringEnable, idx, 1) })
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return fmt.Errorf("virtio-fs queue %d: %w", i, err)
			}
		}
	}
	d.queues = len(a.Queues)
	return nil
}

// Reset stops the back end's rings (GET_VRING_BASE stops a ring).
func (d *Device) Reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.queues {
		_, _ = d.b.call(reqGetVringBase, vringState(uint32(i), 0), nil, true)
	}
	d.queues = 0
}

// Close closes the connection to the back end.
func (d *Device) Close() { d.b.c.Close() }
