package unikernel

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runx-dev/runx/internal/bpftest"
	"github.com/runx-dev/runx/internal/seccompbpf"
)

// run evaluates the filter over one call.
func run(t *testing.T, prog []unix.SockFilter, arch uint32, nr uint32, args ...uint64) uint32 {
	t.Helper()
	r, err := bpftest.Run(prog, arch, nr, args...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAllowlist(t *testing.T) {
	m := &Manifest{Entries: []Entry{
		{Type: devReservedBase},
		{Name: "storage", Type: DevBlock, HostFD: 5, Capacity: 1 << 22, BlockSize: 512, Attached: true},
		{Name: "service0", Type: DevNet, HostFD: 6, Attached: true},
	}}
	prog, err := seccompbpf.Compile(allowlist(m, 7, 8))
	if err != nil {
		t.Fatal(err)
	}
	const x86 = seccompbpf.AuditArchX86_64
	last := uint64(1<<22 - 512)
	cases := []struct {
		name  string
		arch  uint32
		nr    uint32
		args  []uint64
		allow bool
	}{
		{"console write", x86, unix.SYS_WRITE, []uint64{1}, true},
		{"write to stderr", x86, unix.SYS_WRITE, []uint64{2}, false},
		{"write to fd 1 with a high word", x86, unix.SYS_WRITE, []uint64{1<<32 | 1}, false},
		{"tap write", x86, unix.SYS_WRITE, []uint64{6}, true},
		{"tap read", x86, unix.SYS_READ, []uint64{6}, true},
		{"read of the console", x86, unix.SYS_READ, []uint64{0}, false},
		{"exit_group", x86, unix.SYS_EXIT_GROUP, []uint64{3}, true},
		{"epoll_pwait", x86, unix.SYS_EPOLL_PWAIT, []uint64{7}, true},
		{"epoll_pwait elsewhere", x86, unix.SYS_EPOLL_PWAIT, []uint64{8}, false},
		{"timerfd_settime", x86, unix.SYS_TIMERFD_SETTIME, []uint64{8}, true},
		{"monotonic clock", x86, unix.SYS_CLOCK_GETTIME, []uint64{unix.CLOCK_MONOTONIC}, true},
		{"realtime clock", x86, unix.SYS_CLOCK_GETTIME, []uint64{unix.CLOCK_REALTIME}, true},
		{"boottime clock", x86, unix.SYS_CLOCK_GETTIME, []uint64{unix.CLOCK_BOOTTIME}, false},
		{"set fs", x86, unix.SYS_ARCH_PRCTL, []uint64{0x1002}, true},
		{"get fs", x86, unix.SYS_ARCH_PRCTL, []uint64{0x1003}, false},
		{"pread first block", x86, unix.SYS_PREAD64, []uint64{5, 0, 512, 0}, true},
		{"pread last block", x86, unix.SYS_PREAD64, []uint64{5, 0, 512, last}, true},
		{"pread past the end", x86, unix.SYS_PREAD64, []uint64{5, 0, 512, last + 1}, false},
		{"pread with a high offset word", x86, unix.SYS_PREAD64, []uint64{5, 0, 512, 1 << 32}, false},
		{"pread of two blocks", x86, unix.SYS_PREAD64, []uint64{5, 0, 1024, 0}, false},
		{"pwrite last block", x86, unix.SYS_PWRITE64, []uint64{5, 0, 512, last}, true},
		{"pwrite on the tap", x86, unix.SYS_PWRITE64, []uint64{6, 0, 512, 0}, false},
		{"dup", x86, unix.SYS_DUP, []uint64{1}, false},
		{"openat", x86, unix.SYS_OPENAT, nil, false},
		{"x32 write", x86, unix.SYS_WRITE | seccompbpf.X32Bit, []uint64{1}, false},
		{"i386 arch", 0x40000003, unix.SYS_WRITE, []uint64{1}, false},
	}
	for _, c := range cases {
		got := run(t, prog, c.arch, c.nr, c.args...)
		if (got == retAllow) != c.allow {
			t.Errorf("%s: filter returned %#x, want allow=%v", c.name, got, c.allow)
		}
		if got != retAllow && got != retKill {
			t.Errorf("%s: filter returned %#x, want allow or kill", c.name, got)
		}
	}
}

func TestAllowlistManyDevices(t *testing.T) {
	m := &Manifest{Entries: []Entry{{Type: devReservedBase}}}
	for i := 0; i < 63; i++ {
		m.Entries = append(m.Entries, Entry{Type: DevBlock, HostFD: 10 + i, Capacity: 1 << 20, BlockSize: 4096, Attached: true})
	}
	prog, err := seccompbpf.Compile(allowlist(m, 3, 4))
	if err != nil {
		t.Fatal(err)
	}
	if got := run(t, prog, seccompbpf.AuditArchX86_64, unix.SYS_PREAD64, 72, 0, 4096, 0); got != retAllow {
		t.Errorf("pread on the 63rd device: %#x", got)
	}
	if got := run(t, prog, seccompbpf.AuditArchX86_64, unix.SYS_DUP, 1); got != retKill {
		t.Errorf("dup with 63 devices: %#x", got)
	}
}

func TestParseArgs(t *testing.T) {
	o, err := ParseArgs([]string{"--mem=64", "--block:storage=/img", "--block-sector-size:storage=4096",
		"--net:service0=tap0", "--net-mac:service0=02:00:00:00:00:01", "--", "k.spt", "a", "--b"})
	if err != nil {
		t.Fatal(err)
	}
	if o.MemMiB != 64 || o.Kernel != "k.spt" || len(o.Args) != 2 || o.Args[1] != "--b" ||
		o.SectorSizes["storage"] != 4096 || o.Blocks[0].Value != "/img" || o.Nets[0].Value != "tap0" {
		t.Errorf("parsed %+v", o)
	}
	if o, err := ParseArgs([]string{"k.spt", "--mem=1"}); err != nil || o.MemMiB != 512 || o.Args[0] != "--mem=1" {
		t.Errorf("options after KERNEL belong to the guest: %+v, %v", o, err)
	}
	for _, bad := range [][]string{
		{}, {"--mem=0", "k"}, {"--mem=x", "k"}, {"--bogus", "k"}, {"--block:bad-name=/x", "k"},
		{"--block-sector-size:s=256", "k"}, {"--block-sector-size:s=1000", "k"}, {"--mem=99999", "k"},
	} {
		var ue *UsageError
		if _, err := ParseArgs(bad); !errors.As(err, &ue) {
			t.Errorf("ParseArgs(%q) = %v, want a usage error", bad, err)
		}
	}
	if _, err := ParseArgs([]string{"--version", "k"}); err != ErrVersion {
		t.Errorf("--version: %v", err)
	}
}

func TestManifestRoundTrip(t *testing.T) {
	m := &Manifest{Entries: []Entry{{Type: devReservedBase}, {Name: "storage", Type: DevBlock}}}
	got, err := parseManifest(m.encode())
	if err != nil || len(got.Entries) != 2 || got.Entries[1].Name != "storage" || got.find("storage") != 1 {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	b := m.encode()
	b[mftHeaderSize+mftEntrySize+96] = 1 // attached in the file
	if _, err := parseManifest(b); err == nil {
		t.Error("a manifest with an attached entry was accepted")
	}
	if _, err := parseManifest(b[:len(b)-1]); err == nil {
		t.Error("a manifest of the wrong size was accepted")
	}
	bad := (&Manifest{Entries: []Entry{{Name: "x", Type: DevBlock}}}).encode()
	if _, err := parseManifest(bad); err == nil {
		t.Error("a manifest without the reserved first entry was accepted")
	}
}
