// Package block is virtio-blk (virtio 1.2, 5.2) on a host file (a raw
// disk image or a block device): one request queue; reads and writes go
// between the file and guest memory directly (pread/pwrite into the
// buffers, no copy); a flush is fdatasync. Read-only when asked: writes
// then fail with an I/O error, as the specification says.
package block

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"os"

	"golang.org/x/sys/unix"

	"github.com/runx-dev/runx/vmm/virtio"
)

// Type is virtio-blk's device ID.
const Type = 2

// SectorSize is the unit of the protocol's offsets and of the capacity.
const SectorSize = 512

// Feature bits (5.2.3).
const (
	FeatureSegMax = 1 << 2 // the configuration's seg_max holds
	FeatureRO     = 1 << 5
	FeatureFlush  = 1 << 9
)

// Request types and status values (5.2.6).
const (
	typeIn    = 0
	typeOut   = 1
	typeFlush = 4
	typeGetID = 8

	statusOK     = 0
	statusIOErr  = 1
	statusUnsupp = 2
)

const headerSize = 16 // type, reserved, sector

// idSize is GET_ID's answer: the serial, NUL-padded.
const idSize = 20

// Config is a virtio-blk device.
type Config struct {
	File     *os.File
	ReadOnly bool
	ID       string // the disk's serial (/sys/block/vdX/serial), up to 20 bytes
}

// Device is a virtio-blk device.
type Device struct {
	cfg      Config
	capacity uint64 // in sectors
	workers  virtio.Workers
	act      virtio.Activation
}

// New makes the device; the file's size, rounded down to whole sectors,
// is the disk's.
func New(cfg Config) (*Device, error) {
	size, err := cfg.File.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("virtio-blk %s: its size: %w", cfg.File.Name(), err)
	}
	if size < SectorSize {
		return nil, fmt.Errorf("virtio-blk %s: %d bytes: smaller than a sector", cfg.File.Name(), size)
	}
	if len(cfg.ID) > idSize {
		return nil, fmt.Errorf("virtio-blk %s: serial %q: longer than %d bytes", cfg.File.Name(), cfg.ID, idSize)
	}
	return &Device{cfg: cfg, capacity: uint64(size) / SectorSize}, nil
}

func (*Device) Type() uint32 { return Type }

func (d *Device) Features() uint64 {
	f := uint64(virtio.FeatureEventIdx | FeatureSegMax | FeatureFlush)
	if d.cfg.ReadOnly {
		f |= FeatureRO
	}
	return f
}

func (*Device) QueueSizes() []uint16 { return []uint16{virtio.MaxQueueSize} }

// ReadConfig: capacity (sectors, 64-bit), size_max (unused), seg_max.
func (d *Device) ReadConfig(off uint64, data []byte) {
	var c [16]byte
	binary.LittleEndian.PutUint64(c[0:], d.capacity)
	binary.LittleEndian.PutUint32(c[12:], virtio.MaxQueueSize-2) // a chain's data buffers: all but header and status
	clear(data)
	if off < uint64(len(c)) {
		copy(data, c[off:])
	}
}

func (*Device) WriteConfig(uint64, []byte) {}

// Activate starts serving the request queue.
func (d *Device) Activate(a virtio.Activation) error {
	d.act = a
	d.workers.Start(a.Kicks[0], d.serve)
	return nil
}

// Reset stops the device.
func (d *Device) Reset() { d.workers.Stop() }

func (d *Device) serve() {
	if err := virtio.Drain(&d.act, 0, d.request); err != nil {
		log.Printf("virtio-blk: %v", err)
	}
}

// request serves one chain: a 16-byte header, the data buffers, a status
// byte (the last writable byte). A chain without room for those is
// malformed: the queue stops.
func (d *Device) request(c *virtio.Chain) (uint32, error) {
	mem := d.act.Mem
	// The chain's buffers as slices of guest memory, readable then
	// writable; the header is cut from the front, the status from the end.
	var rd, wr [][]byte
	for _, desc := range c.Descs {
		b, err := mem.Slice(desc.Addr, uint64(desc.Len))
		if err != nil {
			return 0, err
		}
		if desc.Write {
			wr = append(wr, b)
		} else {
			rd = append(rd, b)
		}
	}
	var hdr [headerSize]byte
	if n := gather(hdr[:], &rd); n < headerSize {
		return 0, fmt.Errorf("a request of %d bytes: no header", n)
	}
	status, ok := lastByte(&wr)
	if !ok {
		return 0, errors.New("a request without a status byte")
	}
	typ := binary.LittleEndian.Uint32(hdr[0:])
	sector := binary.LittleEndian.Uint64(hdr[8:])
	var (
		st      byte
		written uint32
	)
	switch typ {
	case typeIn:
		st, written = d.transfer(wr, sector, false)
	case typeOut:
		st, _ = d.transfer(rd, sector, true)
	case typeFlush:
		st = statusOK
		if !d.cfg.ReadOnly {
			if err := unix.Fdatasync(int(d.cfg.File.Fd())); err != nil {
				st = statusIOErr
			}
		}
	case typeGetID:
		var id [idSize]byte
		copy(id[:], d.cfg.ID)
		n := 0
		for _, b := range wr {
			n += copy(b, id[n:])
		}
		st, written = statusOK, uint32(n)
	default:
		st = statusUnsupp
	}
	*status = st
	return written + 1, nil
}

// transfer moves the buffers' bytes from (write false) or to the file at
// sector; the bytes it put into guest buffers are the second result.
// Beyond the disk's end, or writing a read-only disk, is an I/O error.
func (d *Device) transfer(bufs [][]byte, sector uint64, write bool) (byte, uint32) {
	var n uint64
	for _, b := range bufs {
		n += uint64(len(b))
	}
	// Compared in sectors first: a guest's sector times 512 may overflow.
	if write && d.cfg.ReadOnly || sector > d.capacity || n > (d.capacity-sector)*SectorSize {
		return statusIOErr, 0
	}
	off := int64(sector * SectorSize)
	var done uint32
	for _, b := range bufs {
		var err error
		var k int
		if write {
			k, err = d.cfg.File.WriteAt(b, off)
		} else {
			k, err = d.cfg.File.ReadAt(b, off)
		}
		done += uint32(k)
		if err != nil {
			return statusIOErr, done
		}
		off += int64(k)
	}
	if write {
		return statusOK, 0
	}
	return statusOK, done
}

// gather copies the first len(dst) bytes of bufs into dst and cuts them
// from bufs; it returns how many there were.
func gather(dst []byte, bufs *[][]byte) int {
	n := 0
	for len(*bufs) > 0 && n < len(dst) {
		b := (*bufs)[0]
		k := copy(dst[n:], b)
		n += k
		if k == len(b) {
			*bufs = (*bufs)[1:]
		} else {
			(*bufs)[0] = b[k:]
		}
	}
	return n
}

// lastByte cuts the last byte from bufs and returns it, in place.
func lastByte(bufs *[][]byte) (*byte, bool) {
	for len(*bufs) > 0 {
		i := len(*bufs) - 1
		b := (*bufs)[i]
		if len(b) == 0 {
			*bufs = (*bufs)[:i]
			continue
		}
		(*bufs)[i] = b[:len(b)-1]
		return &b[len(b)-1], true
	}
	return nil, false
}
