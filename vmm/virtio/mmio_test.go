package virtio

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/runx-dev/runx/vmm/memory"
)

// testDevice records what the transport asks of it.
type testDevice struct {
	config    [8]byte
	activated []*Queue
	features  uint64
	notified  []int
	resets    int
	fail      bool
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
func (d *testDevice) Activate(_ *memory.Memory, qs []*Queue, f uint64) error {
	if d.fail {
		return errors.New("no")
	}
	d.activated, d.features = qs, f
	return nil
}
func (d *testDevice) Notify(q int) { d.notified = append(d.notified, q) }
func (d *testDevice) Reset()       { d.resets++ }

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
	wr(t, regQueueSel, i)
	wr(t, regQueueNum, n)
	wr(t, regQueueDescLow, uint32(base))
	wr(t, regQueueDriverLow, uint32(base+0x1000))
	wr(t, regQueueDeviceLow, uint32(base+0x2000))
	wr(t, regQueueReady, 1)
}

// The driver's initialisation (3.1.1), as Linux's virtio_mmio does it.
func TestMMIOInitialisation(t *testing.T) {
	dev := &testDevice{}
	tr := NewMMIO(dev, memory.FromBytes(0, make([]byte, 1<<20)))
	if rd(tr, regMagic) != mmioMagic || rd(tr, regVersion) != 2 || rd(tr, regDeviceID) != 4 {
		t.Fatalf("identity: magic %#x version %d device %d", rd(tr, regMagic), rd(tr, regVersion), rd(tr, regDeviceID))
	}
	wr(tr, regStatus, StatusAcknowledge)
	wr(tr, regStatus, StatusAcknowledge|StatusDriver)
	wr(tr, regDeviceFeaturesSel, 0)
	lo := rd(tr, regDeviceFeatures)
	wr(tr, regDeviceFeaturesSel, 1)
	hi := rd(tr, regDeviceFeatures)
	if offered := uint64(hi)<<32 | uint64(lo); offered != FeatureEventIdx|FeatureVersion1 {
		t.Fatalf("features offered %#x", offered)
	}
	wr(tr, regDriverFeaturesSel, 0)
	wr(tr, regDriverFeatures, lo)
	wr(tr, regDriverFeaturesSel, 1)
	wr(tr, regDriverFeatures, hi)
	wr(tr, regStatus, StatusAcknowledge|StatusDriver|StatusFeaturesOK)
	if rd(tr, regStatus)&StatusFeaturesOK == 0 {
		t.Fatal("FEATURES_OK refused for features offered")
	}
	wr(tr, regQueueSel, 1)
	if n := rd(tr, regQueueNumMax); n != 16 {
		t.Errorf("queue 1's maximum %d", n)
	}
	setUpQueue(tr, 0, 8, 0x10000)
	setUpQueue(tr, 1, 16, 0x20000)
	if rd(tr, regQueueReady) != 1 {
		t.Fatal("queue 1 not ready")
	}
	wr(tr, regQueueNotify, 0)
	if len(dev.notified) != 0 {
		t.Error("a notify before DRIVER_OK reached the device")
	}
	wr(tr, regStatus, StatusAcknowledge|StatusDriver|StatusFeaturesOK|StatusDriverOK)
	if len(dev.activated) != 2 || dev.features != FeatureEventIdx|FeatureVersion1 || !dev.activated[0].EventIdx {
		t.Fatalf("activated with %d queues, features %#x", len(dev.activated), dev.features)
	}
	if q := dev.activated[1]; q.Size != 16 || q.Desc != 0x20000 || q.Avail != 0x21000 || q.Used != 0x22000 {
		t.Errorf("queue 1: %+v", q)
	}
	wr(tr, regQueueNotify, 1)
	wr(tr, regQueueNotify, 7) // no such queue
	if len(dev.notified) != 1 || dev.notified[0] != 1 {
		t.Errorf("notified %v", dev.notified)
	}
	// A queue cannot move once the device runs.
	wr(tr, regQueueSel, 0)
	wr(tr, regQueueDescLow, 0x50000)
	if dev.activated[0].Desc != 0x10000 {
		t.Error("a ready queue was moved")
	}
	tr.Interrupt(InterruptUsedBuffer)
	if rd(tr, regInterruptStatus) != InterruptUsedBuffer {
		t.Error("interrupt status")
	}
	wr(tr, regInterruptACK, InterruptUsedBuffer)
	if rd(tr, regInterruptStatus) != 0 {
		t.Error("interrupt not acknowledged")
	}
	// Configuration space, at any width.
	tr.Write(regConfig+2, []byte{0xaa, 0xbb})
	b := make([]byte, 2)
	tr.Read(regConfig+2, b)
	if b[0] != 0xaa || b[1] != 0xbb {
		t.Errorf("config %x", b)
	}
	wr(tr, regStatus, 0)
	if dev.resets != 1 || rd(tr, regStatus) != 0 || rd(tr, regQueueReady) != 0 {
		t.Errorf("reset: %d resets, status %d", dev.resets, rd(tr, regStatus))
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
			wr(tr, regDriverFeaturesSel, 0)
			wr(tr, regDriverFeatures, 1<<5)
			wr(tr, regDriverFeaturesSel, 1)
			wr(tr, regDriverFeatures, 1)
			wr(tr, regStatus, StatusAcknowledge|StatusDriver|StatusFeaturesOK)
		}, func(t *testing.T, tr *MMIO, _ *testDevice) {
			if rd(tr, regStatus)&StatusFeaturesOK != 0 {
				t.Error("FEATURES_OK kept")
			}
		}},
		{"a legacy driver (no VERSION_1)", func(tr *MMIO) {
			wr(tr, regStatus, StatusAcknowledge|StatusDriver|StatusFeaturesOK)
		}, func(t *testing.T, tr *MMIO, _ *testDevice) {
			if rd(tr, regStatus)&StatusFeaturesOK != 0 {
				t.Error("FEATURES_OK kept")
			}
		}},
		{"DRIVER_OK without FEATURES_OK", func(tr *MMIO) {
			wr(tr, regStatus, StatusAcknowledge|StatusDriver|StatusDriverOK)
		}, func(t *testing.T, tr *MMIO, dev *testDevice) {
			if dev.activated != nil || rd(tr, regStatus)&StatusFailed == 0 {
				t.Error("activated, or not failed")
			}
		}},
		{"a queue larger than offered", func(tr *MMIO) {
			setUpQueue(tr, 0, 16, 0x10000)
		}, func(t *testing.T, tr *MMIO, _ *testDevice) {
			if rd(tr, regQueueReady) != 0 || rd(tr, regStatus)&StatusNeedsReset == 0 {
				t.Error("queue ready, or no NEEDS_RESET")
			}
		}},
		{"a queue outside memory", func(tr *MMIO) {
			setUpQueue(tr, 0, 8, 0xff000)
		}, func(t *testing.T, tr *MMIO, _ *testDevice) {
			if rd(tr, regQueueReady) != 0 {
				t.Error("queue ready")
			}
		}},
		{"the device fails to start", func(tr *MMIO) {
			wr(tr, regDriverFeaturesSel, 1)
			wr(tr, regDriverFeatures, 1)
			wr(tr, regStatus, StatusAcknowledge|StatusDriver|StatusFeaturesOK)
			wr(tr, regStatus, StatusAcknowledge|StatusDriver|StatusFeaturesOK|StatusDriverOK)
		}, func(t *testing.T, tr *MMIO, _ *testDevice) {
			if rd(tr, regStatus)&StatusNeedsReset == 0 {
				t.Error("no NEEDS_RESET")
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dev := &testDevice{fail: c.name == "the device fails to start"}
			tr := NewMMIO(dev, memory.FromBytes(0, make([]byte, 1<<20)))
			c.drive(tr)
			c.check(t, tr, dev)
		})
	}
}
