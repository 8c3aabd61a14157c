package kvm

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// VM is a KVM virtual machine.
type VM struct {
	fd      int
	runSize int
	slots   uint32
}

// SetMemory maps host memory b at guest physical address gpa (a new slot).
func (vm *VM) SetMemory(gpa uint64, b []byte) error {
	r := MemoryRegion{
		Slot:          vm.slots,
		GuestPhysAddr: gpa,
		MemorySize:    uint64(len(b)),
		UserspaceAddr: uint64(uintptr(unsafe.Pointer(&b[0]))),
	}
	if _, err := ioctlPtr(vm.fd, setUserMemoryRegion, unsafe.Pointer(&r)); err != nil {
		return fmt.Errorf("KVM_SET_USER_MEMORY_REGION %#x+%#x: %w", gpa, len(b), err)
	}
	vm.slots++
	return nil
}

// SetTSSAddr and SetIdentityMapAddr place the three pages and the page
// Intel's VMX needs in guest physical space (below the 4 GiB boundary,
// where no RAM or device is).
func (vm *VM) SetTSSAddr(gpa uint64) error {
	_, err := ioctlRetry(vm.fd, setTSSAddr, uintptr(gpa))
	return wrap("KVM_SET_TSS_ADDR", err)
}

func (vm *VM) SetIdentityMapAddr(gpa uint64) error {
	_, err := ioctlPtr(vm.fd, setIdentityMapAddr, unsafe.Pointer(&gpa))
	return wrap("KVM_SET_IDENTITY_MAP_ADDR", err)
}

// CreateIRQChip makes the in-kernel PIC pair, IOAPIC and local APICs.
func (vm *VM) CreateIRQChip() error {
	_, err := ioctlRetry(vm.fd, createIRQChip, 0)
	return wrap("KVM_CREATE_IRQCHIP", err)
}

// CreatePIT makes the in-kernel i8254 PIT (with a dummy speaker port).
func (vm *VM) CreatePIT() error {
	var cfg [16]uint32
	cfg[0] = 1 // KVM_PIT_SPEAKER_DUMMY
	_, err := ioctlPtr(vm.fd, createPIT2, unsafe.Pointer(&cfg))
	return wrap("KVM_CREATE_PIT2", err)
}

// SetIRQLine sets an interrupt line (GSI) of the in-kernel irqchip.
func (vm *VM) SetIRQLine(gsi uint32, high bool) error {
	l := [2]uint32{gsi, 0}
	if high {
		l[1] = 1
	}
	_, err := ioctlPtr(vm.fd, irqLine, unsafe.Pointer(&l))
	return wrap("KVM_IRQ_LINE", err)
}

// IRQFD makes a write to the eventfd efd raise gsi.
func (vm *VM) IRQFD(efd int, gsi uint32) error {
	a := irqfdArgs{FD: uint32(efd), GSI: gsi}
	_, err := ioctlPtr(vm.fd, irqfd, unsafe.Pointer(&a))
	return wrap(fmt.Sprintf("KVM_IRQFD gsi %d", gsi), err)
}

// IOEventFD makes a guest's 4-byte MMIO write of datamatch at addr signal
// the eventfd efd in the kernel, without a vCPU exit (a queue notify).
func (vm *VM) IOEventFD(efd int, addr uint64, datamatch uint32) error {
	a := ioeventfdArgs{Datamatch: uint64(datamatch), Addr: addr, Len: 4, FD: int32(efd), Flags: 1 /* DATAMATCH */}
	_, err := ioctlPtr(vm.fd, ioeventfd, unsafe.Pointer(&a))
	return wrap(fmt.Sprintf("KVM_IOEVENTFD %#x", addr), err)
}

// CreateVCPU makes vCPU id and maps its kvm_run page.
func (vm *VM) CreateVCPU(id int) (*VCPU, error) {
	fd, err := ioctlRetry(vm.fd, createVCPU, uintptr(id))
	if err != nil {
		return nil, fmt.Errorf("KVM_CREATE_VCPU %d: %w", id, err)
	}
	unix.CloseOnExec(int(fd))
	run, err := unix.Mmap(int(fd), 0, vm.runSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(int(fd))
		return nil, fmt.Errorf("vCPU %d: mapping kvm_run: %w", id, err)
	}
	return &VCPU{ID: id, fd: int(fd), run: run}, nil
}

// Close closes the VM (its memory stays the caller's).
func (vm *VM) Close() error { return unix.Close(vm.fd) }

func wrap(what string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
