// Package acpi writes the ACPI tables a Linux guest reads to find its CPUs,
// interrupt controllers and devices: RSDP, XSDT, a hardware-reduced FADT
// (no PM timer, no SCI; reset through the i8042 port), MADT and DSDT
// (virtio-mmio devices as LNRO0005, which is how Debian's kernels, built
// without VIRTIO_MMIO_CMDLINE_DEVICES, find them). Firecracker and QEMU's
// microvm machine do the same.
package acpi

import (
	"encoding/binary"
	"fmt"

	"github.com/runx-dev/runx/vmm/memory"
)

// Where the tables go: the BIOS area Linux scans for the RSDP (16-byte
// aligned, 0xe0000-0xfffff), outside the e820 RAM.
const (
	RSDPAddr   = 0xe0000
	tablesEnd  = 0x100000
	LAPICAddr  = 0xfee00000
	IOAPICAddr = 0xfec00000
)

// Device is a virtio-mmio window and its interrupt, as the DSDT lists it.
type Device struct {
	Addr, Size uint64
	IRQ        uint32
}

// Config is what the tables describe.
type Config struct {
	VCPUs   int
	Devices []Device
	// ResetPort and ResetValue: the FADT's reset register (system I/O).
	ResetPort  uint16
	ResetValue uint8
	// SerialPort and SerialIRQ: a 16550A the guest is told of (none at 0).
	SerialPort uint16
	SerialIRQ  uint8
	// SleepControl and SleepStatus: the hardware-reduced sleep registers
	// (system I/O), with \_S5's sleep type SleepS5: how the guest powers
	// off (none when SleepControl is 0).
	SleepControl, SleepStatus uint16
	SleepS5                   uint8
}

const (
	oemID      = "RUNX  "
	oemTableID = "RUNXVMM "
	creatorID  = "RUNX"
)

func header(sig string, length int, rev uint8) []byte {
	b := make([]byte, length)
	copy(b, sig)
	binary.LittleEndian.PutUint32(b[4:], uint32(length))
	b[8] = rev
	copy(b[10:], oemID)
	copy(b[16:], oemTableID)
	binary.LittleEndian.PutUint32(b[24:], 1)
	copy(b[28:], creatorID)
	binary.LittleEndian.PutUint32(b[32:], 1)
	return b
}

// checksum sets b[at] so that the bytes of b sum to zero.
func checksum(b []byte, at int) {
	b[at] = 0
	var s byte
	for _, c := range b {
		s += c
	}
	b[at] = -s
}

// Write puts the tables in mem and returns the RSDP's address.
func Write(mem *memory.Memory, cfg Config) (uint64, error) {
	if cfg.VCPUs < 1 || cfg.VCPUs > 254 {
		return 0, fmt.Errorf("ACPI: %d vCPUs: the MADT takes 1 to 254", cfg.VCPUs)
	}
	next := uint64(RSDPAddr + 64)
	var werr error
	put := func(t []byte) uint64 {
		addr := next
		next = (next + uint64(len(t)) + 15) &^ 15
		if next > tablesEnd {
			werr = fmt.Errorf("ACPI: the tables overflow the BIOS area")
			return 0
		}
		if err := mem.Write(addr, t); err != nil && werr == nil {
			werr = fmt.Errorf("ACPI tables: %w", err)
		}
		return addr
	}
	dsdt := put(DSDT(cfg))
	fadt := put(FADT(dsdt, cfg))
	madt := put(MADT(cfg.VCPUs))
	xsdt := put(XSDT(fadt, madt))
	if err := mem.Write(RSDPAddr, RSDP(xsdt)); err != nil && werr == nil {
		werr = fmt.Errorf("ACPI RSDP: %w", err)
	}
	return RSDPAddr, werr
}

// RSDP is the root pointer (ACPI 2.0+, 36 bytes) to the XSDT.
func RSDP(xsdt uint64) []byte {
	b := make([]byte, 36)
	copy(b, "RSD PTR ")
	copy(b[9:], oemID)
	b[15] = 2 // revision: 2.0 and later
	binary.LittleEndian.PutUint32(b[20:], 36)
	binary.LittleEndian.PutUint64(b[24:], xsdt)
	checksum(b[:20], 8)
	checksum(b, 32)
	return b
}

// XSDT lists the other tables (the DSDT is reached through the FADT).
func XSDT(tables ...uint64) []byte {
	b := header("XSDT", 36+8*len(tables), 1)
	for i, t := range tables {
		binary.LittleEndian.PutUint64(b[36+8*i:], t)
	}
	checksum(b, 9)
	return b
}

// FADT offsets (ACPI 6.x, 276 bytes).
const (
	fadtDSDT         = 40
	fadtIAPCBootArch = 109
	fadtFlags        = 112
	fadtResetReg     = 116
	fadtResetValue   = 128
	fadtMinor        = 131
	fadtXDSDT        = 140
	fadtSleepControl = 244
	fadtSleepStatus  = 256
	fadtHypervisor   = 268
	fadtLen          = 276

	flagResetRegSup = 1 << 10
	flagHWReduced   = 1 << 20
	bootArchNoVGA   = 1 << 2
	bootArchNoMSI   = 1 << 3
	bootArchNoASPM  = 1 << 4
	bootArchNoCMOS  = 1 << 5
	gasSystemIO     = 1
	gasAccessByte   = 1
)

// FADT: hardware-reduced ACPI (no fixed hardware to emulate), no VGA, no
// CMOS clock (kvmclock gives the time), reset by writing ResetValue at
// ResetPort, sleep (power-off) through the sleep registers.
func FADT(dsdt uint64, cfg Config) []byte {
	port, value := cfg.ResetPort, cfg.ResetValue
	b := header("FACP", fadtLen, 6)
	binary.LittleEndian.PutUint32(b[fadtDSDT:], uint32(dsdt))
	binary.LittleEndian.PutUint16(b[fadtIAPCBootArch:], bootArchNoVGA|bootArchNoASPM|bootArchNoCMOS)
	flags := uint32(flagHWReduced)
	if port != 0 {
		flags |= flagResetRegSup
		ioGAS(b[fadtResetReg:], port)
		b[fadtResetValue] = value
	}
	if cfg.SleepControl != 0 {
		ioGAS(b[fadtSleepControl:], cfg.SleepControl)
		ioGAS(b[fadtSleepStatus:], cfg.SleepStatus)
	}
	binary.LittleEndian.PutUint32(b[fadtFlags:], flags)
	b[fadtMinor] = 5
	binary.LittleEndian.PutUint64(b[fadtXDSDT:], dsdt)
	copy(b[fadtHypervisor:], "RUNXVMM\x00")
	checksum(b, 9)
	return b
}

// ioGAS writes a Generic Address Structure for one byte of system I/O.
func ioGAS(gas []byte, port uint16) {
	gas[0], gas[1], gas[2], gas[3] = gasSystemIO, 8, 0, gasAccessByte
	binary.LittleEndian.PutUint64(gas[4:], uint64(port))
}

// MADT: a local APIC per vCPU (APIC ID = index) and the IOAPIC, whose pins
// are GSIs 0-23 (KVM's in-kernel irqchip routes ISA IRQ n to pin n); the
// dual 8259 is there too (PCAT_COMPAT).
func MADT(vcpus int) []byte {
	b := header("APIC", 44+8*vcpus+12, 4)
	binary.LittleEndian.PutUint32(b[36:], LAPICAddr)
	binary.LittleEndian.PutUint32(b[40:], 1) // PCAT_COMPAT
	e := b[44:]
	for i := range vcpus {
		e[0], e[1], e[2], e[3] = 0, 8, byte(i), byte(i) // type, length, UID, APIC ID
		binary.LittleEndian.PutUint32(e[4:], 1)         // enabled
		e = e[8:]
	}
	e[0], e[1], e[2] = 1, 12, byte(vcpus) // IOAPIC, its ID after the CPUs'
	binary.LittleEndian.PutUint32(e[4:], IOAPICAddr)
	binary.LittleEndian.PutUint32(e[8:], 0) // GSI base
	checksum(b, 9)
	return b
}
