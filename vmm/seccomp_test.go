package vmm

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runx-dev/runx/internal/bpftest"
	"github.com/runx-dev/runx/internal/seccompbpf"
	"github.com/runx-dev/runx/vmm/kvm"
)

// The filters as the kernel runs them: what a running VMM needs passes,
// what a taken-over one would reach for does not, and a vCPU thread is
// narrower than the process.
func TestSeccompTables(t *testing.T) {
	proc, err := compile(processTable)
	if err != nil {
		t.Fatal(err)
	}
	vcpu, err := compile(vcpuTable)
	if err != nil {
		t.Fatal(err)
	}
	refused := seccompbpf.Errno(unix.EPERM)
	for _, c := range []struct {
		name       string
		nr         int
		args       []uint64
		proc, vcpu uint32
	}{
		{"KVM_RUN", unix.SYS_IOCTL, []uint64{5, uint64(kvm.RunIoctl)}, unix.SECCOMP_RET_ALLOW, unix.SECCOMP_RET_ALLOW},
		{"KVM_IRQ_LINE", unix.SYS_IOCTL, []uint64{5, uint64(kvm.IRQLineIoctl)}, unix.SECCOMP_RET_ALLOW, unix.SECCOMP_RET_ALLOW},
		{"another ioctl (TIOCSTI)", unix.SYS_IOCTL, []uint64{0, unix.TIOCSTI}, refused, refused},
		{"futex", unix.SYS_FUTEX, nil, unix.SECCOMP_RET_ALLOW, unix.SECCOMP_RET_ALLOW},
		{"accept4", unix.SYS_ACCEPT4, nil, unix.SECCOMP_RET_ALLOW, refused},
		{"getrandom", unix.SYS_GETRANDOM, nil, unix.SECCOMP_RET_ALLOW, refused},
		{"clone3", unix.SYS_CLONE3, nil, seccompbpf.Errno(unix.ENOSYS), seccompbpf.Errno(unix.ENOSYS)},
		{"execve", unix.SYS_EXECVE, nil, refused, refused},
		{"openat", unix.SYS_OPENAT, nil, refused, refused},
		{"socket", unix.SYS_SOCKET, nil, refused, refused},
		{"connect", unix.SYS_CONNECT, nil, refused, refused},
		{"ptrace", unix.SYS_PTRACE, nil, refused, refused},
		{"mprotect a guard page", unix.SYS_MPROTECT, []uint64{0, 4096, unix.PROT_NONE}, unix.SECCOMP_RET_ALLOW, refused},
		{"mprotect executable", unix.SYS_MPROTECT, []uint64{0, 4096, unix.PROT_READ | unix.PROT_EXEC}, refused, refused},
	} {
		for _, f := range []struct {
			name string
			prog []unix.SockFilter
			want uint32
		}{{"process", proc, c.proc}, {"vCPU", vcpu, c.vcpu}} {
			got, err := bpftest.Run(f.prog, seccompbpf.AuditArchX86_64, uint32(c.nr), c.args...)
			if err != nil {
				t.Fatal(err)
			}
			if got != f.want {
				t.Errorf("%s on a %s thread: %#x, want %#x", c.name, f.name, got, f.want)
			}
		}
	}
	// Another architecture's calls (int 0x80) kill.
	if got, _ := bpftest.Run(proc, 0x40000003, unix.SYS_FUTEX); got != unix.SECCOMP_RET_KILL_PROCESS {
		t.Errorf("an i386 call: %#x", got)
	}
}
