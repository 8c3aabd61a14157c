// Package net is virtio-net (virtio 1.2, 5.1) over a tap device opened with
// IFF_VNET_HDR: every frame on the tap carries the same 12-byte header as a
// virtio-net buffer, so a frame passes between the tap and the guest's
// buffers as it is, with its checksum and segmentation offloads (the guest
// sends and receives 64 KiB TCP segments; the host kernel splits or
// merges them). One receive and one transmit queue; mergeable receive
// buffers, so a large frame spreads over the guest's page-sized buffers.
package net

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	gonet "net"
	"os"
	"sync"
	"time"

	"github.com/runx-dev/runx/vmm/virtio"
)

// Type is virtio-net's device ID.
const Type = 1

// Feature bits (5.1.3).
const (
	FeatureCsum      = 1 << 0  // the guest sends partial checksums
	FeatureGuestCsum = 1 << 1  // the guest takes partial checksums
	FeatureMAC       = 1 << 5  // the configuration has a MAC address
	FeatureGuestTSO4 = 1 << 7  // the guest takes TCP segments over IPv4
	FeatureGuestTSO6 = 1 << 8  // and over IPv6
	FeatureGuestECN  = 1 << 9  // with ECN
	FeatureHostTSO4  = 1 << 11 // the guest sends them
	FeatureHostTSO6  = 1 << 12
	FeatureHostECN   = 1 << 13
	FeatureMrgRxbuf  = 1 << 15 // a received frame may take several buffers
)

// HeaderSize is virtio-net's header with VERSION_1 (struct
// virtio_net_hdr_mrg_rxbuf): the tap must be set to the same.
const HeaderSize = 12

// maxFrame is the largest frame with its header: a 64 KiB segment, its
// Ethernet and VLAN headers.
const maxFrame = HeaderSize + 65535 + 18

const (
	rxQueue = 0
	txQueue = 1
)

// Config is a virtio-net device.
type Config struct {
	// Backend carries one frame, with its virtio-net header, per read and
	// write: a tap opened with IFF_VNET_HDR and its header size set to
	// HeaderSize (a packet socket pair in tests). It must be
	// non-blocking, so that its reads park a goroutine, not a thread.
	Backend *os.File
	// Offload tells the backend which offloads the guest takes
	// (TUN_F_* bits; nil: the backend has none to set).
	Offload func(tunFlags int) error
	// MAC is the guest's address; nil lets the guest choose.
	MAC gonet.HardwareAddr
}

// TUN offload bits (linux/if_tun.h), what TUNSETOFFLOAD takes.
const (
	TunCsum   = 0x1
	TunTSO4   = 0x2
	TunTSO6   = 0x4
	TunTSOECN = 0x8
)

// Device is a virtio-net device.
type Device struct {
	cfg     Config
	workers virtio.Workers
	act     virtio.Activation

	// The tap's reader hands frames to the receive worker: it reads into a
	// free buffer and passes it on full; the worker gives it back once the
	// frame is in the guest's buffers.
	free, full chan []byte
	cur        []byte // the frame the receive worker holds (its goroutine's)
	stop       chan struct{}
	reader     sync.WaitGroup
}

// New makes the device.
func New(cfg Config) (*Device, error) {
	if cfg.Backend == nil {
		return nil, errors.New("virtio-net: no backend")
	}
	if cfg.MAC != nil && len(cfg.MAC) != 6 {
		return nil, fmt.Errorf("virtio-net: MAC %s: not 6 bytes", cfg.MAC)
	}
	return &Device{cfg: cfg}, nil
}

func (*Device) Type() uint32 { return Type }

func (d *Device) Features() uint64 {
	f := uint64(virtio.FeatureEventIdx | FeatureCsum | FeatureGuestCsum |
		FeatureGuestTSO4 | FeatureGuestTSO6 | FeatureGuestECN |
		FeatureHostTSO4 | FeatureHostTSO6 | FeatureHostECN | FeatureMrgRxbuf)
	if d.cfg.MAC != nil {
		f |= FeatureMAC
	}
	return f
}

func (*Device) QueueSizes() []uint16 {
	return []uint16{virtio.MaxQueueSize, virtio.MaxQueueSize}
}

// ReadConfig: the configuration space starts with the MAC (5.1.4); the
// status, queue pairs and MTU fields are not offered.
func (d *Device) ReadConfig(off uint64, data []byte) {
	clear(data)
	if off < 6 && d.cfg.MAC != nil {
		copy(data, d.cfg.MAC[off:])
	}
}

func (*Device) WriteConfig(uint64, []byte) {}

// Activate tells the backend the offloads the guest accepted and starts
// both queues and the tap's reader.
func (d *Device) Activate(a virtio.Activation) error {
	d.act = a
	d.free, d.full = make(chan []byte, 2), make(chan []byte, 1)
	d.free <- make([]byte, maxFrame)
	d.free <- make([]byte, maxFrame)
	d.cur = nil
	d.stop = make(chan struct{})
	_ = d.cfg.Backend.SetReadDeadline(time.Time{})
	offload := tunOffload(a.Features)
	d.reader.Add(1)
	// The offload is set from the reader's goroutine: Activate runs on a
	// vCPU thread, whose seccomp filter allows no tap ioctl.
	go d.read(offload, a.Kicks[rxQueue])
	d.workers.Start(a.Kicks[rxQueue], d.serveRx)
	d.workers.Start(a.Kicks[txQueue], d.serveTx)
	return nil
}

// Reset stops the queues and the reader.
func (d *Device) Reset() {
	close(d.stop)
	_ = d.cfg.Backend.SetReadDeadline(time.Unix(1, 0))
	d.reader.Wait()
	d.workers.Stop()
}

// tunOffload maps the guest's receive features to the tap's offloads:
// what the tap may hand over unsegmented or without a checksum.
func tunOffload(features uint64) int {
	if features&FeatureGuestCsum == 0 {
		return 0
	}
	f := TunCsum
	if features&FeatureGuestTSO4 != 0 {
		f |= TunTSO4
	}
	if features&FeatureGuestTSO6 != 0 {
		f |= TunTSO6
	}
	if features&FeatureGuestECN != 0 && f&(TunTSO4|TunTSO6) != 0 {
		f |= TunTSOECN
	}
	return f
}

// read takes frames from the backend, one free buffer at a time, and
// wakes the receive worker with each.
func (d *Device) read(offload int, wake *virtio.EventFD) {
	defer d.reader.Done()
	if d.cfg.Offload != nil {
		if err := d.cfg.Offload(offload); err != nil {
			log.Printf("virtio-net: setting the tap's offloads %#x: %v", offload, err)
		}
	}
	for {
		var b []byte
		select {
		case b = <-d.free:
		case <-d.stop:
			return
		}
		n, err := d.cfg.Backend.Read(b[:cap(b)])
		if err != nil {
			select {
			case <-d.stop:
				return
			default:
			}
			if errors.Is(err, os.ErrClosed) {
				return
			}
			// A frame the tap could not hand over (EIO while it is down):
			// dropped, as a NIC drops it.
			d.free <- b
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if n < HeaderSize {
			d.free <- b
			continue
		}
		select {
		case d.full <- b[:n]:
			wake.Signal()
		case <-d.stop:
			return
		}
	}
}

// serveRx puts the waiting frames into the guest's receive buffers until
// there are no frames or no buffers (then the guest's next kick, or the
// next frame, runs it again).
func (d *Device) serveRx() {
	q := d.act.Queues[rxQueue]
	pushed := false
	defer func() {
		if !pushed {
			return
		}
		if ok, err := q.NeedsInterrupt(d.act.Mem); ok || err != nil {
			d.act.Interrupt(virtio.InterruptUsedBuffer)
		}
	}()
	for {
		if d.cur == nil {
			select {
			case d.cur = <-d.full:
			default:
				return
			}
		}
		ok, retry, err := d.deliver(d.cur)
		if err != nil {
			log.Printf("virtio-net: receive queue: %v", err)
			return
		}
		if !ok {
			// Too few buffers: the guest's next one notifies (Undo asked
			// for it), unless some came meanwhile: then at once.
			if retry {
				continue
			}
			return
		}
		pushed = true
		d.free <- d.cur[:cap(d.cur)]
		d.cur = nil
	}
}

// deliver writes frame into as many receive buffers as it takes (one
// without mergeable buffers) and returns them to the guest; false, with
// nothing taken, when the guest has not offered enough (retry: buffers
// came meanwhile, try again). A frame larger than one buffer without
// mergeable buffers is dropped.
func (d *Device) deliver(frame []byte) (ok, retry bool, err error) {
	q, mem := d.act.Queues[rxQueue], d.act.Mem
	merge := d.act.Features&FeatureMrgRxbuf != 0
	type used struct {
		c *virtio.Chain
		n uint32
	}
	var chains []used
	for off := 0; off < len(frame); {
		c, err := q.Pop(mem)
		if err != nil {
			return false, false, err
		}
		if c == nil {
			retry, err := q.Undo(mem, uint16(len(chains)))
			return false, retry, err
		}
		_, w := c.Sizes()
		if len(chains) == 0 && w < HeaderSize {
			return false, false, fmt.Errorf("a receive buffer of %d bytes: smaller than the header", w)
		}
		if !merge && w < uint64(len(frame)) {
			// Too big for the guest's buffers (it took no segmentation
			// offload): dropped, the buffer kept.
			_, err := q.Undo(mem, 1)
			return true, false, err
		}
		n, err := c.Fill(mem, frame[off:])
		if err != nil {
			return false, false, err
		}
		if n == 0 {
			return false, false, errors.New("a receive buffer with no writable space")
		}
		off += n
		chains = append(chains, used{c, uint32(n)})
	}
	// num_buffers (1 without mergeable buffers), into the first buffer's
	// header.
	binary.LittleEndian.PutUint16(frame[10:12], uint16(len(chains)))
	if _, err := chains[0].c.Fill(mem, frame[:HeaderSize]); err != nil {
		return false, false, err
	}
	for _, u := range chains {
		if err := q.Push(mem, u.c.Head, u.n); err != nil {
			return false, false, err
		}
	}
	return true, false, nil
}

// serveTx writes each frame the guest sent, header and all, to the
// backend. A frame the backend refuses (a malformed header) is dropped.
func (d *Device) serveTx() {
	err := virtio.Drain(&d.act, txQueue, func(c *virtio.Chain) (uint32, error) {
		frame, err := c.ReadAll(d.act.Mem, maxFrame)
		if err != nil {
			return 0, nil // too long: dropped
		}
		if len(frame) < HeaderSize {
			return 0, nil
		}
		_, _ = d.cfg.Backend.Write(frame)
		return 0, nil
	})
	if err != nil {
		log.Printf("virtio-net: transmit queue: %v", err)
	}
}
