package unikernel

import (
	"golang.org/x/sys/unix"

	"github.com/runx-dev/runx/internal/seccompbpf"
)

// The allowlist of section 7, compiled by internal/seccompbpf: libseccomp is
// cgo and its loader may allocate after the guest owns the address space.
// Every argument check compares all 64 bits.

const (
	retKill  = unix.SECCOMP_RET_KILL_PROCESS
	retAllow = unix.SECCOMP_RET_ALLOW
)

// is and atMost are 64-bit conditions on argument n.
func is(n int, v uint64) seccompbpf.Cond {
	return seccompbpf.Cond{Arg: n, Op: seccompbpf.Eq, Val: v, Wide: true}
}

func atMost(n int, v uint64) seccompbpf.Cond {
	return seccompbpf.Cond{Arg: n, Op: seccompbpf.Le, Val: v, Wide: true}
}

func allow(nr int, conds ...seccompbpf.Cond) seccompbpf.Rule {
	return seccompbpf.Rule{Nrs: []int{nr}, Conds: conds, Action: retAllow}
}

// allowlist is the filter for this guest's devices (section 7): anything
// else, another architecture's calls and x32 calls kill the process.
func allowlist(m *Manifest, epollFD, timerFD int) seccompbpf.Filter {
	rules := []seccompbpf.Rule{
		allow(unix.SYS_WRITE, is(0, 1)),
		allow(unix.SYS_EXIT_GROUP),
		allow(unix.SYS_EPOLL_PWAIT, is(0, uint64(epollFD))),
		allow(unix.SYS_TIMERFD_SETTIME, is(0, uint64(timerFD))),
		allow(unix.SYS_CLOCK_GETTIME, is(0, unix.CLOCK_MONOTONIC)),
		allow(unix.SYS_CLOCK_GETTIME, is(0, unix.CLOCK_REALTIME)),
		allow(unix.SYS_ARCH_PRCTL, is(0, 0x1002)), // ARCH_SET_FS
	}
	for _, e := range m.Entries {
		if !e.Attached {
			continue
		}
		fd := uint64(e.HostFD)
		switch e.Type {
		case DevNet:
			rules = append(rules, allow(unix.SYS_READ, is(0, fd)), allow(unix.SYS_WRITE, is(0, fd)))
		case DevBlock:
			bs := uint64(e.BlockSize)
			checks := []seccompbpf.Cond{is(0, fd), is(2, bs), atMost(3, e.Capacity-bs)}
			rules = append(rules, allow(unix.SYS_PREAD64, checks...), allow(unix.SYS_PWRITE64, checks...))
		}
	}
	return seccompbpf.Filter{OtherArch: retKill, X32: retKill, Rules: rules, Default: retKill}
}
