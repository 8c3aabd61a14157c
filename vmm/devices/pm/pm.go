// Package pm is the power-off of a hardware-reduced ACPI machine: the
// FADT's sleep control register, which Linux writes with SLP_TYP (from the
// DSDT's \_S5 package) and SLP_EN to enter S5, and its sleep status
// register, which must exist for Linux to offer ACPI power-off at all.
package pm

// The two registers' I/O ports.
const (
	ControlPort = 0x600
	StatusPort  = 0x601
	Size        = 2
)

// S5 is the sleep type the DSDT gives \_S5 (soft off).
const S5 = 5

const (
	slpTypShift = 2
	slpTypMask  = 7
	slpEn       = 1 << 5
)

// Device powers the VM off.
type Device struct {
	PowerOff func()
}

// Read: no wake status to report.
func (*Device) Read(_ uint64, data []byte) { clear(data) }

// Write: SLP_EN with SLP_TYP S5 at the control register powers off.
func (d *Device) Write(offset uint64, data []byte) {
	if offset != 0 || len(data) == 0 {
		return
	}
	if v := data[0]; v&slpEn != 0 && v>>slpTypShift&slpTypMask == S5 {
		d.PowerOff()
	}
}
