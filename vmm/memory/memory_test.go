package memory

import (
	"errors"
	"testing"
)

func TestSliceBounds(t *testing.T) {
	m := &Memory{Regions: []Region{{GPA: 0, Data: make([]byte, 0x1000), fd: -1}, {GPA: 0x10000, Data: make([]byte, 0x1000), fd: -1}}}
	for _, c := range []struct {
		gpa, n uint64
		ok     bool
	}{
		{0, 0x1000, true},
		{0xfff, 1, true},
		{0x1000, 0, true}, // an empty range at a region's end
		{0xfff, 2, false}, // across a region's end
		{0x1000, 1, false},
		{0x10000, 0x1000, true},
		{0xffff, 2, false}, // across a region's start
		{0x10800, 0x801, false},
		{^uint64(0), 2, false}, // wraps
		{0x10, ^uint64(0), false},
	} {
		_, err := m.Slice(c.gpa, c.n)
		if c.ok != (err == nil) || err != nil && !errors.Is(err, ErrRange) {
			t.Errorf("Slice(%#x, %#x): %v", c.gpa, c.n, err)
		}
	}
	if err := m.PutU64(0x10ff8, 0x0102030405060708); err != nil {
		t.Fatal(err)
	}
	if v, _ := m.U64(0x10ff8); v != 0x0102030405060708 {
		t.Errorf("U64: %#x", v)
	}
	if v, _ := m.U16(0x10ff8); v != 0x0708 {
		t.Errorf("U16 (little-endian): %#x", v)
	}
}

func TestNewShared(t *testing.T) {
	if _, err := NewShared(0, 1000); err == nil {
		t.Error("1000 bytes: not whole pages, yet made")
	}
	m, err := NewShared(0x100000, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.FD(0x100000) < 0 || m.Size() != 1<<20 {
		t.Errorf("fd %d, size %d", m.FD(0x100000), m.Size())
	}
	if err := m.Write(0x100000+(1<<20)-4, []byte{1, 2, 3, 4}); err != nil {
		t.Error(err)
	}
	if err := m.Write(0x100000+(1<<20)-3, []byte{1, 2, 3, 4}); !errors.Is(err, ErrRange) {
		t.Errorf("a write past the end: %v", err)
	}
	// Page-aligned host memory: a guest address off 4 bytes is an
	// unaligned host address (a Go byte slice need not be aligned).
	if err := m.StoreU32(0x100000+0xff9, 1); err == nil {
		t.Error("an unaligned atomic store was taken")
	}
	if err := m.StoreU32(0x100000+0xff8, 1); err != nil {
		t.Errorf("an aligned atomic store: %v", err)
	}
}
