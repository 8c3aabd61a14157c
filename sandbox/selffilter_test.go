package sandbox

import (
	"testing"

	"github.com/runx-dev/runx/internal/bpftest"
	"golang.org/x/sys/unix"

	"github.com/runx-dev/runx/internal/seccompbpf"
)

func TestSelfFilter(t *testing.T) {
	const lo, hi = 0x70001000, 0x70a00000
	prog, err := selfFilter(lo, hi)
	if err != nil {
		t.Fatal(err)
	}
	eperm := seccompbpf.Errno(unix.EPERM)
	for _, c := range []struct {
		nr   int
		ip   uint64
		want uint32
	}{
		{unix.SYS_BPF, lo, eperm},
		{unix.SYS_BPF, hi - 1, eperm},
		{unix.SYS_MOUNT, 0x70500000, eperm},
		{unix.SYS_PERSONALITY, lo + 8, eperm},
		{unix.SYS_BPF, hi, retAllow},             // past the text
		{unix.SYS_BPF, lo - 1, retAllow},         // before it
		{unix.SYS_BPF, 0x7f0070001000, retAllow}, // same low half, other high half
		{unix.SYS_BPF, 0x555555554000, retAllow}, // the workload's code
		{unix.SYS_WRITE, lo + 8, retAllow},       // a call the Sentry makes
		{unix.SYS_PTRACE, lo + 8, retAllow},      // it traces (exec)
		{unix.SYS_SECCOMP, lo + 8, retAllow},     // its loader installs filters
		{unix.SYS_CHROOT, lo + 8, retAllow},      // and enters the empty root
		{unix.SYS_SETNS, lo + 8, retAllow},       // and joins namespaces
	} {
		got, err := bpftest.RunAt(prog, seccompbpf.AuditArchX86_64, uint32(c.nr), c.ip)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s at %#x = %#x, want %#x", sysName(c.nr), c.ip, got, c.want)
		}
	}
	if got, _ := bpftest.RunAt(prog, 0x40000003, unix.SYS_BPF, lo); got != retAllow {
		t.Errorf("another architecture = %#x, want allow (the workload's filter refuses it)", got)
	}
	// A text across a 4 GiB boundary: 64-bit compares.
	prog, err = selfFilter(0xfffff000, 0x100001000)
	if err != nil {
		t.Fatal(err)
	}
	for ip, want := range map[uint64]uint32{0xffffefff: retAllow, 0xfffff000: eperm, 0x100000000: eperm,
		0x100000fff: eperm, 0x100001000: retAllow, 0x1fffff000: retAllow} {
		if got, _ := bpftest.RunAt(prog, seccompbpf.AuditArchX86_64, unix.SYS_BPF, ip); got != want {
			t.Errorf("bpf at %#x = %#x, want %#x", ip, got, want)
		}
	}
	if _, err := selfFilter(0x2000, 0x1000); err == nil {
		t.Error("an empty text was taken")
	}
}
