package kvm

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// VCPU is one virtual CPU and its shared kvm_run page.
type VCPU struct {
	ID  int
	fd  int
	run []byte
}

// Offsets in struct kvm_run.
const (
	runImmediateExit = 1
	runExitReason    = 8
	runExit          = 32 // the exit's union
)

// Run enters the guest until an exit that needs the VMM; EINTR when a
// signal (or SetImmediateExit) stopped it.
func (c *VCPU) Run() (reason uint32, err error) {
	if _, err := ioctl(c.fd, run, 0); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(c.run[runExitReason:]), nil
}

// SetImmediateExit makes the next (or a signalled) KVM_RUN return EINTR at
// once: with a signal to the vCPU's thread it is how the VM is stopped.
func (c *VCPU) SetImmediateExit(on bool) {
	var v byte
	if on {
		v = 1
	}
	c.run[runImmediateExit] = v
}

// IO is a port I/O exit: Data holds Size*Count bytes to write (Out) or to
// fill (in).
func (c *VCPU) IO() (port uint16, out bool, size int, data []byte) {
	r := c.run[runExit:]
	out = r[0] == 1
	size = int(r[1])
	port = binary.LittleEndian.Uint16(r[2:])
	count := int(binary.LittleEndian.Uint32(r[4:]))
	off := binary.LittleEndian.Uint64(r[8:])
	return port, out, size, c.run[off : off+uint64(size*count)]
}

// MMIO is an MMIO exit: Data is what is written, or to fill for a read.
func (c *VCPU) MMIO() (addr uint64, write bool, data []byte) {
	r := c.run[runExit:]
	addr = binary.LittleEndian.Uint64(r)
	n := binary.LittleEndian.Uint32(r[16:])
	return addr, r[20] != 0, r[8 : 8+min(n, 8)]
}

// ExitDetail is the exit union's first words, for an error message.
func (c *VCPU) ExitDetail() (uint64, uint64) {
	r := c.run[runExit:]
	return binary.LittleEndian.Uint64(r), binary.LittleEndian.Uint64(r[8:])
}

func (c *VCPU) GetRegs() (Regs, error) {
	var r Regs
	_, err := ioctlPtr(c.fd, getRegs, unsafe.Pointer(&r))
	return r, c.wrap("KVM_GET_REGS", err)
}

func (c *VCPU) SetRegs(r Regs) error {
	_, err := ioctlPtr(c.fd, setRegs, unsafe.Pointer(&r))
	return c.wrap("KVM_SET_REGS", err)
}

func (c *VCPU) GetSregs() (Sregs, error) {
	var s Sregs
	_, err := ioctlPtr(c.fd, getSregs, unsafe.Pointer(&s))
	return s, c.wrap("KVM_GET_SREGS", err)
}

func (c *VCPU) SetSregs(s Sregs) error {
	_, err := ioctlPtr(c.fd, setSregs, unsafe.Pointer(&s))
	return c.wrap("KVM_SET_SREGS", err)
}

func (c *VCPU) SetFPU(f FPU) error {
	_, err := ioctlPtr(c.fd, setFPU, unsafe.Pointer(&f))
	return c.wrap("KVM_SET_FPU", err)
}

func (c *VCPU) GetLAPIC() (LAPIC, error) {
	var l LAPIC
	_, err := ioctlPtr(c.fd, getLAPIC, unsafe.Pointer(&l))
	return l, c.wrap("KVM_GET_LAPIC", err)
}

func (c *VCPU) SetLAPIC(l LAPIC) error {
	_, err := ioctlPtr(c.fd, setLAPIC, unsafe.Pointer(&l))
	return c.wrap("KVM_SET_LAPIC", err)
}

// SetCPUID is KVM_SET_CPUID2: what the guest's CPUID instruction answers.
func (c *VCPU) SetCPUID(entries []CPUIDEntry) error {
	arg, _ := counted(len(entries), entries)
	_, err := ioctlPtr(c.fd, setCPUID2, arg)
	return c.wrap("KVM_SET_CPUID2", err)
}

// SetMSRs writes model-specific registers; all of them or an error.
func (c *VCPU) SetMSRs(msrs []MSR) error {
	arg, _ := counted(len(msrs), msrs)
	n, err := ioctlPtr(c.fd, setMSRs, arg)
	if err == nil && int(n) != len(msrs) {
		return fmt.Errorf("vCPU %d: KVM_SET_MSRS: MSR %#x refused", c.ID, msrs[n].Index)
	}
	return c.wrap("KVM_SET_MSRS", err)
}

// Close unmaps kvm_run and closes the vCPU.
func (c *VCPU) Close() error {
	unix.Munmap(c.run)
	return unix.Close(c.fd)
}

func (c *VCPU) wrap(what string, err error) error {
	if err != nil {
		return fmt.Errorf("vCPU %d: %s: %w", c.ID, what, err)
	}
	return nil
}
