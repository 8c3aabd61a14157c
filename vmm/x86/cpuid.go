package x86

import "github.com/runx-dev/runx/vmm/kvm"

// What a vCPU's CPUID answers: KVM_GET_SUPPORTED_CPUID (what the host CPU
// has and KVM can virtualize), changed by this table, as Firecracker
// normalizes it. Every change has its reason; a leaf not named passes as
// KVM gives it.
var cpuidTable = []cpuidRule{
	{leaf: 0x1, reg: ecx, set: 1 << 31, why: "the hypervisor bit: the guest knows it is a VM and uses paravirtual clocks"},
	{leaf: 0x1, reg: ecx, clear: 1 << 3, why: "no MONITOR/MWAIT: an idle guest halts (KVM then schedules the host)"},
	{leaf: 0x1, reg: ecx, set: 1 << 24, why: "TSC-deadline timer: KVM emulates it (KVM_CAP_TSC_DEADLINE_TIMER) but leaves it out of the supported CPUID; without it Linux programs the LAPIC timer in one-shot mode, twice the timer interrupts"},
	{leaf: 0x1, reg: ebx, clear: 0xff << 24, topo: apicID24, why: "the initial APIC ID, bits 31-24: the vCPU's index"},
	{leaf: 0x1, reg: ebx, clear: 0xff << 16, topo: count16, why: "logical processors per package, bits 23-16: the vCPU count"},
	{leaf: 0x1, reg: edx, clear: 1 << 28, topo: htt, why: "HTT: set only when the package has more than one logical processor"},
	{leaf: 0x6, reg: all, clear: ^uint32(0), why: "thermal and power management: the host's, not the guest's"},
	{leaf: 0x6, reg: eax, set: 1 << 2, why: "ARAT, the LAPIC timer runs in every idle state (KVM's does): without it Linux treats it as stopping when idle"},
	{leaf: 0xa, reg: all, clear: ^uint32(0), why: "no performance monitoring unit is offered"},
	{leaf: 0xb, reg: edx, clear: ^uint32(0), topo: apicID, why: "x2APIC ID of every topology level: the vCPU's index"},
	{leaf: 0x1f, reg: edx, clear: ^uint32(0), topo: apicID, why: "x2APIC ID (V2 topology): the vCPU's index"},
	{leaf: 0x8000001e, reg: eax, clear: ^uint32(0), topo: apicID, why: "AMD extended APIC ID: the vCPU's index"},
}

type register int

const (
	eax register = iota
	ebx
	ecx
	edx
	all
)

// topology values a rule sets from the vCPU's index and count.
type topology int

const (
	none     topology = iota
	apicID            // the index
	apicID24          // the index in bits 31-24
	count16           // the count in bits 23-16
	htt               // bit 28 when count > 1
)

type cpuidRule struct {
	leaf       uint32
	reg        register
	clear, set uint32
	topo       topology
	why        string
}

func (r cpuidRule) value(id, count int) uint32 {
	switch r.topo {
	case apicID:
		return uint32(id)
	case apicID24:
		return uint32(id&0xff) << 24
	case count16:
		return uint32(count&0xff) << 16
	case htt:
		if count > 1 {
			return 1 << 28
		}
	}
	return 0
}

// CPUID is the table applied to supported for vCPU id of count.
func CPUID(supported []kvm.CPUIDEntry, id, count int) []kvm.CPUIDEntry {
	out := append([]kvm.CPUIDEntry(nil), supported...)
	for i := range out {
		e := &out[i]
		regs := []*uint32{&e.EAX, &e.EBX, &e.ECX, &e.EDX}
		for _, r := range cpuidTable {
			if r.leaf != e.Function {
				continue
			}
			targets := regs
			if r.reg != all {
				targets = regs[r.reg : r.reg+1]
			}
			for _, p := range targets {
				*p = *p&^r.clear | r.set | r.value(id, count)
			}
		}
	}
	return out
}
