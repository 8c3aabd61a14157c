package x86

import "github.com/runx-dev/runx/vmm/kvm"

// Model-specific registers set on every vCPU before it starts: the system
// call MSRs cleared (the kernel sets its own), the TSC at 0, fast string
// operations on, and MTRRs enabled with write-back as the default type (a
// guest without MTRRs maps all memory uncached and crawls).
const (
	msrSysenterCS    = 0x174
	msrSysenterESP   = 0x175
	msrSysenterEIP   = 0x176
	msrSTAR          = 0xc0000081
	msrLSTAR         = 0xc0000082
	msrCSTAR         = 0xc0000083
	msrSyscallMask   = 0xc0000084
	msrKernelGSBase  = 0xc0000102
	msrTSC           = 0x10
	msrMiscEnable    = 0x1a0
	msrMTRRDefType   = 0x2ff
	miscFastStrings  = 1
	mtrrEnable       = 1 << 11
	mtrrTypeWriteBak = 6
)

// BootMSRs is that list.
func BootMSRs() []kvm.MSR {
	return []kvm.MSR{
		{Index: msrSysenterCS}, {Index: msrSysenterESP}, {Index: msrSysenterEIP},
		{Index: msrSTAR}, {Index: msrCSTAR}, {Index: msrKernelGSBase},
		{Index: msrSyscallMask}, {Index: msrLSTAR},
		{Index: msrTSC},
		{Index: msrMiscEnable, Data: miscFastStrings},
		{Index: msrMTRRDefType, Data: mtrrEnable | mtrrTypeWriteBak},
	}
}
