package sandbox

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/runx-dev/runx/internal/seccompbpf"
)

// The Sentry's own seccomp filter: system calls no part of the Sentry makes,
// refused (EPERM) when made from the Sentry's code, so that a Sentry taken
// over by a workload cannot reach that kernel surface either. The workload's
// processes are forked from the Sentry and inherit the filter; they run
// other code after their exec, so the filter tells the two apart by the
// instruction pointer of the call: inside runx's text it applies, elsewhere
// it allows, and the workload's own filter decides. (A workload that maps
// code at those addresses only gets refused more.) The filter looks at the
// instruction pointer only for the numbers it refuses, so every other call
// stays in the kernel's per-number cache of allowed calls.

// sentryRefused are the calls refused to the Sentry's code.
var sentryRefused = []int{
	unix.SYS_BPF, unix.SYS_PERF_EVENT_OPEN, unix.SYS_USERFAULTFD,
	unix.SYS_IO_URING_SETUP, unix.SYS_IO_URING_ENTER, unix.SYS_IO_URING_REGISTER,
	unix.SYS_KEYCTL, unix.SYS_ADD_KEY, unix.SYS_REQUEST_KEY,
	unix.SYS_KEXEC_LOAD, unix.SYS_KEXEC_FILE_LOAD, unix.SYS_INIT_MODULE, unix.SYS_FINIT_MODULE,
	unix.SYS_DELETE_MODULE, unix.SYS_MOUNT, unix.SYS_UMOUNT2, unix.SYS_PIVOT_ROOT,
	unix.SYS_MOVE_MOUNT, unix.SYS_OPEN_TREE, unix.SYS_FSOPEN, unix.SYS_FSCONFIG, unix.SYS_FSMOUNT,
	unix.SYS_FSPICK, unix.SYS_MOUNT_SETATTR, unix.SYS_SWAPON, unix.SYS_SWAPOFF, unix.SYS_REBOOT,
	unix.SYS_ACCT, unix.SYS_QUOTACTL, unix.SYS_QUOTACTL_FD, unix.SYS_OPEN_BY_HANDLE_AT,
	unix.SYS_NAME_TO_HANDLE_AT, unix.SYS_FANOTIFY_INIT, unix.SYS_LOOKUP_DCOOKIE, unix.SYS_IOPL,
	unix.SYS_IOPERM, unix.SYS_SYSLOG, unix.SYS_SETTIMEOFDAY, unix.SYS_CLOCK_SETTIME,
	unix.SYS_CLOCK_ADJTIME, unix.SYS_ADJTIMEX, unix.SYS_VHANGUP, unix.SYS_USELIB, unix.SYS_USTAT,
	unix.SYS_SYSFS, unix.SYS_MODIFY_LDT, unix.SYS_KCMP, unix.SYS_UNSHARE,
	unix.SYS_PROCESS_MADVISE, unix.SYS_MEMFD_SECRET, unix.SYS_MBIND, unix.SYS_MIGRATE_PAGES,
	unix.SYS_MOVE_PAGES, unix.SYS_NFSSERVCTL, unix.SYS_PERSONALITY,
}

// selfFilter is the filter for code in [lo, hi). Another architecture's
// calls and x32 numbers pass: the workload's filter refuses them.
func selfFilter(lo, hi uint64) ([]unix.SockFilter, error) {
	if lo >= hi {
		return nil, fmt.Errorf("text %#x-%#x is empty", lo, hi)
	}
	return seccompbpf.Compile(seccompbpf.Filter{
		OtherArch: retAllow,
		X32:       retAllow,
		Rules: []seccompbpf.Rule{{
			Nrs:    sentryRefused,
			Conds:  []seccompbpf.Cond{{Arg: seccompbpf.IP, Op: seccompbpf.Ge, Val: lo, Wide: true}, {Arg: seccompbpf.IP, Op: seccompbpf.Lt, Val: hi, Wide: true}},
			Action: seccompbpf.Errno(unix.EPERM),
		}},
		Default: retAllow,
	})
}

// ownText is the executable mapping of the Sentry's binary.
func ownText() (lo, hi uint64, err error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, 0, err
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 6 || !strings.HasPrefix(fs[1], "r-x") || fs[5] != exe {
			continue
		}
		a, b, _ := strings.Cut(fs[0], "-")
		l, err1 := strconv.ParseUint(a, 16, 64)
		h, err2 := strconv.ParseUint(b, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		if lo == 0 || l < lo {
			lo = l
		}
		hi = max(hi, h)
	}
	if hi == 0 {
		return 0, 0, fmt.Errorf("no executable mapping of %s", exe)
	}
	return lo, hi, nil
}

// installSelfFilter puts the filter on every thread of the Sentry. It
// needs no_new_privs, which the workload has anyway.
func installSelfFilter() error {
	lo, hi, err := ownText()
	if err != nil {
		return err
	}
	prog, err := selfFilter(lo, hi)
	if err != nil {
		return err
	}
	return seccompbpf.Install(prog, true)
}
