package sandbox

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
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

const offIP = 8

// selfFilter is the filter for code in [lo, hi).
func selfFilter(lo, hi uint64) ([]unix.SockFilter, error) {
	if lo >= hi || lo>>32 != (hi-1)>>32 {
		return nil, fmt.Errorf("text %#x-%#x is not within one 4 GiB block", lo, hi)
	}
	const (
		ldAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		jge   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
		jgt   = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
		ret   = unix.BPF_RET | unix.BPF_K
	)
	n := len(sentryRefused)
	if n+10 > 255 {
		return nil, fmt.Errorf("too many refused calls for one jump")
	}
	// 0: arch; 1: other arch → allow (the workload's filter refuses it);
	// 2: nr; 3..3+n-1: one jeq each to "check"; then allow; check: ...
	prog := []unix.SockFilter{
		{Code: ldAbs, K: offArch},
		{Code: jeq, K: auditArchX8664, Jt: 1, Jf: 0},
		{Code: ret, K: retAllow},
		{Code: ldAbs, K: offNr},
	}
	for i, nr := range sentryRefused {
		// Jump over the rest of the list and the "allow" to "check".
		prog = append(prog, unix.SockFilter{Code: jeq, K: uint32(nr), Jt: uint8(n - i)})
	}
	prog = append(prog,
		unix.SockFilter{Code: ret, K: retAllow},
		// check: the high half of the instruction pointer, then the low.
		unix.SockFilter{Code: ldAbs, K: offIP + 4},
		unix.SockFilter{Code: jeq, K: uint32(lo >> 32), Jt: 1, Jf: 0},
		unix.SockFilter{Code: ret, K: retAllow},
		unix.SockFilter{Code: ldAbs, K: offIP},
		unix.SockFilter{Code: jge, K: uint32(lo), Jt: 1, Jf: 0},
		unix.SockFilter{Code: ret, K: retAllow},
		unix.SockFilter{Code: jgt, K: uint32(hi - 1), Jt: 0, Jf: 1},
		unix.SockFilter{Code: ret, K: retAllow},
		unix.SockFilter{Code: ret, K: errno(unix.EPERM)},
	)
	return prog, nil
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
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return err
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if _, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog))); e != 0 {
		return e
	}
	return nil
}
