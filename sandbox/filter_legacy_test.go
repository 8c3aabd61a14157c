package sandbox

import (
	"golang.org/x/sys/unix"

	"github.com/runx-dev/runx/internal/seccompbpf"
)

// The filter's rules as filter.go wrote them before the syscall table,
// kept only to prove the table's filter equivalent (filter_equiv_test.go).

func legacyOn(action uint32, nrs ...int) seccompbpf.Rule {
	return seccompbpf.Rule{Nrs: nrs, Action: action}
}

func legacyWhen(nr int, action uint32, conds ...seccompbpf.Cond) seccompbpf.Rule {
	return seccompbpf.Rule{Nrs: []int{nr}, Conds: conds, Action: action}
}

// filterRules is the policy for a workload whose two reserved descriptors
// sit at the top of its descriptor table: execFD (the file the Sentry
// approved for the next exec) and cwdFD (its working directory). The
// coverage table in README.md explains each entry.
func legacyFilterRules(execFD, cwdFD int) []seccompbpf.Rule {
	reserved := uint64(cwdFD) // every descriptor >= cwdFD is the Sentry's
	var rs []seccompbpf.Rule
	// SO_PEERCRED names the process that connected or made a pair: the
	// Sentry did, for the workload (peercred.go).
	rs = append(rs, legacyWhen(unix.SYS_GETSOCKOPT, retNotify, arg(1, eq, unix.SOL_SOCKET), arg(2, eq, unix.SO_PEERCRED)))
	// The busiest first: I/O on descriptors the Sentry handed out.
	rs = append(rs, legacyOn(retAllow, unix.SYS_READ, unix.SYS_WRITE, unix.SYS_FUTEX, unix.SYS_MMAP, unix.SYS_MUNMAP,
		unix.SYS_BRK, unix.SYS_MPROTECT, unix.SYS_RT_SIGPROCMASK, unix.SYS_RT_SIGACTION, unix.SYS_RT_SIGRETURN,
		unix.SYS_FSTAT, unix.SYS_LSEEK, unix.SYS_READV, unix.SYS_WRITEV, unix.SYS_PREAD64, unix.SYS_PWRITE64,
		unix.SYS_PREADV, unix.SYS_PWRITEV, unix.SYS_PREADV2, unix.SYS_PWRITEV2, unix.SYS_GETDENTS64,
		unix.SYS_GETDENTS, unix.SYS_CLOCK_GETTIME, unix.SYS_CLOCK_GETRES, unix.SYS_GETTIMEOFDAY, unix.SYS_TIME,
		unix.SYS_NANOSLEEP, unix.SYS_CLOCK_NANOSLEEP, unix.SYS_SCHED_YIELD, unix.SYS_GETRANDOM,
		unix.SYS_EXIT, unix.SYS_EXIT_GROUP, unix.SYS_RESTART_SYSCALL, unix.SYS_SET_ROBUST_LIST,
		unix.SYS_SET_TID_ADDRESS, unix.SYS_ARCH_PRCTL, unix.SYS_RSEQ, unix.SYS_SIGALTSTACK,
		unix.SYS_RT_SIGPENDING, unix.SYS_RT_SIGSUSPEND, unix.SYS_RT_SIGTIMEDWAIT, unix.SYS_PAUSE,
		unix.SYS_MREMAP, unix.SYS_MADVISE, unix.SYS_MSYNC, unix.SYS_MINCORE, unix.SYS_MLOCK, unix.SYS_MUNLOCK,
		unix.SYS_MLOCK2, unix.SYS_MEMBARRIER, unix.SYS_POLL, unix.SYS_PPOLL, unix.SYS_SELECT, unix.SYS_PSELECT6,
		unix.SYS_EPOLL_WAIT, unix.SYS_EPOLL_PWAIT, unix.SYS_EPOLL_PWAIT2, unix.SYS_EPOLL_CTL,
		unix.SYS_FSTATFS, unix.SYS_FSYNC, unix.SYS_FDATASYNC,
		unix.SYS_FTRUNCATE, unix.SYS_FALLOCATE, unix.SYS_FLOCK, unix.SYS_FADVISE64, unix.SYS_READAHEAD,
		unix.SYS_SENDFILE, unix.SYS_SPLICE, unix.SYS_TEE, unix.SYS_COPY_FILE_RANGE, unix.SYS_UMASK,
		unix.SYS_GETRUSAGE, unix.SYS_TIMES, unix.SYS_ALARM, unix.SYS_GETITIMER, unix.SYS_SETITIMER,
		unix.SYS_GETCPU, unix.SYS_SETSID, unix.SYS_GETPGRP,
		unix.SYS_LISTEN, unix.SYS_SHUTDOWN, unix.SYS_GETSOCKOPT, unix.SYS_SETSOCKOPT, unix.SYS_GETSOCKNAME,
		unix.SYS_GETPEERNAME, unix.SYS_RECVFROM, unix.SYS_ACCEPT, unix.SYS_ACCEPT4, unix.SYS_RECVMSG,
		unix.SYS_RECVMMSG, unix.SYS_EVENTFD, unix.SYS_EVENTFD2, unix.SYS_EPOLL_CREATE, unix.SYS_EPOLL_CREATE1,
		unix.SYS_TIMERFD_CREATE, unix.SYS_TIMERFD_SETTIME, unix.SYS_TIMERFD_GETTIME, unix.SYS_SIGNALFD,
		unix.SYS_SIGNALFD4, unix.SYS_MEMFD_CREATE, unix.SYS_SYNC, unix.SYS_SYNCFS, unix.SYS_SYSINFO,
		unix.SYS_SCHED_GET_PRIORITY_MAX,
		unix.SYS_SCHED_GET_PRIORITY_MIN,
		// Signals: pids resolve in the caller's pid namespace, the
		// sandbox's own, which holds only workload processes (the Sentry
		// is outside it), and the kernel spares its init the signals it
		// does not handle. Passing them also keeps them atomic: a signal
		// arriving while the Sentry served a kill would fail it with EINTR
		// after the signal was sent.
		unix.SYS_KILL, unix.SYS_TKILL, unix.SYS_TGKILL,
		// POSIX timers are the caller's own; a thread to signal must be
		// in its thread group.
		unix.SYS_TIMER_CREATE, unix.SYS_TIMER_SETTIME, unix.SYS_TIMER_GETTIME,
		unix.SYS_TIMER_GETOVERRUN, unix.SYS_TIMER_DELETE,
		// inotify: new descriptors, and watches by number (adding one
		// names a path: the Sentry's).
		unix.SYS_INOTIFY_INIT, unix.SYS_INOTIFY_INIT1, unix.SYS_INOTIFY_RM_WATCH,
		// System V IPC and POSIX message queues: keys and queue names live
		// in the container's IPC namespace, which holds the workload's
		// objects only (the Sentry has none).
		unix.SYS_SHMGET, unix.SYS_SHMAT, unix.SYS_SHMDT, unix.SYS_SHMCTL,
		unix.SYS_SEMGET, unix.SYS_SEMOP, unix.SYS_SEMTIMEDOP, unix.SYS_SEMCTL,
		unix.SYS_MSGGET, unix.SYS_MSGSND, unix.SYS_MSGRCV, unix.SYS_MSGCTL,
		unix.SYS_MQ_OPEN, unix.SYS_MQ_UNLINK, unix.SYS_MQ_TIMEDSEND, unix.SYS_MQ_TIMEDRECEIVE,
		unix.SYS_MQ_NOTIFY, unix.SYS_MQ_GETSETATTR))
	rs = append(rs,
		// The one exec the filter lets through: the file the Sentry opened
		// and placed at execFD, with an empty path (see exec.go).
		legacyWhen(unix.SYS_EXECVEAT, retAllow, arg(0, eq, uint64(execFD)), arg(4, eq, unix.AT_EMPTY_PATH)),
		// close of the reserved descriptors pretends to succeed.
		legacyWhen(unix.SYS_CLOSE, retAllow, arg(0, lt, reserved)),
		legacyOn(seccompbpf.Errno(0), unix.SYS_CLOSE),
		// sendto without an address only writes to a connected socket.
		legacyWhen(unix.SYS_SENDTO, retAllow, wide(4, eq, 0)),
		// Affinity of the caller itself (pid 0).
		legacyWhen(unix.SYS_SCHED_GETAFFINITY, retAllow, arg(0, eq, 0)),
		legacyWhen(unix.SYS_SCHED_SETAFFINITY, retAllow, arg(0, eq, 0)),
		// getpgid(0), getsid(0): the caller's own.
		legacyWhen(unix.SYS_GETPGID, retAllow, arg(0, eq, 0)),
		legacyWhen(unix.SYS_GETSID, retAllow, arg(0, eq, 0)),
		// The thread's name.
		legacyWhen(unix.SYS_PRCTL, retAllow, arg(0, eq, unix.PR_SET_NAME)),
		legacyWhen(unix.SYS_PRCTL, retAllow, arg(0, eq, unix.PR_GET_NAME)),
		// Pipes and duplicates, made by the kernel (descriptor numbers it
		// allocates, as for eventfd), never onto the reserved descriptors:
		// in the filter for the same reason as fork (a shell's pipe must
		// not fail because a child exited meanwhile).
		legacyOn(retAllow, unix.SYS_PIPE),
		legacyWhen(unix.SYS_PIPE2, retAllow, arg(1, noBits, ^uint64(unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_DIRECT)&0xffffffff)),
		legacyWhen(unix.SYS_DUP, retAllow, arg(0, lt, reserved)),
		legacyWhen(unix.SYS_DUP2, retAllow, arg(0, lt, reserved), arg(1, lt, reserved)),
		legacyWhen(unix.SYS_DUP3, retAllow, arg(0, lt, reserved), arg(1, lt, reserved)),
		// fork, and clone without a flag that makes a namespace, traces or
		// makes a pidfd (those go to the Sentry, which refuses them). In the
		// filter, not checked by the Sentry, so that no signal arriving
		// meanwhile can fail the call with EINTR (the kernel restarts a fork
		// a signal interrupts; a waiting notification cannot).
		legacyOn(retAllow, unix.SYS_FORK),
		legacyOn(retAllow, unix.SYS_VFORK),
		legacyWhen(unix.SYS_CLONE, retAllow, arg(0, noBits, cloneRefused|unix.CLONE_PIDFD)),
		// clone3 passes its flags in memory, where the Sentry could not
		// check them without a race: libc falls back to clone.
		legacyOn(seccompbpf.Errno(unix.ENOSYS), unix.SYS_CLONE3),
	)
	// fcntl: everything but owners (they name a process), never on the
	// reserved descriptors, and duplicates below them.
	rs = append(rs, legacyWhen(unix.SYS_FCNTL, seccompbpf.Errno(unix.EBADF), arg(0, ge, reserved)))
	for _, cmd := range []uint64{unix.F_GETFD, unix.F_SETFD, unix.F_GETFL, unix.F_SETFL, unix.F_GETLK,
		unix.F_SETLK, unix.F_SETLKW, unix.F_OFD_GETLK, unix.F_OFD_SETLK, unix.F_OFD_SETLKW,
		unix.F_GETPIPE_SZ, unix.F_SETPIPE_SZ, unix.F_ADD_SEALS, unix.F_GET_SEALS} {
		rs = append(rs, legacyWhen(unix.SYS_FCNTL, retAllow, arg(1, eq, cmd)))
	}
	for _, cmd := range []uint64{unix.F_DUPFD, unix.F_DUPFD_CLOEXEC} {
		rs = append(rs, legacyWhen(unix.SYS_FCNTL, retAllow, arg(1, eq, cmd), arg(2, lt, reserved)))
	}
	// ioctl: terminal and descriptor requests that name nothing.
	for _, req := range []uint64{unix.TCGETS, unix.TCSETS, unix.TCSETSW, unix.TCSETSF, unix.TIOCGWINSZ,
		unix.TIOCSWINSZ, fionread, fionbio, fioclex, fionclex, fioasync,
		unix.TIOCGPGRP, unix.TIOCGSID, unix.TCFLSH, unix.TCXONC, unix.TCSBRK, unix.TIOCOUTQ, unix.TIOCGPTN,
		unix.TIOCSPTLCK, unix.TIOCGPTLCK} {
		rs = append(rs, legacyWhen(unix.SYS_IOCTL, retAllow, arg(1, eq, req)))
	}
	return rs
}
