// Package x86 is the vCPU's side of starting a Linux guest on x86-64: the
// CPUID it is shown, its model-specific registers, its local APIC's wiring
// and its entry state (segments, control registers, page tables, registers)
// for each boot protocol vmm/boot can load.
package x86

import (
	"fmt"

	"github.com/runx-dev/runx/vmm/boot"
	"github.com/runx-dev/runx/vmm/devices/i8042"
	"github.com/runx-dev/runx/vmm/kvm"
	"github.com/runx-dev/runx/vmm/memory"
)

// Where the entry state lives in guest memory (Firecracker's layout, below
// boot's zero page and command line).
const (
	gdtAddr   = 0x500
	idtAddr   = 0x520
	stackTop  = 0x8ff0 // the 64-bit protocol's boot stack
	pml4Addr  = 0x9000
	pdptAddr  = 0xa000
	pdAddr    = 0xb000
	pageTable = 1<<0 | 1<<1 // present, writable
	hugePage  = pageTable | 1<<7
)

// Control register and EFER bits.
const (
	cr0PE   = 1 << 0
	cr0ET   = 1 << 4
	cr0PG   = 1 << 31
	cr4PAE  = 1 << 5
	eferLME = 1 << 8
	eferLMA = 1 << 10
)

// The boot GDT: null, code, data, TSS (selectors 0x8, 0x10, 0x18). Flags
// are the descriptor's bits 40-55: access byte, then G, D/B, L, AVL.
const (
	code64 = 0xa09b // present, ring 0, code execute/read accessed; G, L
	code32 = 0xc09b // the same with D (32-bit), not L
	data   = 0xc093 // present, ring 0, data read/write accessed; G, B
	tss    = 0x808b // present, 32/64-bit TSS (busy); G
)

func gdtEntry(flags uint16, base, limit uint32) uint64 {
	return uint64(base&0xff000000)<<(56-24) | uint64(flags&0xf0ff)<<40 |
		uint64(limit&0x000f0000)<<(48-16) | uint64(base&0x00ffffff)<<16 | uint64(limit&0xffff)
}

// segment is what the CPU caches from the GDT entry at index.
func segment(entry uint64, index int) kvm.Segment {
	g := uint8(entry >> 55 & 1)
	limit := uint32(entry&0xffff | (entry>>48&0xf)<<16)
	if g == 1 {
		limit = limit<<12 | 0xfff
	}
	present := uint8(entry >> 47 & 1)
	return kvm.Segment{
		Base:     entry>>16&0xffffff | (entry>>56&0xff)<<24,
		Limit:    limit,
		Selector: uint16(index * 8),
		Type:     uint8(entry >> 40 & 0xf),
		S:        uint8(entry >> 44 & 1),
		DPL:      uint8(entry >> 45 & 3),
		Present:  present,
		AVL:      uint8(entry >> 52 & 1),
		L:        uint8(entry >> 53 & 1),
		DB:       uint8(entry >> 54 & 1),
		G:        g,
		Unusable: 1 - present,
	}
}

// EntryState puts the boot GDT (and, for the 64-bit protocol, identity
// page tables for the first GiB) in mem and returns the boot vCPU's
// registers and special registers for e, starting from the vCPU's own.
func EntryState(mem *memory.Memory, e *boot.Entry, sregs kvm.Sregs) (kvm.Regs, kvm.Sregs, error) {
	codeFlags := uint16(code64)
	if e.Protocol == boot.PVH {
		codeFlags = code32
	}
	gdt := []uint64{0, gdtEntry(codeFlags, 0, 0xfffff), gdtEntry(data, 0, 0xfffff), gdtEntry(tss, 0, 0xfffff)}
	for i, d := range gdt {
		if err := mem.PutU64(gdtAddr+uint64(i)*8, d); err != nil {
			return kvm.Regs{}, sregs, fmt.Errorf("boot GDT: %w", err)
		}
	}
	if err := mem.PutU64(idtAddr, 0); err != nil {
		return kvm.Regs{}, sregs, fmt.Errorf("boot IDT: %w", err)
	}
	sregs.GDT = kvm.DTable{Base: gdtAddr, Limit: uint16(len(gdt)*8 - 1)}
	sregs.IDT = kvm.DTable{Base: idtAddr, Limit: 7}
	sregs.CS = segment(gdt[1], 1)
	d := segment(gdt[2], 2)
	sregs.DS, sregs.ES, sregs.FS, sregs.GS, sregs.SS = d, d, d, d, d
	sregs.TR = segment(gdt[3], 3)

	regs := kvm.Regs{RFLAGS: 2, RIP: e.IP}
	switch e.Protocol {
	case boot.PVH:
		// 32-bit protected mode, paging off, EBX the start info.
		sregs.CR0 = sregs.CR0&^cr0PG | cr0PE | cr0ET
		sregs.CR4 = 0
		sregs.EFER = 0
		regs.RBX = e.Params
	case boot.Linux64:
		// Long mode on identity-mapped 2 MiB pages over the first GiB.
		if err := identityMap(mem); err != nil {
			return kvm.Regs{}, sregs, err
		}
		sregs.CR3 = pml4Addr
		sregs.CR4 |= cr4PAE
		sregs.CR0 |= cr0PE | cr0PG | cr0ET
		sregs.EFER |= eferLME | eferLMA
		regs.RSI = e.Params
		regs.RSP, regs.RBP = stackTop, stackTop
	default:
		return kvm.Regs{}, sregs, fmt.Errorf("boot protocol %v: no entry state", e.Protocol)
	}
	return regs, sregs, nil
}

func identityMap(mem *memory.Memory) error {
	if err := mem.PutU64(pml4Addr, pdptAddr|pageTable); err != nil {
		return fmt.Errorf("boot page tables: %w", err)
	}
	if err := mem.PutU64(pdptAddr, pdAddr|pageTable); err != nil {
		return fmt.Errorf("boot page tables: %w", err)
	}
	for i := uint64(0); i < 512; i++ {
		if err := mem.PutU64(pdAddr+i*8, i<<21|hugePage); err != nil {
			return fmt.Errorf("boot page tables: %w", err)
		}
	}
	return nil
}

// FPU is the x87 and SSE state at reset as Linux expects it.
func FPU() kvm.FPU {
	return kvm.FPU{FCW: 0x37f, MXCSR: 0x1f80}
}

// resetVector is where a PC's CPU starts after a reset (F000:FFF0), where
// Linux's BIOS reboot (its default when no DMI quirk or reboot= says
// otherwise) jumps in real mode. With no firmware there, the VMM puts this
// stub: mov al, 0xfe; out 0x64, al (the i8042's pulse reset); hlt; jmp to
// the hlt. The reboot ends the VM instead of running zeros forever.
const resetVector = 0xffff0

var resetStub = []byte{0xb0, i8042.PulseReset, 0xe6, i8042.CommandPort, 0xf4, 0xeb, 0xfd}

// ResetVector writes that stub.
func ResetVector(mem *memory.Memory) error {
	if err := mem.Write(resetVector, resetStub); err != nil {
		return fmt.Errorf("reset vector: %w", err)
	}
	return nil
}
