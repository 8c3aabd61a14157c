package x86

import (
	"encoding/binary"

	"github.com/runx-dev/runx/vmm/kvm"
)

// Local APIC registers and delivery modes.
const (
	apicLVT0     = 0x350
	apicLVT1     = 0x360
	modeExtINT   = 0x7
	modeNMI      = 0x4
	deliveryMask = 0x700
)

// WireLAPIC wires the local APIC's LINT0 to the PIC (ExtINT) and LINT1 to
// NMI, as a PC's firmware leaves it: the legacy timer and serial
// interrupts reach a guest that has not set up its IOAPIC yet.
func WireLAPIC(l kvm.LAPIC) kvm.LAPIC {
	set := func(reg int, mode uint32) {
		v := binary.LittleEndian.Uint32(l.Regs[reg:])
		binary.LittleEndian.PutUint32(l.Regs[reg:], v&^deliveryMask|mode<<8)
	}
	set(apicLVT0, modeExtINT)
	set(apicLVT1, modeNMI)
	return l
}
