package sandbox

import (
	"testing"

	"github.com/runx-dev/runx/internal/bpftest"
	"github.com/runx-dev/runx/internal/seccompbpf"
)

// The filters compiled by internal/seccompbpf answer every call as the
// hand-written compilers they replace did.

func TestWorkloadFilterEquivalent(t *testing.T) {
	for _, fds := range [][2]int{{1023, 1022}, {65535, 65534}, {9, 8}} {
		old, err := legacyCompile(legacyFilterRules(fds[0], fds[1]))
		if err != nil {
			t.Fatal(err)
		}
		f := workloadFilter(fds[0], fds[1])
		prog, err := seccompbpf.Compile(f)
		if err != nil {
			t.Fatal(err)
		}
		vals := map[uint32][]uint64{}
		for _, r := range f.Rules {
			for _, nr := range r.Nrs {
				for _, c := range r.Conds {
					vals[uint32(nr)] = append(vals[uint32(nr)], c.Val)
				}
			}
		}
		diff, err := bpftest.Compare(old, prog, bpftest.Calls{
			Nrs:   bpftest.AllNrs(600),
			Archs: []uint32{seccompbpf.AuditArchX86_64, 0x40000003, 0},
			Vals:  func(nr uint32) []uint64 { return bpftest.Around(vals[nr]...) },
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff != "" {
			t.Errorf("fds %v: %s", fds, diff)
		}
		t.Logf("fds %v: %d instructions, %d before", fds, len(prog), len(old))
	}
}

func TestSelfFilterEquivalent(t *testing.T) {
	for _, r := range [][2]uint64{{0x70001000, 0x70a00000}, {0x400000, 0x1000000}, {0x7f0000000000, 0x7f0000800000}} {
		old, err := legacySelfFilter(r[0], r[1])
		if err != nil {
			t.Fatal(err)
		}
		prog, err := selfFilter(r[0], r[1])
		if err != nil {
			t.Fatal(err)
		}
		diff, err := bpftest.Compare(old, prog, bpftest.Calls{
			Nrs:   bpftest.AllNrs(600),
			Archs: []uint32{seccompbpf.AuditArchX86_64, 0x40000003},
			IPs:   bpftest.Around(r[0], r[1], r[1]-1, (r[0]+r[1])/2),
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff != "" {
			t.Errorf("text %#x-%#x: %s", r[0], r[1], diff)
		}
		t.Logf("text %#x-%#x: %d instructions, %d before", r[0], r[1], len(prog), len(old))
	}
}
