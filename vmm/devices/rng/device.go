// Package rng is virtio-rng (virtio 1.x, 5.4): one queue whose buffers the
// device fills with bytes from the host's getrandom, so a guest has entropy
// from its first moment (crng ready without waiting on jitter).
package rng

import (
	"crypto/rand"
	"log"

	"github.com/runx-dev/runx/vmm/virtio"
)

// Type is virtio-rng's device ID.
const Type = 4

// maxRequest bounds one buffer's fill: a guest asks for what it needs,
// usually 64 bytes.
const maxRequest = 64 << 10

// Device is a virtio-rng device.
type Device struct {
	workers virtio.Workers
	act     virtio.Activation
}

// New makes the device.
func New() *Device { return &Device{} }

func (*Device) Type() uint32                     { return Type }
func (*Device) Features() uint64                 { return 0 }
func (*Device) QueueSizes() []uint16             { return []uint16{virtio.MaxQueueSize} }
func (*Device) ReadConfig(_ uint64, data []byte) { clear(data) } // no configuration
func (*Device) WriteConfig(_ uint64, _ []byte)   {}

// Activate starts serving the request queue.
func (d *Device) Activate(a virtio.Activation) error {
	d.act = a
	d.workers.Start(a.Kicks[0], d.serve)
	return nil
}

func (d *Device) serve() {
	err := virtio.Drain(&d.act, 0, func(c *virtio.Chain) (uint32, error) {
		_, w := c.Sizes()
		b := make([]byte, min(w, maxRequest))
		_, _ = rand.Read(b) // never fails on Linux (getrandom)
		n, err := c.Fill(d.act.Mem, b)
		return uint32(n), err
	})
	if err != nil {
		log.Printf("virtio-rng: %v", err)
	}
}

// Reset stops the device.
func (d *Device) Reset() { d.workers.Stop() }
