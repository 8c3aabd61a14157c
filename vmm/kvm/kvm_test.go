package kvm

import (
	"testing"
	"unsafe"
)

// The structures' sizes and the ioctl numbers against the kernel's (the
// values of linux/kvm.h on x86-64): a layout mistake here corrupts the
// guest silently, so it is checked without KVM.
func TestABI(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"kvm_regs", unsafe.Sizeof(Regs{}), 144},
		{"kvm_segment", unsafe.Sizeof(Segment{}), 24},
		{"kvm_dtable", unsafe.Sizeof(DTable{}), 16},
		{"kvm_sregs", unsafe.Sizeof(Sregs{}), 312},
		{"kvm_fpu", unsafe.Sizeof(FPU{}), 416},
		{"kvm_lapic_state", unsafe.Sizeof(LAPIC{}), 1024},
		{"kvm_userspace_memory_region", unsafe.Sizeof(MemoryRegion{}), 32},
		{"kvm_cpuid_entry2", unsafe.Sizeof(CPUIDEntry{}), 40},
		{"kvm_msr_entry", unsafe.Sizeof(MSR{}), 16},
		{"kvm_irqfd", unsafe.Sizeof(irqfdArgs{}), 32},
		{"kvm_ioeventfd", unsafe.Sizeof(ioeventfdArgs{}), 64},
		{"KVM_RUN", run, 0xae80},
		{"KVM_CREATE_VM", createVM, 0xae01},
		{"KVM_GET_SUPPORTED_CPUID", getSupportedCPUID, 0xc008ae05},
		{"KVM_SET_USER_MEMORY_REGION", setUserMemoryRegion, 0x4020ae46},
		{"KVM_IRQ_LINE", irqLine, 0x4008ae61},
		{"KVM_IRQFD", irqfd, 0x4020ae76},
		{"KVM_CREATE_PIT2", createPIT2, 0x4040ae77},
		{"KVM_IOEVENTFD", ioeventfd, 0x4040ae79},
		{"KVM_GET_REGS", getRegs, 0x8090ae81},
		{"KVM_SET_REGS", setRegs, 0x4090ae82},
		{"KVM_GET_SREGS", getSregs, 0x8138ae83},
		{"KVM_SET_SREGS", setSregs, 0x4138ae84},
		{"KVM_SET_MSRS", setMSRs, 0x4008ae89},
		{"KVM_SET_FPU", setFPU, 0x41a0ae8d},
		{"KVM_GET_LAPIC", getLAPIC, 0x8400ae8e},
		{"KVM_SET_LAPIC", setLAPIC, 0x4400ae8f},
		{"KVM_SET_CPUID2", setCPUID2, 0x4008ae90},
	} {
		if c.got != c.want {
			t.Errorf("%s: %#x, want %#x", c.name, c.got, c.want)
		}
	}
}

// counted lays out kvm_msrs and kvm_cpuid2: the count, padding, then the
// entries, the given ones first, aligned for the kernel's 64-bit fields.
func TestCounted(t *testing.T) {
	msrs := []MSR{{Index: 0x10, Data: 7}, {Index: 0x2ff, Data: 0xc06}}
	p, arr := counted(3, msrs)
	if uintptr(p)%8 != 0 || *(*uint32)(p) != 3 || len(arr) != 3 {
		t.Fatalf("header at %#x: count %d, %d entries", uintptr(p), *(*uint32)(p), len(arr))
	}
	if e := (*MSR)(unsafe.Add(p, 8+unsafe.Sizeof(MSR{}))); *e != msrs[1] || arr[2] != (MSR{}) {
		t.Errorf("entries %+v", arr)
	}
}
