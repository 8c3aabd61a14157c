package kvm

// Regs is struct kvm_regs.
type Regs struct {
	RAX, RBX, RCX, RDX, RSI, RDI, RSP, RBP uint64
	R8, R9, R10, R11, R12, R13, R14, R15   uint64
	RIP, RFLAGS                            uint64
}

// Segment is struct kvm_segment.
type Segment struct {
	Base                           uint64
	Limit                          uint32
	Selector                       uint16
	Type                           uint8
	Present, DPL, DB, S, L, G, AVL uint8
	Unusable                       uint8
	_                              uint8
}

// DTable is struct kvm_dtable (GDT, IDT).
type DTable struct {
	Base  uint64
	Limit uint16
	_     [3]uint16
}

// Sregs is struct kvm_sregs.
type Sregs struct {
	CS, DS, ES, FS, GS, SS  Segment
	TR, LDT                 Segment
	GDT, IDT                DTable
	CR0, CR2, CR3, CR4, CR8 uint64
	EFER                    uint64
	APICBase                uint64
	InterruptBitmap         [4]uint64
}

// FPU is struct kvm_fpu.
type FPU struct {
	FPR        [8][16]uint8
	FCW, FSW   uint16
	FTWX       uint8
	_          uint8
	LastOpcode uint16
	LastIP     uint64
	LastDP     uint64
	XMM        [16][16]uint8
	MXCSR      uint32
	_          uint32
}

// LAPIC is struct kvm_lapic_state: the local APIC's register page.
type LAPIC struct {
	Regs [1024]byte
}

// MemoryRegion is struct kvm_userspace_memory_region.
type MemoryRegion struct {
	Slot          uint32
	Flags         uint32
	GuestPhysAddr uint64
	MemorySize    uint64
	UserspaceAddr uint64
}

// CPUIDEntry is struct kvm_cpuid_entry2.
type CPUIDEntry struct {
	Function, Index, Flags uint32
	EAX, EBX, ECX, EDX     uint32
	_                      [3]uint32
}

// CPUIDEntry.Flags: the leaf has subleaves told apart by ECX (Index).
const CPUIDFlagSignificantIndex = 1

// MSR is struct kvm_msr_entry.
type MSR struct {
	Index uint32
	_     uint32
	Data  uint64
}

type irqfdArgs struct {
	FD, GSI, Flags, ResampleFD uint32
	_                          [16]uint8
}

type ioeventfdArgs struct {
	Datamatch uint64
	Addr      uint64
	Len       uint32
	FD        int32
	Flags     uint32
	_         [36]uint8
}

// Exit reasons (kvm_run.exit_reason) the VMM tells apart.
const (
	ExitUnknown       = 0
	ExitException     = 1
	ExitIO            = 2
	ExitHLT           = 5
	ExitMMIO          = 6
	ExitShutdown      = 8
	ExitFailEntry     = 9
	ExitIntr          = 10
	ExitInternalError = 17
	ExitSystemEvent   = 24
)

// Capabilities checked at start.
const (
	CapIRQChip          = 0
	CapUserMemory       = 3
	CapSetTSSAddr       = 4
	CapExtCPUID         = 7
	CapIRQFD            = 32
	CapPIT2             = 33
	CapIOEventFD        = 36
	CapImmediateExit    = 136
	CapSetIdentityMap   = 37
	CapIRQRouting       = 25
	CapTSCDeadlineTimer = 72
)
