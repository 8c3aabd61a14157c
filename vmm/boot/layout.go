// Package boot loads a Linux guest into guest memory for the VMM: an
// uncompressed vmlinux through its PVH entry, or a bzImage through the
// 64-bit boot protocol, with its initramfs, command line and memory map.
// It only writes guest memory and says where and how to enter: the vCPU's
// registers, segments and page tables are the VMM's (vmm/README.md).
package boot

// Where things go in guest memory (Firecracker's layout).
const (
	StartInfoAddr = 0x6000   // PVH: hvm_start_info, then its memory map
	ZeroPageAddr  = 0x7000   // 64-bit boot protocol: boot_params
	CmdlineAddr   = 0x20000  // the kernel's command line
	CmdlineMax    = 0x10000  // its room, NUL included
	HighMemory    = 0x100000 // the kernel's load address when it has no preference
	ebdaStart     = 0x9fc00  // low memory ends here: the BIOS's area above
	// MMIOStart: the top of the 32-bit address space is left to devices
	// (their virtio-mmio windows, the IOAPIC, the LAPIC).
	MMIOStart = 1<<32 - 768<<20
	mmioEnd   = 1 << 32
)

// E820 types.
const (
	E820RAM      = 1
	E820Reserved = 2
)

// E820Entry is one range of the guest's memory map.
type E820Entry struct {
	Addr, Size uint64
	Type       uint32
}

// MemoryMap is the map a guest of memSize bytes (guest memory from 0, with
// the MMIO hole skipped above MMIOStart) is given: low memory below the
// BIOS's area, then RAM from 1 MiB, split around the hole.
func MemoryMap(memSize uint64) []E820Entry {
	m := []E820Entry{{0, ebdaStart, E820RAM}}
	if memSize <= HighMemory {
		return m
	}
	if memSize <= MMIOStart {
		return append(m, E820Entry{HighMemory, memSize - HighMemory, E820RAM})
	}
	return append(m, E820Entry{HighMemory, MMIOStart - HighMemory, E820RAM},
		E820Entry{mmioEnd, memSize - MMIOStart, E820RAM})
}

// RAMTop is the end of the guest's RAM below 4 GiB: what a 32-bit field
// (an initramfs's address) can reach.
func RAMTop(memSize uint64) uint64 {
	return min(memSize, MMIOStart)
}
