// The hand-written compiler this package had before internal/seccompbpf,
// kept only to prove the new filters equivalent (filter_equiv_test.go).

package sandbox

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// The workload's seccomp filter, written as classic BPF by hand: the loader
// child installs it with raw system calls only, so it is compiled before the
// fork. Each legacyRule is "this system call, and these conditions on its
// arguments: this action"; the first legacyRule that matches wins, and a system
// call no legacyRule matches goes to the Sentry (SECCOMP_RET_USER_NOTIF).

const (
	legacyAuditArchX8664 = 0xc000003e
	legacyX32Bit         = 0x40000000

	legacyRetAllow  = unix.SECCOMP_RET_ALLOW
	legacyRetNotify = unix.SECCOMP_RET_USER_NOTIF
	legacyRetErrno  = unix.SECCOMP_RET_ERRNO

	legacyOffNr   = 0
	legacyOffArch = 4
	legacyOffArgs = 16
)

// legacyCond is a condition on one argument. Most arguments are C ints, of which
// the kernel only reads the low 32 bits: wide marks the 64-bit ones.
type legacyCond struct {
	arg  int
	op   byte // '=' equal, '!' different, '<' unsigned less than, '>' unsigned greater or equal, '&' no bit of val set
	val  uint64
	wide bool
}

type legacyRule struct {
	nr     int
	conds  []legacyCond
	action uint32
}

func legacyErrno(e unix.Errno) uint32 { return legacyRetErrno | uint32(e) }

// legacyFilterRules is the policy for a workload whose two reserved descriptors
// sit at the top of its descriptor table: execFD (the file the Sentry
// approved for the next exec) and cwdFD (its working directory). The
// coverage table in README.md explains each entry.
func legacyFilterRules(execFD, cwdFD int) []legacyRule {
	reserved := uint64(cwdFD) // every descriptor >= cwdFD is the Sentry's
	allow := func(nrs ...int) []legacyRule {
		rs := make([]legacyRule, len(nrs))
		for i, nr := range nrs {
			rs[i] = legacyRule{nr: nr, action: legacyRetAllow}
		}
		return rs
	}
	var rs []legacyRule
	// SO_PEERCRED names the process that connected or made a pair: the
	// Sentry did, for the workload (peercred.go).
	rs = append(rs, legacyRule{nr: unix.SYS_GETSOCKOPT, conds: []legacyCond{{arg: 1, op: '=', val: unix.SOL_SOCKET},
		{arg: 2, op: '=', val: unix.SO_PEERCRED}}, action: legacyRetNotify})
	// The busiest first: I/O on descriptors the Sentry handed out.
	rs = append(rs, allow(unix.SYS_READ, unix.SYS_WRITE, unix.SYS_FUTEX, unix.SYS_MMAP, unix.SYS_MUNMAP,
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
		unix.SYS_MQ_NOTIFY, unix.SYS_MQ_GETSETATTR)...)
	rs = append(rs,
		// The one exec the filter lets through: the file the Sentry opened
		// and placed at execFD, with an empty path (see exec.go).
		legacyRule{nr: unix.SYS_EXECVEAT, conds: []legacyCond{{arg: 0, op: '=', val: uint64(execFD)}, {arg: 4, op: '=', val: unix.AT_EMPTY_PATH}}, action: legacyRetAllow},
		// close of the reserved descriptors pretends to succeed.
		legacyRule{nr: unix.SYS_CLOSE, conds: []legacyCond{{arg: 0, op: '<', val: reserved}}, action: legacyRetAllow},
		legacyRule{nr: unix.SYS_CLOSE, action: legacyErrno(0)},
		// sendto without an address only writes to a connected socket.
		legacyRule{nr: unix.SYS_SENDTO, conds: []legacyCond{{arg: 4, op: '=', val: 0, wide: true}}, action: legacyRetAllow},
		// Affinity of the caller itself (pid 0).
		legacyRule{nr: unix.SYS_SCHED_GETAFFINITY, conds: []legacyCond{{arg: 0, op: '=', val: 0}}, action: legacyRetAllow},
		legacyRule{nr: unix.SYS_SCHED_SETAFFINITY, conds: []legacyCond{{arg: 0, op: '=', val: 0}}, action: legacyRetAllow},
		// getpgid(0), getsid(0): the caller's own.
		legacyRule{nr: unix.SYS_GETPGID, conds: []legacyCond{{arg: 0, op: '=', val: 0}}, action: legacyRetAllow},
		legacyRule{nr: unix.SYS_GETSID, conds: []legacyCond{{arg: 0, op: '=', val: 0}}, action: legacyRetAllow},
		// The thread's name.
		legacyRule{nr: unix.SYS_PRCTL, conds: []legacyCond{{arg: 0, op: '=', val: unix.PR_SET_NAME}}, action: legacyRetAllow},
		legacyRule{nr: unix.SYS_PRCTL, conds: []legacyCond{{arg: 0, op: '=', val: unix.PR_GET_NAME}}, action: legacyRetAllow},
		// Pipes and duplicates, made by the kernel (descriptor numbers it
		// allocates, as for eventfd), never onto the reserved descriptors:
		// in the filter for the same reason as fork (a shell's pipe must
		// not fail because a child exited meanwhile).
		legacyRule{nr: unix.SYS_PIPE, action: legacyRetAllow},
		legacyRule{nr: unix.SYS_PIPE2, conds: []legacyCond{{arg: 1, op: '&', val: ^uint64(unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_DIRECT) & 0xffffffff}}, action: legacyRetAllow},
		legacyRule{nr: unix.SYS_DUP, conds: []legacyCond{{arg: 0, op: '<', val: reserved}}, action: legacyRetAllow},
		legacyRule{nr: unix.SYS_DUP2, conds: []legacyCond{{arg: 0, op: '<', val: reserved}, {arg: 1, op: '<', val: reserved}}, action: legacyRetAllow},
		legacyRule{nr: unix.SYS_DUP3, conds: []legacyCond{{arg: 0, op: '<', val: reserved}, {arg: 1, op: '<', val: reserved}}, action: legacyRetAllow},
		// fork, and clone without a flag that makes a namespace, traces or
		// makes a pidfd (those go to the Sentry, which refuses them). In the
		// filter, not checked by the Sentry, so that no signal arriving
		// meanwhile can fail the call with EINTR (the kernel restarts a fork
		// a signal interrupts; a waiting notification cannot).
		legacyRule{nr: unix.SYS_FORK, action: legacyRetAllow},
		legacyRule{nr: unix.SYS_VFORK, action: legacyRetAllow},
		legacyRule{nr: unix.SYS_CLONE, conds: []legacyCond{{arg: 0, op: '&', val: cloneRefused | unix.CLONE_PIDFD}}, action: legacyRetAllow},
		// clone3 passes its flags in memory, where the Sentry could not
		// check them without a race: libc falls back to clone.
		legacyRule{nr: unix.SYS_CLONE3, action: legacyErrno(unix.ENOSYS)},
	)
	// fcntl: everything but owners (they name a process), never on the
	// reserved descriptors, and duplicates below them.
	rs = append(rs, legacyRule{nr: unix.SYS_FCNTL, conds: []legacyCond{{arg: 0, op: '>', val: reserved}}, action: legacyErrno(unix.EBADF)})
	for _, cmd := range []uint64{unix.F_GETFD, unix.F_SETFD, unix.F_GETFL, unix.F_SETFL, unix.F_GETLK,
		unix.F_SETLK, unix.F_SETLKW, unix.F_OFD_GETLK, unix.F_OFD_SETLK, unix.F_OFD_SETLKW,
		unix.F_GETPIPE_SZ, unix.F_SETPIPE_SZ, unix.F_ADD_SEALS, unix.F_GET_SEALS} {
		rs = append(rs, legacyRule{nr: unix.SYS_FCNTL, conds: []legacyCond{{arg: 1, op: '=', val: cmd}}, action: legacyRetAllow})
	}
	for _, cmd := range []uint64{unix.F_DUPFD, unix.F_DUPFD_CLOEXEC} {
		rs = append(rs, legacyRule{nr: unix.SYS_FCNTL, conds: []legacyCond{{arg: 1, op: '=', val: cmd}, {arg: 2, op: '<', val: reserved}}, action: legacyRetAllow})
	}
	// ioctl: terminal and descriptor requests that name nothing.
	for _, req := range []uint64{unix.TCGETS, unix.TCSETS, unix.TCSETSW, unix.TCSETSF, unix.TIOCGWINSZ,
		unix.TIOCSWINSZ, fionread, fionbio, fioclex, fionclex, fioasync,
		unix.TIOCGPGRP, unix.TIOCGSID, unix.TCFLSH, unix.TCXONC, unix.TCSBRK, unix.TIOCOUTQ, unix.TIOCGPTN,
		unix.TIOCSPTLCK, unix.TIOCGPTLCK} {
		rs = append(rs, legacyRule{nr: unix.SYS_IOCTL, conds: []legacyCond{{arg: 1, op: '=', val: req}}, action: legacyRetAllow})
	}
	return rs
}

// legacyInsn is a BPF instruction with symbolic jump targets.
type legacyInsn struct {
	code   uint16
	k      uint32
	jt, jf int // label numbers; -1 is the next instruction
	label  int // label defined at this instruction, or -1
}

// legacyCompile turns rules into a program: the architecture check, the x32 guard,
// the rules in order, and the notification as the default.
func legacyCompile(rules []legacyRule) ([]unix.SockFilter, error) {
	var prog []legacyInsn
	labels := 0
	newLabel := func() int { labels++; return labels - 1 }
	pending := -1 // label to attach to the next instruction
	emit := func(code uint16, k uint32, jt, jf int) {
		prog = append(prog, legacyInsn{code: code, k: k, jt: jt, jf: jf, label: pending})
		pending = -1
	}
	const (
		ldAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		jge   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
		jgt   = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
		jset  = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
		ret   = unix.BPF_RET | unix.BPF_K
	)
	// Another architecture's system calls (int 0x80) and the x32 ones fail
	// with ENOSYS: the rules below speak of x86_64 numbers only.
	archOK, nrOK := newLabel(), newLabel()
	emit(ldAbs, legacyOffArch, -1, -1)
	emit(jeq, legacyAuditArchX8664, archOK, -1)
	emit(ret, legacyErrno(unix.ENOSYS), -1, -1)
	pending = archOK
	emit(ldAbs, legacyOffNr, -1, -1)
	emit(jge, legacyX32Bit, -1, nrOK)
	emit(ret, legacyErrno(unix.ENOSYS), -1, -1)
	pending = nrOK
	for _, r := range rules {
		next := newLabel()
		emit(ldAbs, legacyOffNr, -1, -1)
		emit(jeq, uint32(r.nr), -1, next)
		for _, c := range r.conds {
			lo, hi := uint32(c.val), uint32(c.val>>32)
			loOff, hiOff := uint32(legacyOffArgs+8*c.arg), uint32(legacyOffArgs+8*c.arg+4)
			switch c.op {
			case '=':
				if c.wide {
					emit(ldAbs, hiOff, -1, -1)
					emit(jeq, hi, -1, next)
				}
				emit(ldAbs, loOff, -1, -1)
				emit(jeq, lo, -1, next)
			case '!':
				if c.wide {
					return nil, fmt.Errorf("filter: a wide '!' condition is not supported")
				}
				emit(ldAbs, loOff, -1, -1)
				emit(jeq, lo, next, -1)
			case '<', '>':
				if c.wide {
					return nil, fmt.Errorf("filter: a wide ordered condition is not supported")
				}
				emit(ldAbs, loOff, -1, -1)
				if c.op == '<' {
					emit(jge, lo, next, -1)
				} else {
					emit(jge, lo, -1, next)
				}
			case '&':
				emit(ldAbs, loOff, -1, -1)
				emit(jset, lo, next, -1)
				if c.wide {
					emit(ldAbs, hiOff, -1, -1)
					emit(jset, hi, next, -1)
				}
			default:
				return nil, fmt.Errorf("filter: unknown condition %q", c.op)
			}
		}
		emit(ret, r.action, -1, -1)
		pending = next
	}
	emit(ret, legacyRetNotify, -1, -1)

	at := make([]int, labels)
	for i, in := range prog {
		if in.label >= 0 {
			at[in.label] = i
		}
	}
	out := make([]unix.SockFilter, len(prog))
	for i, in := range prog {
		f := unix.SockFilter{Code: in.code, K: in.k}
		for _, j := range []struct {
			label int
			dst   *uint8
		}{{in.jt, &f.Jt}, {in.jf, &f.Jf}} {
			if j.label < 0 {
				continue
			}
			off := at[j.label] - i - 1
			if off < 0 || off > 255 {
				return nil, fmt.Errorf("filter: jump of %d instructions out of range", off)
			}
			*j.dst = uint8(off)
		}
		out[i] = f
	}
	if len(out) > unix.BPF_MAXINSNS {
		return nil, fmt.Errorf("filter: %d instructions, more than the kernel takes", len(out))
	}
	return out, nil
}
