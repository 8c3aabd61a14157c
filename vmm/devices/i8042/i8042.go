// Package i8042 is the part of a PC's keyboard controller a guest uses to
// reset the machine: the pulse-reset command (0xfe) written to its command
// port, which Linux's reboot=k sends. That ends the VM. No keyboard.
package i8042

// Ports: data at 0x60, status and command at 0x64 (offset 4 of a range
// from 0x60).
const (
	Base        = 0x60
	Size        = 5
	CommandPort = Base + cmdOffset
	PulseReset  = 0xfe // the command that resets the machine
	cmdOffset   = 4
)

// Device calls Reset when the guest asks for one.
type Device struct {
	Reset func()
}

// Read answers with an empty controller: no data, input buffer free (so
// Linux's kb_wait returns at once).
func (d *Device) Read(offset uint64, data []byte) {
	clear(data)
}

func (d *Device) Write(offset uint64, data []byte) {
	if offset == cmdOffset && len(data) == 1 && data[0] == PulseReset && d.Reset != nil {
		d.Reset()
	}
}
