package kvm

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// APIVersion is the only KVM API version there has ever been.
const APIVersion = 12

// System is an open /dev/kvm.
type System struct {
	fd       int
	runSize  int
	features []int
}

// ErrNoKVM: the host has no usable /dev/kvm.
var ErrNoKVM = errors.New("no usable /dev/kvm")

// Open opens path (normally /dev/kvm) and checks the API version and the
// capabilities the VMM needs.
func Open(path string) (*System, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrNoKVM, path, err)
	}
	return FromFD(fd, path)
}

// FromFD is Open of a descriptor of /dev/kvm opened elsewhere (a jailed
// VMM's, handed by its parent); it takes fd, closing it on error.
func FromFD(fd int, path string) (*System, error) {
	s := &System{fd: fd}
	v, err := ioctlRetry(fd, getAPIVersion, 0)
	if err != nil || v != APIVersion {
		s.Close()
		return nil, fmt.Errorf("%w: %s: API version %d (%v), want %d", ErrNoKVM, path, v, err, APIVersion)
	}
	for _, c := range []struct {
		cap  uintptr
		name string
	}{
		{CapIRQChip, "KVM_CAP_IRQCHIP"}, {CapUserMemory, "KVM_CAP_USER_MEMORY"},
		{CapSetTSSAddr, "KVM_CAP_SET_TSS_ADDR"}, {CapExtCPUID, "KVM_CAP_EXT_CPUID"},
		{CapIRQFD, "KVM_CAP_IRQFD"}, {CapPIT2, "KVM_CAP_PIT2"}, {CapIOEventFD, "KVM_CAP_IOEVENTFD"},
		{CapImmediateExit, "KVM_CAP_IMMEDIATE_EXIT"}, {CapTSCDeadlineTimer, "KVM_CAP_TSC_DEADLINE_TIMER"},
	} {
		if n, _ := s.Check(c.cap); n <= 0 {
			s.Close()
			return nil, fmt.Errorf("%w: %s lacks %s", ErrNoKVM, path, c.name)
		}
	}
	n, err := ioctlRetry(fd, getVCPUMmapSize, 0)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: KVM_GET_VCPU_MMAP_SIZE: %w", path, err)
	}
	s.runSize = int(n)
	return s, nil
}

// Check is KVM_CHECK_EXTENSION: 0 when the capability is absent.
func (s *System) Check(cap uintptr) (int, error) {
	n, err := ioctlRetry(s.fd, checkExtension, cap)
	return int(n), err
}

// SupportedCPUID is KVM_GET_SUPPORTED_CPUID: every leaf KVM can give a
// guest, with the bits it can virtualize.
func (s *System) SupportedCPUID() ([]CPUIDEntry, error) {
	for n := 64; n <= 4096; n *= 2 {
		arg, entries := counted[CPUIDEntry](n, nil)
		_, err := ioctlPtr(s.fd, getSupportedCPUID, arg)
		if err == unix.E2BIG {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("KVM_GET_SUPPORTED_CPUID: %w", err)
		}
		// The kernel wrote how many entries it filled.
		return append([]CPUIDEntry(nil), entries[:*(*uint32)(arg)]...), nil
	}
	return nil, errors.New("KVM_GET_SUPPORTED_CPUID: more than 4096 entries")
}

// CreateVM makes a VM with no memory and no vCPUs.
func (s *System) CreateVM() (*VM, error) {
	fd, err := ioctlRetry(s.fd, createVM, 0)
	if err != nil {
		return nil, fmt.Errorf("KVM_CREATE_VM: %w", err)
	}
	unix.CloseOnExec(int(fd))
	return &VM{fd: int(fd), runSize: s.runSize}, nil
}

// Close closes /dev/kvm (the VMs made from it stay).
func (s *System) Close() error { return unix.Close(s.fd) }
