// Package bus dispatches a vCPU's port I/O and MMIO exits to the device
// whose address range holds them.
package bus

import (
	"fmt"
	"sort"
	"sync"
)

// Device is what sits on a bus: reads and writes at an offset in its range.
type Device interface {
	Read(offset uint64, data []byte)
	Write(offset uint64, data []byte)
}

type entry struct {
	base, size uint64
	dev        Device
}

// Bus is a set of non-overlapping ranges.
type Bus struct {
	mu      sync.RWMutex
	entries []entry
}

// Insert puts dev at [base, base+size).
func (b *Bus) Insert(base, size uint64, dev Device) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if size == 0 || base+size < base {
		return fmt.Errorf("bus range %#x+%#x is empty or wraps", base, size)
	}
	for _, e := range b.entries {
		if base < e.base+e.size && e.base < base+size {
			return fmt.Errorf("bus range %#x+%#x overlaps %#x+%#x", base, size, e.base, e.size)
		}
	}
	b.entries = append(b.entries, entry{base, size, dev})
	sort.Slice(b.entries, func(i, j int) bool { return b.entries[i].base < b.entries[j].base })
	return nil
}

func (b *Bus) find(addr uint64) (Device, uint64, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	i := sort.Search(len(b.entries), func(i int) bool { return b.entries[i].base+b.entries[i].size > addr })
	if i < len(b.entries) && b.entries[i].base <= addr {
		return b.entries[i].dev, addr - b.entries[i].base, true
	}
	return nil, 0, false
}

// Read fills data from the device at addr; false when none is there.
func (b *Bus) Read(addr uint64, data []byte) bool {
	d, off, ok := b.find(addr)
	if ok {
		d.Read(off, data)
	}
	return ok
}

// Write hands data to the device at addr; false when none is there.
func (b *Bus) Write(addr uint64, data []byte) bool {
	d, off, ok := b.find(addr)
	if ok {
		d.Write(off, data)
	}
	return ok
}
