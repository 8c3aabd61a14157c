package rng

import (
	"bytes"
	"testing"
	"time"

	"github.com/runx-dev/runx/vmm/virtio"
	"github.com/runx-dev/runx/vmm/virtio/virtiotest"
)

func TestFillsBuffers(t *testing.T) {
	d := virtiotest.New(t, New())
	for _, size := range []uint32{1, 64, 4096} {
		head := d.Offer(0, nil, size, size)
		d.Kick(0)
		u, ok := d.Next(0, 5*time.Second)
		if !ok {
			t.Fatalf("%d bytes: no buffer returned", size)
		}
		if u.Head != head || u.Len != 2*size {
			t.Errorf("%d bytes: returned head %d (offered %d), %d bytes written", size, u.Head, head, u.Len)
		}
		if size >= 64 && (bytes.Equal(u.Written[0], make([]byte, size)) || bytes.Equal(u.Written[0], u.Written[1])) {
			t.Errorf("%d bytes: not random: %x", size, u.Written[0][:16])
		}
		if d.Interrupt(5*time.Second)&virtio.InterruptUsedBuffer == 0 {
			t.Errorf("%d bytes: no used-buffer interrupt", size)
		}
	}
}

// A request the device cannot serve (a buffer outside guest memory) is
// not answered, and the device does not crash.
func TestBadBuffer(t *testing.T) {
	d := virtiotest.New(t, New())
	head := d.Offer(0, nil, 16)
	if err := d.Mem.PutU64(d.DescAddr(0, head), 0xfff00000); err != nil {
		t.Fatal(err)
	}
	d.Kick(0)
	if _, ok := d.Next(0, 200*time.Millisecond); ok {
		t.Error("a chain outside memory was answered")
	}
}
