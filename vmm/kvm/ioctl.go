// Package kvm is the part of Linux's KVM API runx's VMM uses, through
// ioctls on /dev/kvm, a VM and its vCPUs (Documentation/virt/kvm/api.rst).
// The structures mirror the kernel's x86-64 layouts byte for byte.
package kvm

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

const kvmio = 0xAE

// Linux's _IOC encoding.
func io(nr uintptr) uintptr         { return kvmio<<8 | nr }
func iow(nr, size uintptr) uintptr  { return 1<<30 | size<<16 | kvmio<<8 | nr }
func ior(nr, size uintptr) uintptr  { return 2<<30 | size<<16 | kvmio<<8 | nr }
func iowr(nr, size uintptr) uintptr { return 3<<30 | size<<16 | kvmio<<8 | nr }
func sizeOf[T any]() uintptr        { var v T; return unsafe.Sizeof(v) }
func errno(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

var (
	getAPIVersion       = io(0x00)
	createVM            = io(0x01)
	checkExtension      = io(0x03)
	getVCPUMmapSize     = io(0x04)
	getSupportedCPUID   = iowr(0x05, 8)
	createVCPU          = io(0x41)
	setUserMemoryRegion = iow(0x46, sizeOf[MemoryRegion]())
	setTSSAddr          = io(0x47)
	setIdentityMapAddr  = iow(0x48, 8)
	createIRQChip       = io(0x60)
	irqLine             = iow(0x61, 8)
	irqfd               = iow(0x76, sizeOf[irqfdArgs]())
	createPIT2          = iow(0x77, 64)
	ioeventfd           = iow(0x79, sizeOf[ioeventfdArgs]())
	run                 = io(0x80)
	getRegs             = ior(0x81, sizeOf[Regs]())
	setRegs             = iow(0x82, sizeOf[Regs]())
	getSregs            = ior(0x83, sizeOf[Sregs]())
	setSregs            = iow(0x84, sizeOf[Sregs]())
	setMSRs             = iow(0x89, 8)
	setFPU              = iow(0x8d, sizeOf[FPU]())
	getLAPIC            = ior(0x8e, sizeOf[LAPIC]())
	setLAPIC            = iow(0x8f, sizeOf[LAPIC]())
	setCPUID2           = iow(0x90, 8)
)

// ioctl is one ioctl that may block (KVM_RUN) or not; EINTR is returned,
// not retried: a signal is how a vCPU is told to stop.
func ioctl(fd int, req, arg uintptr) (uintptr, error) {
	r, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, arg)
	return r, errno(e)
}

// ioctlRetry retries EINTR, for the set-up calls a signal must not fail.
func ioctlRetry(fd int, req, arg uintptr) (uintptr, error) {
	for {
		r, err := ioctl(fd, req, arg)
		if err != unix.EINTR {
			return r, err
		}
	}
}

// ioctlPtr is ioctlRetry for an argument in memory: converted to an
// address only in the system call's own argument list, so the memory stays
// live (and in place) until the kernel is done with it.
func ioctlPtr(fd int, req uintptr, arg unsafe.Pointer) (uintptr, error) {
	for {
		r, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
		if e != unix.EINTR {
			runtime.KeepAlive(arg)
			return r, errno(e)
		}
	}
}

// counted is a kernel structure of a 32-bit count, 4 bytes of padding and
// an array of T (kvm_cpuid2, kvm_msrs): n entries, the first ones items,
// in 8-byte-aligned memory. It returns the structure and its array.
func counted[T any](n int, items []T) (unsafe.Pointer, []T) {
	size := unsafe.Sizeof(*new(T))
	buf := make([]uint64, 1+(uintptr(n)*size+7)/8)
	p := unsafe.Pointer(&buf[0])
	*(*uint32)(p) = uint32(n)
	arr := unsafe.Slice((*T)(unsafe.Add(p, 8)), n)
	copy(arr, items)
	return p, arr
}

// The ioctls a running VM makes (vCPUs in KVM_RUN, devices pulsing a
// line): all its seccomp filter lets through.
var (
	RunIoctl     = run
	IRQLineIoctl = irqLine
)
