package virtio

import (
	"encoding/binary"
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runx-dev/runx/vmm/memory"
)

// testDevice records what the transport asks of it.
type testDevice struct {
	config    [8]byte
	activated []*Queue
	features  uint64
	resets    int
	fail      bool
	direct    bool // takes the irqfd for its back end
	irq       *EventFD
}

func (d *testDevice) Type() uint32         { return 4 }
func (d *testDevice) Features() uint64     { return FeatureEventIdx }
func (d *testDevice) QueueSizes() []uint16 { return []uint16{8, 16} }
func (d *testDevice) ReadConfig(off uint64, b []byte) {
	if off < uint64(len(d.config)) {
		copy(b, d.config[off:])
	}
}
func (d *testDevice) WriteConfig(off uint64, b []byte) {
	if off < uint64(len(d.config)) {
		copy(d.config[off:], b)
	}
}
func (d *testDevice) Activate(a Activation) error {
	if d.fail {
		return errors.New("no")
	}
	d.activated, d.features = a.Queues, a.Features
	if d.direct {
		d.irq = a.DirectInterrupt()
	}
	return nil
}
func (d *testDevice) Reset() { d.resets++ }

// notified lists the queues whose kick fired since the last call.
func notified(tr *MMIO) []int {
	var qs []int
	for i, k := range tr.Kicks {
		var b [8]byte
		if n, _ := unix.Read(k.FD(), b[:]); n == 8 {
			qs = append(qs, i)
		}
	}
	return qs
}

func newMMIO(t *testing.T, dev Device) *MMIO {
	tr, err := NewMMIO(dev, memory.FromBytes(0, make([]byte, 1<<20)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)
	return tr
}

func rd(t *MMIO, off uint64) uint32 {
	b := make([]byte, 4)
	t.Read(off, b)
	return binary.LittleEndian.Uint32(b)
}

func wr(t *MMIO, off uint64, v uint32) {
	b := make([]byte, 4)
	binary.LittleEndian.PutUint32(b, v)
	t.Write(off, b)
}

// setUpQueue does what a driver does for queue i of size n at base.
func setUpQueue(t *MMIO, i, n uint32, base uint64) {
	wr(t, RegQueueSel, i)
	wr(t, RegQueueNum, n)
	wr(t, RegQueueDescLow, uint32(base))
	wr(t, RegQueueDriverLow, uint32(base+0x1000))
	wr(t, RegQueueDeviceLow, uint32(base+0x2000))
	wr(t, RegQueueReady, 1)
}

// The driver's initialisation (3.1.1), as Linux's virtio_mmio does it.
func TestMMIOInitialisation(t *testing.T) {
	dev := &testDevice{}
	tr := newMMIO(t, dev)
	if rd(tr, RegMagic) != mmioMagic || rd(tr, RegVersion) != 2 || rd(tr, RegDeviceID) != 4 {
		t.Fatalf("identity: magic %#x version %d device %d", rd(tr, RegMagic), rd(tr, RegVersion), rd(tr, RegDeviceID))
	}
	wr(tr, RegStatus, StatusAcknowledge)
	wr(tr, RegStatus, StatusAcknowledge|StatusDriver)
	wr(tr, RegDeviceFeaturesSel, 0)
	lo := rd(tr, RegDeviceFeatures)
	wr(tr, RegDeviceFeaturesSel, 1)
	hi := rd(tr, RegDeviceFeatures)
	if offered := uint64(hi)<<32 | uint64(lo); offered != FeatureEventIdx|FeatureVersion1 {
		t.Fatalf("features offered %#x", offered)
	}
	wr(tr, RegDriverFeaturesSel, 0)
	wr(tr, RegDriverFeatures, lo)
	wr(tr, RegDriverFeaturesSel, 1)
	wr(tr, RegDriverFeatures, hi)
	wr(tr, RegStatus, StatusAcknowledge|StatusDriver|StatusFeaturesOK)
	if rd(tr, RegStatus)&StatusFeaturesOK == 0 {
		t.Fatal("FEATURES_OK refused for features offered")
	}
	wr(tr, RegQueueSel, 1)
	if n := rd(tr, RegQueueNumMax); n != 16 {
		t.Errorf("queue 1's maximum %d", n)
	}
	setUpQueue(tr, 0, 8, 0x10000)
	setUpQueue(tr, 1, 16, 0x20000)
	if rd(tr, RegQueueReady) != 1 {
		t.Fatal("queue 1 not ready")
	}
	wr(tr, RegQueueNotify, 0)
	if len(notified(tr)) != 0 {
		t.Error("a notify before DRIVER_OK reached the device")
	}
	wr(tr, RegStatus, StatusAcknowledge|StatusDriver|StatusFeaturesOK|StatusDriverOK)
	if len(dev.activated) != 2 || dev.features != FeatureEventIdx|FeatureVersion1 || !dev.activated[0].EventIdx {
		t.Fatalf("activated with %d queues, features %#x", len(dev.activated), dev.features)
	}
	if q := dev.activated[1]; q.Size != 16 || q.Desc != 0x20000 || q.Avail != 0x21000 || q.Used != 0x22000 {
		t.Errorf("queue 1: %+v", q)
	}
	wr(tr, RegQueueNotify, 1)
	wr(tr, RegQueueNotify, 7) // no such queue
	if n := notified(tr); len(n) != 1 || n[0] != 1 {
		t.Errorf("notified %v", n)
	}
	// A queue cannot move once the device runs.
	wr(tr, RegQueueSel, 0)
	wr(tr, RegQueueDescLow, 0x50000)
	if dev.activated[0].Desc != 0x10000 {
		t.Error("a ready queue was moved")
	}
	tr.Interrupt(InterruptUsedBuffer)
	if rd(tr, RegInterruptStatus) != InterruptUsedBuffer {
		t.Error("interrupt status")
	}
	{
		var b [8]byte
		if n, _ := unix.Read(tr.IRQ.FD(), b[:]); n != 8 {
			t.Error("the interrupt's eventfd was not signalled")
		}
	}
	wr(tr, RegInterruptACK, InterruptUsedBuffer)
	if rd(tr, RegInterruptStatus) != 0 {
		t.Error("interrupt not acknowledged")
	}
	// No shared memory region: length -1 (virtiofs probes region 0).
	wr(tr, RegSHMSel, 0)
	if rd(tr, RegSHMLenLow) != 0xffffffff || rd(tr, RegSHMLenHigh) != 0xffffffff {
		t.Error("a shared memory region of a length other than -1")
	}
	// Configuration space, at any width.
	tr.Write(RegConfig+2, []byte{0xaa, 0xbb})
	b := make([]byte, 2)
	tr.Read(RegConfig+2, b)
	if b[0] != 0xaa || b[1] != 0xbb {
		t.Errorf("config %x", b)
	}
	wr(tr, RegStatus, 0)
	if dev.resets != 1 || rd(tr, RegStatus) != 0 || rd(tr, RegQueueReady) != 0 {
		t.Errorf("reset: %d resets, status %d", dev.resets, rd(tr, RegStatus))
	}
}

// What the transport refuses of a driver.
func TestMMIORefusals(t *testing.T) {
	for _, c := range []struct {
		name  string
		drive func(tr *MMIO)
		check func(t *testing.T, tr *MMIO, dev *testDevice)
	}{
		{"features not offered", func(tr *MMIO) {
			wr(tr, RegDriverFeaturesSel, 0)
			wr(tr, RegDriverFeatures, 1<<5)
			wr(tr, RegDriverFeaturesSel, 1)
			wr(tr, RegDriverFeatures, 1)
			wr(tr, RegStatus, StatusAcknowledge|StatusDriver|StatusFeaturesOK)
		}, func(t *testing.T, tr *MMIO, _ *testDevice) {
			if rd(tr, RegStatus)&StatusFeaturesOK != 0 {
				t.Error("FEATURES_OK kept")
			}
		}},
		{"a legacy driver (no VERSION_1)", func(tr *MMIO) {
			wr(tr, RegStatus, StatusAcknowledge|StatusDriver|StatusFeaturesOK)
		}, func(t *testing.T, tr *MMIO, _ *testDevice) {
			if rd(tr, RegStatus)&StatusFeaturesOK != 0 {
				t.Error("FEATURES_OK kept")
			}
		}},
		{"DRIVER_OK without FEATURES_OK", func(tr *MMIO) {
			wr(tr, RegStatus, StatusAcknowledge|StatusDriver|StatusDriverOK)
		}, func(t *testing.T, tr *MMIO, dev *testDevice) {
			if dev.activated != nil || rd(tr, RegStatus)&StatusFailed == 0 {
				t.Error("activated, or not failed")
			}
		}},
		{"a queue larger than offered", func(tr *MMIO) {
			setUpQueue(tr, 0, 16, 0x10000)
		}, func(t *testing.T, tr *MMIO, _ *testDevice) {
			if rd(tr, RegQueueReady) != 0 || rd(tr, RegStatus)&StatusNeedsReset == 0 {
				t.Error("queue ready, or no NEEDS_RESET")
			}
		}},
		{"a queue outside memory", func(tr *MMIO) {
			setUpQueue(tr, 0, 8, 0xff000)
		}, func(t *testing.T, tr *MMIO, _ *testDevice) {
			if rd(tr, RegQueueReady) != 0 {
				t.Error("queue ready")
			}
		}},
		{"the device fails to start", func(tr *MMIO) {
			wr(tr, RegDriverFeaturesSel, 1)
			wr(tr, RegDriverFeatures, 1)
			wr(tr, RegStatus, StatusAcknowledge|StatusDriver|StatusFeaturesOK)
			wr(tr, RegStatus, StatusAcknowledge|StatusDriver|StatusFeaturesOK|StatusDriverOK)
		}, func(t *testing.T, tr *MMIO, _ *testDevice) {
			if rd(tr, RegStatus)&StatusNeedsReset == 0 {
				t.Error("no NEEDS_RESET")
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dev := &testDevice{fail: c.name == "the device fails to start"}
			tr := newMMIO(t, dev)
			c.drive(tr)
			c.check(t, tr, dev)
		})
	}
}

// A device whose back end raises the interrupt itself gets the irqfd, and
// the guest then always reads the used-buffer bit, acknowledged or not,
// until a reset.
func TestMMIODirectInterrupt(t *testing.T) {
	dev := &testDevice{direct: true}
	tr := newMMIO(t, dev)
	start := func() {
		wr(tr, RegStatus, StatusAcknowledge|StatusDriver)
		wr(tr, RegDriverFeaturesSel, 1)
		wr(tr, RegDriverFeatures, 1)
		wr(tr, RegStatus, StatusAcknowledge|StatusDriver|StatusFeaturesOK)
		setUpQueue(tr, 0, 8, 0x10000)
		wr(tr, RegStatus, StatusAcknowledge|StatusDriver|StatusFeaturesOK|StatusDriverOK)
	}
	if rd(tr, RegInterruptStatus) != 0 {
		t.Fatal("an interrupt status before the device started")
	}
	start()
	if dev.irq != tr.IRQ {
		t.Fatal("the device was not handed the transport's irqfd")
	}
	wr(tr, RegInterruptACK, InterruptUsedBuffer)
	if rd(tr, RegInterruptStatus) != InterruptUsedBuffer {
		t.Errorf("status %#x after an acknowledge, want the used-buffer bit kept", rd(tr, RegInterruptStatus))
	}
	wr(tr, RegStatus, 0)
	if rd(tr, RegInterruptStatus) != 0 {
		t.Error("the used-buffer bit survived a reset")
	}
}
