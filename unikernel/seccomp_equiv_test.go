package unikernel

import (
	"testing"

	"github.com/runx-dev/runx/internal/bpftest"
	"github.com/runx-dev/runx/internal/seccompbpf"
)

// The allowlist compiled by internal/seccompbpf answers every call as the
// hand-written compiler it replaces did.
func TestAllowlistEquivalent(t *testing.T) {
	many := &Manifest{Entries: []Entry{{Type: devReservedBase}}}
	for i := 0; i < 63; i++ {
		many.Entries = append(many.Entries, Entry{Type: DevBlock, HostFD: 10 + i, Capacity: 1 << 20, BlockSize: 4096, Attached: true})
	}
	for _, m := range []*Manifest{
		{Entries: []Entry{{Type: devReservedBase}}},
		{Entries: []Entry{
			{Type: devReservedBase},
			{Name: "storage", Type: DevBlock, HostFD: 5, Capacity: 1 << 22, BlockSize: 512, Attached: true},
			{Name: "big", Type: DevBlock, HostFD: 9, Capacity: 1 << 40, BlockSize: 4096, Attached: true},
			{Name: "service0", Type: DevNet, HostFD: 6, Attached: true},
			{Name: "unused", Type: DevNet, HostFD: 11},
		}},
		many,
	} {
		old, err := legacyCompile(legacyAllowlist(m, 7, 8))
		if err != nil {
			t.Fatal(err)
		}
		f := allowlist(m, 7, 8)
		prog, err := seccompbpf.Compile(f)
		if err != nil {
			t.Fatal(err)
		}
		vals := map[uint32][]uint64{}
		for _, r := range f.Rules {
			for _, c := range r.Conds {
				vals[uint32(r.Nrs[0])] = append(vals[uint32(r.Nrs[0])], c.Val)
			}
		}
		diff, err := bpftest.Compare(old, prog, bpftest.Calls{
			Nrs:   bpftest.AllNrs(600),
			Archs: []uint32{seccompbpf.AuditArchX86_64, 0x40000003},
			Vals:  func(nr uint32) []uint64 { return bpftest.Around(vals[nr]...) },
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff != "" {
			t.Errorf("%d entries: %s", len(m.Entries), diff)
		}
		t.Logf("%d entries: %d instructions, %d before", len(m.Entries), len(prog), len(old))
	}
}
