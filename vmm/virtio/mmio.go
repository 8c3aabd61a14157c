package virtio

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"

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
	// Activate starts it once the driver is ready (DRIVER_OK). It runs
	// with the transport locked: what it starts runs in goroutines of its
	// own. An error fails the device.
	Activate(a Activation) error
	// Reset stops it (the driver wrote status 0, or the VM ends): when it
	// returns none of its goroutines touches the queues.
	Reset()
}

// Activation is what a device is started with.
type Activation struct {
	Mem *memory.Memory
	// Queues are the ones the driver set up; Features what it accepted.
	Queues   []*Queue
	Features uint64
	// Kicks[i] fires when the driver notifies queue i.
	Kicks []*EventFD
	// Interrupt records InterruptStatus bits and raises the interrupt.
	Interrupt func(bits uint32)
	// DirectInterrupt is for a device whose back end raises the
	// interrupt itself (a vhost-user daemon given the irqfd as its call
	// eventfd, no relay through the VMM): the transport then reports the
	// used-buffer bit as always set, as the guest reads the status before
	// it looks at the rings. It returns the irqfd.
	DirectInterrupt func() *EventFD
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
	RegMagic             = 0x000
	RegVersion           = 0x004
	RegDeviceID          = 0x008
	RegVendorID          = 0x00c
	RegDeviceFeatures    = 0x010
	RegDeviceFeaturesSel = 0x014
	RegDriverFeatures    = 0x020
	RegDriverFeaturesSel = 0x024
	RegQueueSel          = 0x030
	RegQueueNumMax       = 0x034
	RegQueueNum          = 0x038
	RegQueueReady        = 0x044
	RegQueueNotify       = 0x050
	RegInterruptStatus   = 0x060
	RegInterruptACK      = 0x064
	RegStatus            = 0x070
	RegQueueDescLow      = 0x080
	RegQueueDescHigh     = 0x084
	RegQueueDriverLow    = 0x090
	RegQueueDriverHigh   = 0x094
	RegQueueDeviceLow    = 0x0a0
	RegQueueDeviceHigh   = 0x0a4
	RegSHMSel            = 0x0ac
	RegSHMLenLow         = 0x0b0
	RegSHMLenHigh        = 0x0b4
	RegSHMBaseLow        = 0x0b8
	RegSHMBaseHigh       = 0x0bc
	RegConfigGeneration  = 0x0fc
	RegConfig            = 0x100

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
	// interrupt is InterruptStatus: atomic, as devices raise it from their
	// goroutines while the transport may be locked waiting for them (Reset).
	interrupt atomic.Uint32
	sticky    atomic.Uint32 // bits always reported (DirectInterrupt)
	active    bool

	// Kicks are the queues' notifications (the VMM registers them as
	// ioeventfds at RegQueueNotify, matching the queue's index); IRQ raises
	// the device's interrupt (registered as an irqfd).
	Kicks []*EventFD
	IRQ   *EventFD
}

// NewMMIO puts dev behind a virtio-mmio window over mem.
func NewMMIO(dev Device, mem *memory.Memory) (_ *MMIO, err error) {
	t := &MMIO{dev: dev, mem: mem}
	defer func() {
		if err != nil {
			t.Close()
		}
	}()
	if t.IRQ, err = NewEventFD(); err != nil {
		return nil, err
	}
	for range dev.QueueSizes() {
		t.queues = append(t.queues, &Queue{})
		k, err := NewEventFD()
		if err != nil {
			return nil, err
		}
		t.Kicks = append(t.Kicks, k)
	}
	return t, nil
}

// Interrupt records a reason for the device's interrupt and raises it.
func (t *MMIO) Interrupt(bits uint32) {
	t.interrupt.Or(bits)
	t.IRQ.Signal()
}

// Close stops the device and closes the eventfds.
func (t *MMIO) Close() {
	t.mu.Lock()
	if t.active {
		t.dev.Reset()
		t.active = false
	}
	t.mu.Unlock()
	for _, k := range t.Kicks {
		k.Close()
	}
	if t.IRQ != nil {
		t.IRQ.Close()
	}
}

// Read answers a read of the window at offset; registers are 32-bit, the
// configuration space any width.
func (t *MMIO) Read(offset uint64, data []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if offset >= RegConfig {
		t.dev.ReadConfig(offset-RegConfig, data)
		return
	}
	clear(data)
	if len(data) != 4 {
		return
	}
	var v uint32
	q := t.queue()
	switch offset {
	case RegMagic:
		v = mmioMagic
	case RegVersion:
		v = 2
	case RegDeviceID:
		v = t.dev.Type()
	case RegVendorID:
		v = mmioVendor
	case RegDeviceFeatures:
		if t.featSel < 2 {
			v = uint32((t.dev.Features() | FeatureVersion1) >> (32 * t.featSel))
		}
	case RegQueueNumMax:
		if q != nil {
			v = uint32(t.dev.QueueSizes()[t.queueSel])
		}
	case RegQueueReady:
		if q != nil && q.Ready {
			v = 1
		}
	case RegInterruptStatus:
		v = t.interrupt.Load() | t.sticky.Load()
	case RegStatus:
		v = t.status
	case RegConfigGeneration:
		v = 0
	case RegSHMLenLow, RegSHMLenHigh, RegSHMBaseLow, RegSHMBaseHigh:
		// No shared memory regions: a length of -1 says so (4.2.2); 0
		// would be a region at 0 (virtiofs then fails to reserve it).
		v = 0xffffffff
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
	if offset >= RegConfig {
		t.dev.WriteConfig(offset-RegConfig, data)
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
	switch offset {
	case RegDeviceFeaturesSel:
		t.featSel = v
	case RegDriverFeaturesSel:
		t.drvFeatSel = v
	case RegDriverFeatures:
		if t.drvFeatSel < 2 && t.status&StatusFeaturesOK == 0 {
			shift := 32 * t.drvFeatSel
			t.drvFeatures = t.drvFeatures&^(0xffffffff<<shift) | uint64(v)<<shift
		}
	case RegQueueSel:
		t.queueSel = v
	case RegQueueNum:
		if settable {
			q.Size = uint16(min(v, 0xffff))
		}
	case RegQueueReady:
		if settable && v == 1 {
			if max := t.dev.QueueSizes()[t.queueSel]; q.Size > max || q.Valid(t.mem) != nil {
				t.status |= StatusNeedsReset
			} else {
				q.Ready = true
			}
		}
	case RegQueueDescLow, RegQueueDescHigh:
		if settable {
			q.Desc = setHalf(q.Desc, v, offset == RegQueueDescHigh)
		}
	case RegQueueDriverLow, RegQueueDriverHigh:
		if settable {
			q.Avail = setHalf(q.Avail, v, offset == RegQueueDriverHigh)
		}
	case RegQueueDeviceLow, RegQueueDeviceHigh:
		if settable {
			q.Used = setHalf(q.Used, v, offset == RegQueueDeviceHigh)
		}
	case RegQueueNotify:
		// Reached only where no ioeventfd is registered (tests).
		if t.active && int(v) < len(t.Kicks) {
			t.Kicks[v].Signal()
		}
	case RegInterruptACK:
		t.interrupt.And(^v)
	case RegStatus:
		t.setStatus(v)
	}
	t.mu.Unlock()
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
		t.status, t.drvFeatures, t.active = 0, 0, false
		t.interrupt.Store(0)
		t.sticky.Store(0)
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
	if err := t.dev.Activate(Activation{Mem: t.mem, Queues: t.queues, Features: t.drvFeatures, Kicks: t.Kicks, Interrupt: t.Interrupt,
		DirectInterrupt: func() *EventFD { t.sticky.Store(InterruptUsedBuffer); return t.IRQ }}); err != nil {
		return fmt.Errorf("activating virtio device %d: %w", t.dev.Type(), err)
	}
	t.active = true
	return nil
}
