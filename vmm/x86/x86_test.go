package x86

import (
	"testing"

	"github.com/runx-dev/runx/vmm/boot"
	"github.com/runx-dev/runx/vmm/kvm"
	"github.com/runx-dev/runx/vmm/memory"
)

// The GDT entries decode to the segments the CPU is given.
func TestSegments(t *testing.T) {
	cs := segment(gdtEntry(code64, 0, 0xfffff), 1)
	if cs.L != 1 || cs.DB != 0 || cs.Type != 0xb || cs.S != 1 || cs.Present != 1 || cs.G != 1 || cs.Limit != 0xffffffff || cs.Selector != 8 {
		t.Errorf("64-bit code segment %+v", cs)
	}
	if c := segment(gdtEntry(code32, 0, 0xfffff), 1); c.L != 0 || c.DB != 1 {
		t.Errorf("32-bit code segment %+v", c)
	}
	if tr := segment(gdtEntry(tss, 0, 0xfffff), 3); tr.S != 0 || tr.Type != 0xb || tr.Selector != 0x18 {
		t.Errorf("TSS %+v", tr)
	}
	if d := segment(gdtEntry(data, 0x12345678, 0xabcde), 2); d.Base != 0x12345678 || d.Limit != 0xabcdefff || d.Type != 3 {
		t.Errorf("data segment %+v", d)
	}
}

// Each protocol's entry: PVH in flat 32-bit protected mode with EBX the
// start info; the 64-bit protocol in long mode on identity-mapped pages.
func TestEntryState(t *testing.T) {
	mem := memory.FromBytes(0, make([]byte, 1<<20))
	regs, sregs, err := EntryState(mem, &boot.Entry{Protocol: boot.PVH, IP: 0x1000000, Params: boot.StartInfoAddr}, kvm.Sregs{CR0: cr0PG})
	if err != nil || regs.RBX != boot.StartInfoAddr || regs.RIP != 0x1000000 || sregs.CR0&cr0PG != 0 || sregs.CR0&cr0PE == 0 || sregs.EFER != 0 || sregs.CS.DB != 1 {
		t.Errorf("PVH: %v %+v %+v", err, regs, sregs)
	}
	regs, sregs, err = EntryState(mem, &boot.Entry{Protocol: boot.Linux64, IP: 0x1000200, Params: boot.ZeroPageAddr}, kvm.Sregs{})
	if err != nil || regs.RSI != boot.ZeroPageAddr || sregs.CR3 != pml4Addr || sregs.EFER&(eferLME|eferLMA) != eferLME|eferLMA || sregs.CS.L != 1 || sregs.CR4&cr4PAE == 0 {
		t.Errorf("64-bit: %v %+v %+v", err, regs, sregs)
	}
	if pd, _ := mem.U64(pdAddr + 8*511); pd != 511<<21|hugePage {
		t.Errorf("the last 2 MiB page maps %#x", pd)
	}
	if _, _, err := EntryState(mem, &boot.Entry{}, kvm.Sregs{}); err == nil {
		t.Error("an unknown protocol was given an entry state")
	}
}

// The CPUID table's changes, and the leaves it does not name untouched.
func TestCPUID(t *testing.T) {
	in := []kvm.CPUIDEntry{
		{Function: 0x1, EBX: 0xffff0800, ECX: 1<<3 | 1<<0, EDX: 1 << 28},
		{Function: 0xa, EAX: 7, EBX: 7},
		{Function: 0xb, Index: 1, EDX: 99},
		{Function: 0x7, EBX: 0x1234},
		{Function: 0x6, EAX: 0xff, ECX: 9},
	}
	out := CPUID(in, 3, 4)
	l1 := out[0]
	if l1.ECX&(1<<31) == 0 || l1.ECX&(1<<3) != 0 || l1.ECX&1 == 0 || l1.ECX&(1<<24) == 0 {
		t.Errorf("leaf 1 ECX %#x", l1.ECX)
	}
	if l1.EBX>>24 != 3 || l1.EBX>>16&0xff != 4 || l1.EBX&0xffff != 0x0800 || l1.EDX&(1<<28) == 0 {
		t.Errorf("leaf 1 EBX %#x EDX %#x", l1.EBX, l1.EDX)
	}
	if out[1].EAX != 0 || out[1].EBX != 0 || out[2].EDX != 3 || out[3].EBX != 0x1234 {
		t.Errorf("leaves %+v", out[1:])
	}
	if l6 := out[4]; l6.EAX != 1<<2 || l6.ECX != 0 {
		t.Errorf("leaf 6 %+v: want ARAT alone", l6)
	}
	if one := CPUID(in, 0, 1); one[0].EDX&(1<<28) != 0 {
		t.Error("HTT set for one vCPU")
	}
	if in[0].ECX&(1<<31) != 0 {
		t.Error("the input was changed")
	}
}

// The reset vector's stub pulses the i8042's reset line: mov al, 0xfe; out
// 0x64, al.
func TestResetVector(t *testing.T) {
	mem := memory.FromBytes(0, make([]byte, 1<<20))
	if err := ResetVector(mem); err != nil {
		t.Fatal(err)
	}
	b, _ := mem.Slice(0xffff0, 4)
	if string(b) != "\xb0\xfe\xe6\x64" {
		t.Errorf("reset vector % x", b)
	}
	if err := ResetVector(memory.FromBytes(0, make([]byte, 1<<19))); err == nil {
		t.Error("a reset vector outside memory was written")
	}
}
