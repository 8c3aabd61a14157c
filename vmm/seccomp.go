package vmm

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/runx-dev/runx/internal/seccompbpf"
	"github.com/runx-dev/runx/vmm/kvm"
)

// The VMM's seccomp filters (Firecracker's model: an allowlist per kind of
// thread, installed once the VM is built, before the guest runs). Every
// thread has the process filter; vCPU threads add the vCPU filter, so a
// call passes there only if both allow it. A call neither lists fails with
// EPERM: the Go runtime degrades on a refused rare call, where a kill would
// take the VM down (the filter's reach is the same). vmm/README.md prints
// these tables.

// allowed is one row of a table: the calls, an optional condition, why.
type allowed struct {
	nrs   []int
	conds []seccompbpf.Cond
	why   string
}

func ioctlIs(req uintptr) []seccompbpf.Cond {
	return []seccompbpf.Cond{{Arg: 1, Op: seccompbpf.Eq, Val: uint64(req), Wide: true}}
}

// goRuntime: what the Go runtime itself calls on any thread.
var goRuntime = []allowed{
	{[]int{unix.SYS_FUTEX, unix.SYS_SCHED_YIELD, unix.SYS_NANOSLEEP, unix.SYS_CLOCK_NANOSLEEP, unix.SYS_CLOCK_GETTIME}, nil, "scheduling, locks, timers"},
	{[]int{unix.SYS_MMAP, unix.SYS_MUNMAP, unix.SYS_MADVISE}, nil, "the heap and stacks"},
	{[]int{unix.SYS_RT_SIGACTION, unix.SYS_RT_SIGPROCMASK, unix.SYS_RT_SIGRETURN, unix.SYS_SIGALTSTACK, unix.SYS_RESTART_SYSCALL}, nil, "signals (preemption)"},
	{[]int{unix.SYS_GETPID, unix.SYS_GETTID, unix.SYS_TGKILL}, nil, "preemption signals; a vCPU kicked out of KVM_RUN"},
	{[]int{unix.SYS_EXIT, unix.SYS_EXIT_GROUP}, nil, "a thread's or the VMM's end"},
	{[]int{unix.SYS_READ, unix.SYS_WRITE}, nil, "eventfds, sockets, the console"},
	{[]int{unix.SYS_IOCTL}, ioctlIs(kvm.IRQLineIoctl), "KVM_IRQ_LINE: the serial port's interrupt"},
}

// processTable: every thread of the running VMM.
var processTable = append(append([]allowed{}, goRuntime...),
	allowed{[]int{unix.SYS_CLONE}, nil, "new threads (runx is a cgo binary: the C library's pthread_create)"},
	allowed{[]int{unix.SYS_MPROTECT}, []seccompbpf.Cond{{Arg: 2, Op: seccompbpf.NoBits, Val: unix.PROT_EXEC}}, "a C thread's stack guard page (never executable)"},
	allowed{[]int{unix.SYS_SET_ROBUST_LIST, unix.SYS_RSEQ}, nil, "a C thread's start"},
	allowed{[]int{unix.SYS_EPOLL_PWAIT, unix.SYS_EPOLL_WAIT, unix.SYS_EPOLL_CTL, unix.SYS_EPOLL_CREATE1}, nil, "Go's poller: eventfds and sockets"},
	allowed{[]int{unix.SYS_FCNTL, unix.SYS_CLOSE, unix.SYS_SCHED_GETAFFINITY, unix.SYS_PREAD64}, nil, "descriptors; the runtime's CPU count"},
	allowed{[]int{unix.SYS_GETRANDOM}, nil, "virtio-rng's bytes"},
	allowed{[]int{unix.SYS_PWRITE64, unix.SYS_FDATASYNC}, nil, "virtio-blk: writes and flushes (reads are pread64)"},
	allowed{[]int{unix.SYS_ACCEPT4, unix.SYS_GETSOCKNAME, unix.SYS_SHUTDOWN, unix.SYS_READV, unix.SYS_WRITEV}, nil, "vsock: host connections"},
	allowed{[]int{unix.SYS_SENDMSG, unix.SYS_RECVMSG, unix.SYS_RECVFROM}, nil, "vhost-user messages (with descriptors)"},
	allowed{[]int{unix.SYS_IOCTL}, ioctlIs(kvm.RunIoctl), "KVM_RUN"},
	allowed{[]int{unix.SYS_IOCTL}, ioctlIs(unix.TUNSETOFFLOAD), "virtio-net: the tap's offloads, once the guest's driver chose them"},
	allowed{[]int{unix.SYS_SECCOMP}, nil, "each vCPU thread adds its filter (a filter can only narrow)"},
)

// vcpuTable: a vCPU thread, which only runs the guest and handles exits.
var vcpuTable = append(append([]allowed{}, goRuntime...),
	allowed{[]int{unix.SYS_IOCTL}, ioctlIs(kvm.RunIoctl), "KVM_RUN"},
	allowed{[]int{unix.SYS_SENDMSG, unix.SYS_RECVMSG}, nil, "virtio-fs: the vhost-user set-up when the driver starts or resets the device (its register write is this thread's exit)"},
)

func compile(table []allowed) ([]unix.SockFilter, error) {
	refuse := seccompbpf.Errno(unix.EPERM)
	f := seccompbpf.Filter{OtherArch: unix.SECCOMP_RET_KILL_PROCESS, X32: unix.SECCOMP_RET_KILL_PROCESS, Default: refuse}
	for _, a := range table {
		f.Rules = append(f.Rules, seccompbpf.Rule{Nrs: a.nrs, Conds: a.conds, Action: unix.SECCOMP_RET_ALLOW})
	}
	// clone3 fails as unknown: a C library then falls back to clone.
	f.Rules = append(f.Rules, seccompbpf.Rule{Nrs: []int{unix.SYS_CLONE3}, Action: seccompbpf.Errno(unix.ENOSYS)})
	return seccompbpf.Compile(f)
}

// installProcessFilter puts the process filter on every thread.
func installProcessFilter() error {
	prog, err := compile(processTable)
	if err != nil {
		return fmt.Errorf("the VMM's seccomp filter: %w", err)
	}
	return seccompbpf.Install(prog, true)
}

// installVCPUFilter adds the vCPU filter to the calling (locked) thread.
func installVCPUFilter() error {
	prog, err := compile(vcpuTable)
	if err != nil {
		return fmt.Errorf("the vCPU seccomp filter: %w", err)
	}
	return seccompbpf.Install(prog, false)
}
