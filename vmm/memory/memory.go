// Package memory is a VM's guest memory: regions of host memory at guest
// physical addresses, with bounds-checked access for the devices and the
// boot loader. A guest address range is usable only inside one region.
package memory

import (
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Region is host memory mapped at a guest physical address.
type Region struct {
	GPA  uint64
	Data []byte
	fd   int // the memfd behind it (shared with vhost-user daemons), -1 for none
}

// Memory is the guest's memory, regions sorted by address, not overlapping.
type Memory struct {
	Regions []Region
}

// ErrRange is an access outside every region.
var ErrRange = errors.New("outside guest memory")

// FromBytes makes a memory of one region at gpa backed by b (tests).
func FromBytes(gpa uint64, b []byte) *Memory {
	return &Memory{Regions: []Region{{GPA: gpa, Data: b, fd: -1}}}
}

// NewShared maps size bytes of guest memory at gpa from a memfd, so that a
// vhost-user daemon (virtiofsd) can map it too (FD).
func NewShared(gpa uint64, size int) (*Memory, error) {
	if size <= 0 || size%unix.Getpagesize() != 0 {
		return nil, fmt.Errorf("guest memory of %d bytes: not a positive number of pages", size)
	}
	fd, err := unix.MemfdCreate("runx-guest-memory", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("guest memory: %w", err)
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("guest memory of %d bytes: %w", size, err)
	}
	b, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_NORESERVE)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("guest memory of %d bytes: %w", size, err)
	}
	return &Memory{Regions: []Region{{GPA: gpa, Data: b, fd: fd}}}, nil
}

// FD is the memfd of the region at gpa, -1 when it has none.
func (m *Memory) FD(gpa uint64) int {
	for _, r := range m.Regions {
		if r.GPA == gpa {
			return r.fd
		}
	}
	return -1
}

// Close unmaps the regions it mapped.
func (m *Memory) Close() error {
	var first error
	for _, r := range m.Regions {
		if r.fd >= 0 {
			if err := unix.Munmap(r.Data); err != nil && first == nil {
				first = err
			}
			unix.Close(r.fd)
		}
	}
	m.Regions = nil
	return first
}

// Size is the guest memory's total size in bytes.
func (m *Memory) Size() uint64 {
	var n uint64
	for _, r := range m.Regions {
		n += uint64(len(r.Data))
	}
	return n
}

// Slice is the host memory behind guest addresses [gpa, gpa+n): writes to
// it are the guest's memory.
func (m *Memory) Slice(gpa, n uint64) ([]byte, error) {
	for _, r := range m.Regions {
		if gpa >= r.GPA && gpa-r.GPA <= uint64(len(r.Data)) && n <= uint64(len(r.Data))-(gpa-r.GPA) {
			off := gpa - r.GPA
			return r.Data[off : off+n : off+n], nil
		}
	}
	return nil, fmt.Errorf("%#x-%#x: %w", gpa, gpa+n, ErrRange)
}

// Read copies guest memory at gpa into b.
func (m *Memory) Read(gpa uint64, b []byte) error {
	s, err := m.Slice(gpa, uint64(len(b)))
	if err == nil {
		copy(b, s)
	}
	return err
}

// Write copies b into guest memory at gpa.
func (m *Memory) Write(gpa uint64, b []byte) error {
	s, err := m.Slice(gpa, uint64(len(b)))
	if err == nil {
		copy(s, b)
	}
	return err
}

// The little-endian loads and stores virtio's rings need. Aligned 16- and
// 32-bit accesses are single instructions (so a vCPU never sees half of
// one) and the 32-bit ones are atomic with full fences: a ring's index is
// published after the entries it covers, and read before them.

func (m *Memory) U16(gpa uint64) (uint16, error)    { return load[uint16](m, gpa) }
func (m *Memory) U32(gpa uint64) (uint32, error)    { return load[uint32](m, gpa) }
func (m *Memory) U64(gpa uint64) (uint64, error)    { return load[uint64](m, gpa) }
func (m *Memory) PutU16(gpa uint64, v uint16) error { return store(m, gpa, v) }
func (m *Memory) PutU32(gpa uint64, v uint32) error { return store(m, gpa, v) }
func (m *Memory) PutU64(gpa uint64, v uint64) error { return store(m, gpa, v) }

// load reads a T at gpa in one access (x86 is little-endian).
func load[T uint16 | uint32 | uint64](m *Memory, gpa uint64) (T, error) {
	var v T
	s, err := m.Slice(gpa, uint64(unsafe.Sizeof(v)))
	if err != nil {
		return 0, err
	}
	return *(*T)(unsafe.Pointer(&s[0])), nil
}

// store writes v at gpa in one access.
func store[T uint16 | uint32 | uint64](m *Memory, gpa uint64, v T) error {
	s, err := m.Slice(gpa, uint64(unsafe.Sizeof(v)))
	if err != nil {
		return err
	}
	*(*T)(unsafe.Pointer(&s[0])) = v
	return nil
}

// LoadU32 and StoreU32 are atomic (and fences) when gpa is 4-aligned, as
// virtio's ring headers are.
func (m *Memory) LoadU32(gpa uint64) (uint32, error) {
	p, err := m.word(gpa)
	if err != nil {
		return 0, err
	}
	return atomic.LoadUint32(p), nil
}

func (m *Memory) StoreU32(gpa uint64, v uint32) error {
	p, err := m.word(gpa)
	if err == nil {
		atomic.StoreUint32(p, v)
	}
	return err
}

var fenceWord uint32

// Fence orders every store before it before every load after it (a locked
// instruction, x86's store-load barrier): virtio's event-index handshake
// needs it between writing the device's event index and reading the
// driver's index, or both sides can miss each other's update.
func Fence() { atomic.AddUint32(&fenceWord, 0) }

// word is the aligned 32-bit word at gpa.
func (m *Memory) word(gpa uint64) (*uint32, error) {
	s, err := m.Slice(gpa, 4)
	if err != nil {
		return nil, err
	}
	p := unsafe.Pointer(&s[0])
	if uintptr(p)%4 != 0 {
		return nil, fmt.Errorf("%#x: a 32-bit atomic access needs 4-byte alignment", gpa)
	}
	return (*uint32)(p), nil
}
