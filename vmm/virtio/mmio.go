package virtio

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/runx-dev/runx/vmm/memory"
)

// Device is what every virtio device implements (one folder each under
// vmm/devices); the MMIO transport drives it.
type Device interface {
	// Type is the virtio device ID (1 net, 2 block, 4 rng, 19 vsock, 26 fs).
	Type() uint32
	// Features are the feature bits it offers (VERSION_1 is added).
	Features() uint64
	// QueueSizes are the maximum sizes of its queues.
	QueueSizes() []uint16
	// ReadConfig and WriteConfig access its configuration space.
	ReadConfig(offset uint64, data []byte)
	WriteConfig(offset uint64, data []byte)
	// Activate starts it once the driver is ready: the queues it set up
	// and the features it accepted. An error fails the device.
	Activate(mem *memory.Memory, queues []*Queue, features uint64) error
	// Notify: the driver made buffers available in queue q.
	Notify(q int)
	// Reset stops it (the driver wrote status 0).
	Reset()
}

// Feature bits of the transport and the rings (6): VERSION_1, as the
// transport offers only modern (virtio 1.x) devices, and EVENT_IDX (the
// rings' event indexes).
const (
	FeatureEventIdx = 1 << 29
	FeatureVersion1 = 1 << 32
)

// Device status bits (2.1).
const (
	StatusAcknowledge = 1
	StatusDriver      = 2
	StatusDriverOK    = 4
	StatusFeaturesOK  = 8
	StatusNeedsReset  = 64
	StatusFailed      = 128
)

// Interrupt status bits (4.2.2).
const (
	InterruptUsedBuffer   = 1
	InterruptConfigChange = 2
)

// MMIO register offsets (4.2.2, version 2).
const (
	regMagic             = 0x000
	regVersion           = 0x004
	regDeviceID          = 0x008
	regVendorID          = 0x00c
	regDeviceFeatures    = 0x010
	regDeviceFeaturesSel = 0x014
	regDriverFeatures    = 0x020
	regDriverFeaturesSel = 0x024
	regQueueSel          = 0x030
	regQueueNumMax       = 0x034
	regQueueNum          = 0x038
	regQueueReady        = 0x044
	regQueueNotify       = 0x050
	regInterruptStatus   = 0x060
	regInterruptACK      = 0x064
	regStatus            = 0x070
	regQueueDescLow      = 0x080
	regQueueDescHigh     = 0x084
	regQueueDriverLow    = 0x090
	regQueueDriverHigh   = 0x094
	regQueueDeviceLow    = 0x0a0
	regQueueDeviceHigh   = 0x0a4
	regConfigGeneration  = 0x0fc
	regConfig            = 0x100

	mmioMagic  = 0x74726976 // "virt"
	mmioVendor = 0x786e7572 // "runx"
)

// MMIO is a device's virtio-mmio transport: the registers a vCPU's MMIO
// exits read and write.
type MMIO struct {
	mu          sync.Mutex
	dev         Device
	mem         *memory.Memory
	queues      []*Queue
	status      uint32
	featSel     uint32
	drvFeatSel  uint32
	drvFeatures uint64
	queueSel    uint32
	interrupt   uint32
	active      bool
}

// NewMMIO puts dev behind a virtio-mmio window over mem.
func NewMMIO(dev Device, mem *memory.Memory) *MMIO {
	t := &MMIO{dev: dev, mem: mem}
	for range dev.QueueSizes() {
		t.queues = append(t.queues, &Queue{})
	}
	return t
}

// Interrupt records a reason for the device's interrupt (the caller then
// raises its line).
func (t *MMIO) Interrupt(bits uint32) {
	t.mu.Lock()
	t.interrupt |= bits
	t.mu.Unlock()
}

// Read answers a read of the window at offset; registers are 32-bit, the
// configuration space any width.
func (t *MMIO) Read(offset uint64, data []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if offset >= regConfig {
		t.dev.ReadConfig(offset-regConfig, data)
		return
	}
	clear(data)
	if len(data) != 4 {
		return
	}
	var v uint32
	q := t.queue()
	switch offset {
	case regMagic:
		v = mmioMagic
	case regVersion:
		v = 2
	case regDeviceID:
		v = t.dev.Type()
	case regVendorID:
		v = mmioVendor
	case regDeviceFeatures:
		if t.featSel < 2 {
			v = uint32((t.dev.Features() | FeatureVersion1) >> (32 * t.featSel))
		}
	case regQueueNumMax:
		if q != nil {
			v = uint32(t.dev.QueueSizes()[t.queueSel])
		}
	case regQueueReady:
		if q != nil && q.Ready {
			v = 1
		}
	case regInterruptStatus:
		v = t.interrupt
	case regStatus:
		v = t.status
	case regConfigGeneration:
		v = 0
	}
	binary.LittleEndian.PutUint32(data, v)
}

// queue is the selected queue, nil when the selector is out of range.
func (t *MMIO) queue() *Queue {
	if int(t.queueSel) < len(t.queues) {
		return t.queues[t.queueSel]
	}
	return nil
}

// Write handles a write to the window at offset.
func (t *MMIO) Write(offset uint64, data []byte) {
	t.mu.Lock()
	if offset >= regConfig {
		t.dev.WriteConfig(offset-regConfig, data)
		t.mu.Unlock()
		return
	}
	if len(data) != 4 {
		t.mu.Unlock()
		return
	}
	v := binary.LittleEndian.Uint32(data)
	q := t.queue()
	// Queue set-up only before DRIVER_OK, and of a queue not yet ready.
	settable := q != nil && !q.Ready && t.status&StatusDriverOK == 0
	notify := -1
	switch offset {
	case regDeviceFeaturesSel:
		t.featSel = v
	case regDriverFeaturesSel:
		t.drvFeatSel = v
	case regDriverFeatures:
		if t.drvFeatSel < 2 && t.status&StatusFeaturesOK == 0 {
			shift := 32 * t.drvFeatSel
			t.drvFeatures = t.drvFeatures&^(0xffffffff<<shift) | uint64(v)<<shift
		}
	case regQueueSel:
		t.queueSel = v
	case regQueueNum:
		if settable {
			q.Size = uint16(min(v, 0xffff))
		}
	case regQueueReady:
		if settable && v == 1 {
			if max := t.dev.QueueSizes()[t.queueSel]; q.Size > max || q.Valid(t.mem) != nil {
				t.status |= StatusNeedsReset
			} else {
				q.Ready = true
			}
		}
	case regQueueDescLow, regQueueDescHigh:
		if settable {
			q.Desc = setHalf(q.Desc, v, offset == regQueueDescHigh)
		}
	case regQueueDriverLow, regQueueDriverHigh:
		if settable {
			q.Avail = setHalf(q.Avail, v, offset == regQueueDriverHigh)
		}
	case regQueueDeviceLow, regQueueDeviceHigh:
		if settable {
			q.Used = setHalf(q.Used, v, offset == regQueueDeviceHigh)
		}
	case regQueueNotify:
		if t.active && int(v) < len(t.queues) {
			notify = int(v)
		}
	case regInterruptACK:
		t.interrupt &^= v
	case regStatus:
		t.setStatus(v)
	}
	t.mu.Unlock()
	if notify >= 0 {
		t.dev.Notify(notify)
	}
}

func setHalf(addr uint64, v uint32, high bool) uint64 {
	if high {
		return addr&0xffffffff | uint64(v)<<32
	}
	return addr&^0xffffffff | uint64(v)
}

// setStatus follows the driver through initialisation (3.1.1): 0 resets;
// FEATURES_OK holds only if it accepted a subset of what is offered, with
// VERSION_1; DRIVER_OK activates the device.
func (t *MMIO) setStatus(v uint32) {
	if v == 0 {
		if t.active {
			t.dev.Reset()
		}
		for _, q := range t.queues {
			q.Reset()
		}
		t.status, t.drvFeatures, t.interrupt, t.active = 0, 0, 0, false
		return
	}
	if v&^t.status&StatusFeaturesOK != 0 {
		offered := t.dev.Features() | FeatureVersion1
		if t.drvFeatures&^offered != 0 || t.drvFeatures&FeatureVersion1 == 0 {
			v &^= StatusFeaturesOK
		}
	}
	if v&^t.status&StatusDriverOK != 0 && !t.active {
		if v&StatusFeaturesOK == 0 {
			v |= StatusFailed
		} else if err := t.activate(); err != nil {
			v |= StatusNeedsReset
		}
	}
	t.status = v
}

func (t *MMIO) activate() error {
	eventIdx := t.drvFeatures&FeatureEventIdx != 0
	for _, q := range t.queues {
		q.EventIdx = eventIdx
	}
	if err := t.dev.Activate(t.mem, t.queues, t.drvFeatures); err != nil {
		return fmt.Errorf("activating virtio device %d: %w", t.dev.Type(), err)
	}
	t.active = true
	return nil
}
