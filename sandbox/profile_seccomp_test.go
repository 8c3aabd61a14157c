//go:build cgo && seccomp

package sandbox

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/runx-dev/runx/internal/seccompbpf"
)

// The compiled profile, run by the filter interpreter of filter_test.go,
// gives the profile's actions on x86_64 and ENOSYS on another architecture.
func TestCompileProfile(t *testing.T) {
	eperm := uint(1)
	p, err := compileProfile(&specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir", "no_such_call"}, Action: specs.ActErrno, ErrnoRet: &eperm},
			{Names: []string{"socket"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: 2, Op: specs.OpEqualTo}, {Index: 0, Value: 10, Op: specs.OpEqualTo}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := compileProfile(&specs.LinuxSeccomp{DefaultAction: specs.ActNotify}); err == nil {
		t.Error("SCMP_ACT_NOTIFY accepted")
	}
	for _, c := range []struct {
		name string
		arch uint32
		nr   int
		args []uint64
		want uint32
	}{
		{"mkdir", seccompbpf.AuditArchX86_64, unix.SYS_MKDIR, nil, seccompbpf.Errno(unix.EPERM)},
		{"mkdirat", seccompbpf.AuditArchX86_64, unix.SYS_MKDIRAT, nil, retAllow},
		{"socket AF_INET", seccompbpf.AuditArchX86_64, unix.SYS_SOCKET, []uint64{2}, seccompbpf.Errno(unix.EPERM)},
		{"socket AF_INET6", seccompbpf.AuditArchX86_64, unix.SYS_SOCKET, []uint64{10}, seccompbpf.Errno(unix.EPERM)},
		{"socket AF_UNIX", seccompbpf.AuditArchX86_64, unix.SYS_SOCKET, []uint64{1}, retAllow},
		{"i386", 0x40000003, 39, nil, seccompbpf.Errno(unix.ENOSYS)},
	} {
		if got := run(t, p.prog, c.arch, c.nr, c.args...); got != c.want {
			t.Errorf("%s: %#x, want %#x", c.name, got, c.want)
		}
	}
}
