package sandbox

import (
	"testing"

	"github.com/runx-dev/runx/internal/bpftest"
	"github.com/runx-dev/runx/internal/seccompbpf"
)

// The filter compiled from the syscall table answers every call as the one
// filter.go wrote by hand did.
func TestTableFilterEquivalent(t *testing.T) {
	for _, f := range []fds{{1023, 1022}, {65535, 65534}, {9, 8}} {
		old, err := seccompbpf.Compile(seccompbpf.Filter{OtherArch: seccompbpf.Errno(38), X32: seccompbpf.Errno(38),
			Rules: legacyFilterRules(f.exec, f.cwd), Default: retNotify})
		if err != nil {
			t.Fatal(err)
		}
		prog, err := seccompbpf.Compile(workloadFilter(f.exec, f.cwd))
		if err != nil {
			t.Fatal(err)
		}
		vals := map[uint32][]uint64{}
		for _, r := range append(legacyFilterRules(f.exec, f.cwd), filterRules(f)...) {
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
			t.Errorf("fds %v: %s", f, diff)
		}
		t.Logf("fds %v: %d instructions, %d before", f, len(prog), len(old))
	}
}
