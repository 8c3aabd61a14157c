package sandbox

import (
	"testing"

	"github.com/runx-dev/runx/internal/bpftest"
	"golang.org/x/sys/unix"
)

func TestSelfFilter(t *testing.T) {
	const lo, hi = 0x70001000, 0x70a00000
	prog, err := selfFilter(lo, hi)
	if err != nil {
		t.Fatal(err)
	}
	eperm := errno(unix.EPERM)
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
		got, err := bpftest.RunAt(prog, auditArchX8664, uint32(c.nr), c.ip)
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
	if _, err := selfFilter(0x7ffff000, 0x100001000); err == nil {
		t.Error("a text across a 4 GiB boundary was taken")
	}
}
