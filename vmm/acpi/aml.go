package acpi

import "encoding/binary"

// A little AML (ACPI's bytecode), enough for the DSDT's device list.

const (
	amlZero     = 0x00
	amlOne      = 0x01
	amlName     = 0x08
	amlByte     = 0x0a
	amlWord     = 0x0b
	amlDword    = 0x0c
	amlString   = 0x0d
	amlScope    = 0x10
	amlBuffer   = 0x11
	amlPackage  = 0x12
	amlExtOp    = 0x5b
	amlDevice   = 0x82
	amlEndTag   = 0x79
	memory32Tag = 0x86 // Memory32Fixed descriptor
	extIRQTag   = 0x89 // Extended Interrupt descriptor
)

// pkgLength encodes an AML PkgLength covering n bytes of content (the
// encoding's own bytes included).
func pkgLength(n int) []byte {
	for size := 1; size <= 4; size++ {
		total := n + size
		if size == 1 && total < 0x40 {
			return []byte{byte(total)}
		}
		if size > 1 && total < 1<<(4+8*(size-1)) {
			b := []byte{byte(size-1)<<6 | byte(total&0xf)}
			for i := 1; i < size; i++ {
				b = append(b, byte(total>>(4+8*(i-1))))
			}
			return b
		}
	}
	panic("AML package too large")
}

func integer(v uint32) []byte {
	switch {
	case v == 0:
		return []byte{amlZero}
	case v == 1:
		return []byte{amlOne}
	case v <= 0xff:
		return []byte{amlByte, byte(v)}
	case v <= 0xffff:
		return []byte{amlWord, byte(v), byte(v >> 8)}
	}
	return binary.LittleEndian.AppendUint32([]byte{amlDword}, v)
}

func name(seg string, value []byte) []byte {
	return append(append([]byte{amlName}, seg...), value...)
}

func str(s string) []byte { return append(append([]byte{amlString}, s...), 0) }

func withPkg(op []byte, body []byte) []byte {
	return append(append(op, pkgLength(len(body))...), body...)
}

func buffer(data []byte) []byte {
	return withPkg([]byte{amlBuffer}, append(integer(uint32(len(data))), data...))
}

// crs is a _CRS resource template: a fixed 32-bit memory window and an
// edge-triggered, active-high interrupt.
func crs(addr, size uint64, irq uint32) []byte {
	var r []byte
	r = append(r, memory32Tag, 9, 0, 1) // length 9, read/write
	r = binary.LittleEndian.AppendUint32(r, uint32(addr))
	r = binary.LittleEndian.AppendUint32(r, uint32(size))
	r = append(r, extIRQTag, 6, 0, 1<<0|1<<1, 1) // consumer, edge; one interrupt
	r = binary.LittleEndian.AppendUint32(r, irq)
	r = append(r, amlEndTag, 0)
	return buffer(r)
}

// eisaPNP0501 is EisaId("PNP0501"), a 16550A-compatible UART.
const eisaPNP0501 = 0x0105d041

// com is a PC serial port: its 8 I/O ports and ISA interrupt. Listed, the
// guest maps its IRQ; a hardware-reduced ACPI guest has no legacy PIC and
// pre-maps no ISA interrupt, so an unlisted port gets none.
func com(port uint16, irq uint8) []byte {
	r := []byte{0x47, 1, byte(port), byte(port >> 8), byte(port), byte(port >> 8), 1, 8} // IO, 16-bit decode
	r = append(r, 0x22, byte(uint16(1)<<irq), byte(uint16(1)<<irq>>8))                   // IRQNoFlags
	r = append(r, amlEndTag, 0)
	var body []byte
	body = append(body, "COM1"...)
	body = append(body, name("_HID", integer(eisaPNP0501))...)
	body = append(body, name("_UID", integer(0))...)
	body = append(body, name("_CRS", buffer(r))...)
	return withPkg([]byte{amlExtOp, amlDevice}, body)
}

// DSDT: \_S5 when the machine can power off; in \_SB the serial port
// (when its port is not 0) and the virtio-mmio devices.
func DSDT(cfg Config) []byte {
	var aml, sb []byte
	if cfg.SleepControl != 0 {
		// Package (2) { SleepS5, 0 }: SLP_TYPa and SLP_TYPb.
		aml = append(aml, name("_S5_", withPkg([]byte{amlPackage}, append([]byte{2}, append(integer(uint32(cfg.SleepS5)), amlZero)...)))...)
	}
	if cfg.SerialPort != 0 {
		sb = append(sb, com(cfg.SerialPort, cfg.SerialIRQ)...)
	}
	for i, d := range cfg.Devices {
		var body []byte
		body = append(body, []byte("V"+hex3(i))...)
		body = append(body, name("_HID", str("LNRO0005"))...)
		body = append(body, name("_UID", integer(uint32(i)))...)
		body = append(body, name("_CCA", integer(1))...)
		body = append(body, name("_CRS", crs(d.Addr, d.Size, d.IRQ))...)
		sb = append(sb, withPkg([]byte{amlExtOp, amlDevice}, body)...)
	}
	if len(sb) > 0 {
		aml = append(aml, withPkg([]byte{amlScope}, append([]byte("_SB_"), sb...))...)
	}
	b := append(header("DSDT", 36, 2), aml...)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)))
	checksum(b, 9)
	return b
}

func hex3(i int) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[i>>8&0xf], digits[i>>4&0xf], digits[i&0xf]})
}
