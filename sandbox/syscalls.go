package sandbox

import (
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/runx-dev/runx/internal/seccompbpf"
)

// The sandbox's system call table: one row per call the sandbox knows,
// in number order, with everything about it in one place: what the
// workload's seccomp filter does with it (filter.go compiles the filter from
// these rows), which handler serves what the filter sends on, how that
// handler runs, the support level and a note. A call with no row fails with
// ENOSYS, logged once. README.md's coverage tables are generated from it
// (TestCoverageTable), and `runx syscalls` prints it.

// handler serves one system call the filter sent to the Sentry.
type handler func(s *sentry, t *task) result

// support is how far the sandbox serves a call.
type support int

const (
	unsupported support = iota // ENOSYS
	passed                     // the filter lets the host kernel run it (under the checks shown)
	checked                    // the Sentry checks the arguments, then the kernel runs the call as made
	emulated                   // the Sentry does it and answers
	refused                    // an errno without doing anything, by design
)

func (s support) String() string {
	return [...]string{"unsupported", "passed", "checked", "emulated", "refused"}[s]
}

// callFlags say how the Sentry runs a handler.
type callFlags uint8

const (
	// quick: its handling never waits on anything the workload controls, so
	// it is answered inline on the listener's thread (notify.go).
	quick callFlags = 1 << iota
	// mayBlock: the Sentry may wait in it for as long as the workload wants
	// (a FIFO's other end, a peer that does not accept or read): watched
	// for signals to the caller.
	mayBlock
	// ownIDs: served from the Sentry's record of identities; no thread
	// needs to take the caller's credentials (creds.go).
	ownIDs
)

// fds are the workload's two reserved descriptors at the top of its table:
// exec (the file the Sentry approved for the next exec) and cwd (its working
// directory).
type fds struct{ exec, cwd int }

// reserved is the lowest reserved number, above is the highest (cwd and exec
// are consecutive): a process whose soft RLIMIT_NOFILE was raised has
// descriptors of its own past them.
func (f fds) reserved() uint64 { return uint64(f.cwd) }
func (f fds) above() uint64    { return uint64(f.exec) + 1 }

// notReserved are the rules that pass a call whose descriptor arguments
// (by number) are none of the reserved ones, each below or above them.
func notReserved(f fds, args ...int) []seccompbpf.Rule {
	rs := []seccompbpf.Rule{allow()}
	for _, a := range args {
		var next []seccompbpf.Rule
		for _, r := range rs {
			below := append(append([]seccompbpf.Cond(nil), r.Conds...), arg(a, lt, f.reserved()))
			beyond := append(append([]seccompbpf.Cond(nil), r.Conds...), arg(a, ge, f.above()))
			next = append(next, allow(below...), allow(beyond...))
		}
		rs = next
	}
	return rs
}

// filterFn gives the filter's rules for one call, in order (their Nrs are
// the row's); a call no rule matches goes to the Sentry.
type filterFn func(f fds) []seccompbpf.Rule

type syscallRow struct {
	nr      int
	filter  filterFn // nil: every such call goes to the Sentry
	checks  string   // what the filter checks before passing it ("": nothing)
	why     string   // why passing it to the host is safe
	handler handler  // serves what the filter sends on; nil: nothing reaches the Sentry
	flags   callFlags
	support support
	how     string // how the Sentry serves it
}

// Filter rule makers for the table.

func passAll(fds) []seccompbpf.Rule { return []seccompbpf.Rule{allow()} }

// rulesOf is a filter whose rules do not depend on the reserved descriptors.
func rulesOf(rs ...seccompbpf.Rule) filterFn {
	return func(fds) []seccompbpf.Rule { return rs }
}

func rules(rs ...seccompbpf.Rule) []seccompbpf.Rule { return rs }

func allow(conds ...seccompbpf.Cond) seccompbpf.Rule {
	return seccompbpf.Rule{Conds: conds, Action: retAllow}
}

func toSentry(conds ...seccompbpf.Cond) seccompbpf.Rule {
	return seccompbpf.Rule{Conds: conds, Action: retNotify}
}

// answer fails the call with e (0: pretends it succeeded) in the filter.
func answer(e unix.Errno, conds ...seccompbpf.Cond) seccompbpf.Rule {
	return seccompbpf.Rule{Conds: conds, Action: seccompbpf.Errno(e)}
}

// arg is a condition on a C int argument (the kernel reads its low 32 bits);
// wide, on all 64 bits.
func arg(n int, op seccompbpf.Op, val uint64) seccompbpf.Cond {
	return seccompbpf.Cond{Arg: n, Op: op, Val: val}
}

func wide(n int, op seccompbpf.Op, val uint64) seccompbpf.Cond {
	return seccompbpf.Cond{Arg: n, Op: op, Val: val, Wide: true}
}

const (
	eq     = seccompbpf.Eq
	lt     = seccompbpf.Lt
	ge     = seccompbpf.Ge
	noBits = seccompbpf.NoBits
)

// passFcntl: everything but owners (they name a process), never on the
// reserved descriptors, and duplicates below them.
func passFcntl(f fds) []seccompbpf.Rule {
	rs := rules(answer(unix.EBADF, arg(0, eq, uint64(f.cwd))), answer(unix.EBADF, arg(0, eq, uint64(f.exec))))
	for _, cmd := range []uint64{unix.F_GETFD, unix.F_SETFD, unix.F_GETFL, unix.F_SETFL, unix.F_GETLK,
		unix.F_SETLK, unix.F_SETLKW, unix.F_OFD_GETLK, unix.F_OFD_SETLK, unix.F_OFD_SETLKW,
		unix.F_GETPIPE_SZ, unix.F_SETPIPE_SZ, unix.F_ADD_SEALS, unix.F_GET_SEALS, unix.F_NOTIFY} {
		rs = append(rs, allow(arg(1, eq, cmd)))
	}
	for _, cmd := range []uint64{unix.F_DUPFD, unix.F_DUPFD_CLOEXEC} {
		rs = append(rs, allow(arg(1, eq, cmd), arg(2, lt, f.reserved())), allow(arg(1, eq, cmd), arg(2, ge, f.above())))
	}
	return rs
}

// passIoctl: terminal and descriptor requests that name nothing.
// TIOCSCTTY and TIOCNOTTY change only the caller's own session's terminal
// (taking one another session holds needs CAP_SYS_ADMIN over the host's
// user namespace); TIOCGPTPEER opens the other end of a pty master the
// caller holds, on the devpts it came from. FS_IOC_GETFLAGS and
// FS_IOC_SETFLAGS are a file's attributes (lsattr, chattr) on a descriptor
// the caller holds; the immutable and append-only ones need
// CAP_LINUX_IMMUTABLE over the host.
func passIoctl(fds) []seccompbpf.Rule {
	var rs []seccompbpf.Rule
	for _, req := range []uint64{unix.TCGETS, unix.TCSETS, unix.TCSETSW, unix.TCSETSF, unix.TIOCGWINSZ,
		unix.TIOCSWINSZ, fionread, fionbio, fioclex, fionclex, fioasync,
		unix.TIOCGPGRP, unix.TIOCGSID, unix.TCFLSH, unix.TCXONC, unix.TCSBRK, unix.TIOCOUTQ, unix.TIOCGPTN,
		unix.TIOCSPTLCK, unix.TIOCGPTLCK, unix.TIOCSCTTY, unix.TIOCNOTTY, unix.TIOCGPTPEER, unix.TIOCEXCL,
		unix.TIOCNXCL, unix.TIOCGEXCL, unix.TIOCGETD, unix.TIOCPKT, unix.TIOCGPKT, unix.TIOCSBRK, unix.TIOCCBRK,
		unix.TCSBRKP, unix.FS_IOC_GETFLAGS, unix.FS_IOC_SETFLAGS} {
		rs = append(rs, allow(arg(1, eq, req)))
	}
	return rs
}

// ioctl requests golang.org/x/sys/unix does not name (asm-generic/ioctls.h).
const (
	fionread = 0x541b
	fionbio  = 0x5421
	fionclex = 0x5450
	fioclex  = 0x5451
	fioasync = 0x5452
)

// Texts shared by rows of the table.
const (
	howXattr       = "a path is resolved by the Sentry and the call made on the file it found, as the caller; by descriptor on the caller's file; a symlink's own (`l*` on a link): none listed, `ENODATA` to get, `EPERM` to set or remove (the user namespace's rules); the Sentry's own `/proc` files list none, and `EOPNOTSUPP` otherwise, as procfs's"
	whyAIO         = "asynchronous I/O on descriptors the caller holds, as `read` and `write`"
	whyCapFirst    = "the kernel checks the capability the call needs (`CAP_SYS_PACCT`, `CAP_SYS_ADMIN`, `CAP_SYS_BOOT`, `CAP_SYS_MODULE`, `CAP_SYS_RAWIO`, `CAP_SYS_TTY_CONFIG`) before it reads any argument, and no sandbox process has it: the answer is the kernel's, `EPERM` (or `ENOSYS` where the kernel lacks the call), as in the namespace mode without the capability"
	howPrivileged  = "`EPERM`, as the kernel answers a process without the capability the call needs (`CAP_SYSLOG`, `CAP_SYS_ADMIN`, `CAP_DAC_READ_SEARCH`); not passed, since the kernel would first resolve a path (`quotactl`, `fanotify_mark` after `fanotify_init`), read a handle, or show the host's log (`syslog` with `kernel.dmesg_restrict=0`)"
	whyClockAdjust = "a read names nothing; a change needs `CAP_SYS_TIME` over the host's user namespace, which no sandbox process has (the workload is in a user namespace of its own)"
	whyClockSet    = "the kernel refuses it (`EPERM`): setting the clock needs `CAP_SYS_TIME` over the host's user namespace, which no sandbox process has"
	whySigqueue    = "pids resolve in the caller's pid namespace, the sandbox's own, as for `kill`; the kernel lets a program forge a signal's origin only to itself"
)

// syscallTable is the table, in number order.
var syscallTable = []syscallRow{
	{nr: unix.SYS_READ, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_WRITE, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_OPEN, handler: (*sentry).sysOpen, flags: quick, support: emulated, how: "resolved by the Sentry, opened by it on the listener's thread (a FIFO, a device other than the memory ones, a socket or a leased file on a goroutine, as it may wait), handed over with `ADDFD`, answered once its own copy is closed; `O_PATH` gets a read-only descriptor (of a symlink, an empty memfd that calls with an empty path, `fstatat` `readlinkat` `fchownat`, take for the link)"},
	{nr: unix.SYS_CLOSE, filter: func(f fds) []seccompbpf.Rule { return append(notReserved(f, 0), answer(0)) }, checks: "fd not a reserved one; on the reserved ones it returns 0 without closing", support: passed},
	{nr: unix.SYS_STAT, handler: (*sentry).sysStat, flags: quick, support: emulated, how: "resolved, then `fstatat`/`statx`/`fstatfs` on the Sentry's descriptor; an empty path with `AT_EMPTY_PATH` is the caller's descriptor"},
	{nr: unix.SYS_FSTAT, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_LSTAT, handler: (*sentry).sysLstat, flags: quick, support: emulated, how: "resolved, then `fstatat`/`statx`/`fstatfs` on the Sentry's descriptor; an empty path with `AT_EMPTY_PATH` is the caller's descriptor"},
	{nr: unix.SYS_POLL, filter: passAll, why: "name nothing (a memfd's name is a label); the new descriptors are the kernel's (threat model)", support: passed},
	{nr: unix.SYS_LSEEK, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_MMAP, filter: passAll, why: "memory management of the caller", support: passed},
	{nr: unix.SYS_MPROTECT, filter: passAll, why: "memory management of the caller", support: passed},
	{nr: unix.SYS_MUNMAP, filter: passAll, why: "memory management of the caller", support: passed},
	{nr: unix.SYS_BRK, filter: passAll, why: "memory management of the caller", support: passed},
	{nr: unix.SYS_RT_SIGACTION, filter: passAll, why: "the caller's own signal state", support: passed},
	{nr: unix.SYS_RT_SIGPROCMASK, filter: passAll, why: "the caller's own signal state", support: passed},
	{nr: unix.SYS_RT_SIGRETURN, filter: passAll, why: "the caller's own signal state", support: passed},
	{nr: unix.SYS_IOCTL, filter: passIoctl, checks: "request one of `TCGETS` `TCSETS` `TCSETSW` `TCSETSF` `TIOCGWINSZ` `TIOCSWINSZ` `FIONREAD` `FIONBIO` `FIOCLEX` `FIONCLEX` `FIOASYNC` `TIOCGPGRP` `TIOCGSID` `TCFLSH` `TCXONC` `TCSBRK` `TIOCOUTQ` `TIOCGPTN` `TIOCSPTLCK` `TIOCGPTLCK` `TIOCSCTTY` `TIOCNOTTY` `TIOCGPTPEER` `TIOCEXCL` `TIOCNXCL` `TIOCGEXCL` `TIOCGETD` `TIOCPKT` `TIOCGPKT` `TIOCSBRK` `TIOCCBRK` `TCSBRKP` `FS_IOC_GETFLAGS` `FS_IOC_SETFLAGS`", why: "others go to the Sentry; `TIOCSCTTY` `TIOCNOTTY` change only the caller's session's terminal (taking another session's needs `CAP_SYS_ADMIN` over the host), `TIOCGPTPEER` opens the other end of the caller's pty master; `FS_IOC_GETFLAGS` `FS_IOC_SETFLAGS` are the attributes of a file the caller holds (immutable and append-only need `CAP_LINUX_IMMUTABLE` over the host)", handler: (*sentry).sysIoctl, support: checked, how: "`TIOCSPGRP`: the group must be a sandbox process group; `TIOCSTI` `TIOCCONS` `TIOCLINUX`: refused (`EPERM`); on a socket: `SIOCGIF*`/`SIOCSIF*` (name, flags, addresses, netmask, MTU, hardware address, index, queue length, map), `SIOCGIFCONF`, `SIOCBRADDBR` `SIOCBRDELBR` `SIOCBRADDIF` `SIOCBRDELIF`: on the Sentry's copy of the socket in the container's network namespace, with the caller's capabilities (`CAP_NET_ADMIN` to change); only requests whose argument holds no pointer; `FICLONE` `FICLONERANGE`: on the Sentry's copies of both descriptors; other requests: refused (`ENOTTY`, logged once)"},
	{nr: unix.SYS_PREAD64, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_PWRITE64, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_READV, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_WRITEV, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_ACCESS, handler: (*sentry).sysAccess, flags: quick, support: emulated, how: "`faccessat2(AT_EMPTY_PATH)` on the resolved file"},
	{nr: unix.SYS_PIPE, filter: passAll, why: "the kernel numbers the two descriptors, the lowest free, below the reserved ones at the top of the table; in the filter so that no signal fails it with `EINTR` while the Sentry would serve it", support: passed},
	{nr: unix.SYS_SELECT, filter: passAll, why: "name nothing (a memfd's name is a label); the new descriptors are the kernel's (threat model)", support: passed},
	{nr: unix.SYS_SCHED_YIELD, filter: passAll, why: "threads of the caller", support: passed},
	{nr: unix.SYS_MREMAP, filter: passAll, why: "memory management of the caller", support: passed},
	{nr: unix.SYS_MSYNC, filter: passAll, why: "memory management of the caller", support: passed},
	{nr: unix.SYS_MINCORE, filter: passAll, why: "memory management of the caller", support: passed},
	{nr: unix.SYS_MADVISE, filter: passAll, why: "memory management of the caller", support: passed},
	{nr: unix.SYS_SHMGET, filter: passAll, why: "keys and queue names live in the container's IPC namespace, which holds the workload's objects only (the Sentry has none); owners read through `*ctl(IPC_STAT)` show as the overflow user (65534), `/proc/sysvipc` as the container sees them", support: passed},
	{nr: unix.SYS_SHMAT, filter: passAll, why: "keys and queue names live in the container's IPC namespace, which holds the workload's objects only (the Sentry has none); owners read through `*ctl(IPC_STAT)` show as the overflow user (65534), `/proc/sysvipc` as the container sees them", support: passed},
	{nr: unix.SYS_SHMCTL, filter: passAll, why: "keys and queue names live in the container's IPC namespace, which holds the workload's objects only (the Sentry has none); owners read through `*ctl(IPC_STAT)` show as the overflow user (65534), `/proc/sysvipc` as the container sees them", support: passed},
	{nr: unix.SYS_DUP, filter: func(f fds) []seccompbpf.Rule { return notReserved(f, 0) }, checks: "no descriptor number a reserved one", why: "the kernel numbers the new descriptors (threat model); in the filter so that no signal fails them with `EINTR` while the Sentry would serve them", handler: (*sentry).sysDup, support: emulated, how: "when the filter sent them (a reserved descriptor): `EBADF`"},
	{nr: unix.SYS_DUP2, filter: func(f fds) []seccompbpf.Rule { return notReserved(f, 0, 1) }, checks: "no descriptor number a reserved one", why: "the kernel numbers the new descriptors (threat model); in the filter so that no signal fails them with `EINTR` while the Sentry would serve them", handler: (*sentry).sysDup2, support: emulated, how: "when the filter sent them (a reserved descriptor): `EBADF`"},
	{nr: unix.SYS_PAUSE, filter: passAll, why: "the caller's own signal state", support: passed},
	{nr: unix.SYS_NANOSLEEP, filter: passAll, why: "name nothing", support: passed},
	{nr: unix.SYS_GETITIMER, filter: passAll, why: "name nothing", support: passed},
	{nr: unix.SYS_ALARM, filter: passAll, why: "name nothing", support: passed},
	{nr: unix.SYS_SETITIMER, filter: passAll, why: "name nothing", support: passed},
	{nr: unix.SYS_GETPID, filter: passAll, why: "the kernel answers in the caller's pid namespace, the sandbox's own, where the workload's pids are the sandbox's pids (the first process is 1; its parent, outside, is 0)", support: passed},
	{nr: unix.SYS_SENDFILE, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_SOCKET, handler: (*sentry).sysSocket, support: emulated, how: "`AF_UNIX`, `AF_INET`, `AF_INET6`, `AF_NETLINK` (`NETLINK_ROUTE`); made in the container's network namespace (so loopback TCP and UDP work, and the host's network is not there); `SOCK_RAW` IP sockets `EPERM` even with `CAP_NET_RAW`; other families `EAFNOSUPPORT`"},
	{nr: unix.SYS_CONNECT, handler: (*sentry).sysConnect, flags: mayBlock, support: emulated, how: "on the Sentry's copy of the socket; a unix path is resolved by the Sentry (`connect` reaches the resolved inode, `bind` makes a name in the resolved parent); a netlink address must be the kernel's (port 0) for `connect` and `sendto`"},
	{nr: unix.SYS_ACCEPT, filter: rulesOf(allow(wide(1, eq, 0))), checks: "address pointer == NULL", why: "on sockets the Sentry made; no address to report", handler: (*sentry).sysAccept, flags: mayBlock, support: emulated, how: "with an address asked for, on a unix socket, while the Sentry has bound a unix name: the Sentry waits until the socket is ready, receives on its copy without waiting, reports a peer's name as the program bound it and passes `SCM_RIGHTS` descriptors with `ADDFD` (`SCM_CREDENTIALS` with the sandbox's pid); any other call is the kernel's as made; the socket accepted is handed over with `ADDFD`"},
	{nr: unix.SYS_SENDTO, filter: rulesOf(allow(wide(4, eq, 0))), checks: "address pointer == NULL", why: "with an address it is emulated", handler: (*sentry).sysSendto, flags: mayBlock, support: emulated, how: "the Sentry reads the data (up to 1 MiB a message), resolves the address and translates `SCM_RIGHTS` descriptors (`SCM_CREDENTIALS` `EINVAL`); it sends without waiting and waits for the socket in between, so a signal ends a blocking send having sent nothing, or with what it sent (a stream's bytes, earlier messages); `EPIPE` raises the caller's `SIGPIPE` unless `MSG_NOSIGNAL`"},
	{nr: unix.SYS_RECVFROM, filter: rulesOf(allow(wide(4, eq, 0))), checks: "address pointer == NULL", why: "on sockets the Sentry made; no address to report", handler: (*sentry).sysRecvfrom, flags: mayBlock, support: emulated, how: "with an address asked for, on a unix socket, while the Sentry has bound a unix name: the Sentry waits until the socket is ready, receives on its copy without waiting, reports a peer's name as the program bound it and passes `SCM_RIGHTS` descriptors with `ADDFD` (`SCM_CREDENTIALS` with the sandbox's pid); any other call is the kernel's as made; `MSG_WAITALL` the kernel's"},
	{nr: unix.SYS_SENDMSG, handler: (*sentry).sysSendmsg, flags: mayBlock, support: emulated, how: "the Sentry reads the data (up to 1 MiB a message), resolves the address and translates `SCM_RIGHTS` descriptors (`SCM_CREDENTIALS` `EINVAL`); it sends without waiting and waits for the socket in between, so a signal ends a blocking send having sent nothing, or with what it sent (a stream's bytes, earlier messages); `EPIPE` raises the caller's `SIGPIPE` unless `MSG_NOSIGNAL`"},
	{nr: unix.SYS_RECVMSG, handler: (*sentry).sysRecvmsg, flags: mayBlock, support: emulated, how: "with an address asked for, on a unix socket, while the Sentry has bound a unix name: the Sentry waits until the socket is ready, receives on its copy without waiting, reports a peer's name as the program bound it and passes `SCM_RIGHTS` descriptors with `ADDFD` (`SCM_CREDENTIALS` with the sandbox's pid); any other call is the kernel's as made; `MSG_WAITALL` and `MSG_ERRQUEUE` the kernel's"},
	{nr: unix.SYS_SHUTDOWN, filter: passAll, why: "on sockets the Sentry made; addresses are outputs", support: passed},
	{nr: unix.SYS_BIND, handler: (*sentry).sysBind, support: emulated, how: "on the Sentry's copy of the socket; a unix path is resolved by the Sentry (`connect` reaches the resolved inode, `bind` makes a name in the resolved parent); a netlink address must be the kernel's (port 0) for `connect` and `sendto`"},
	{nr: unix.SYS_LISTEN, filter: passAll, why: "on sockets the Sentry made; addresses are outputs", support: passed},
	{nr: unix.SYS_GETSOCKNAME, handler: (*sentry).sysSockName, flags: quick, support: emulated, how: "the Sentry's call on its copy of the socket; a unix socket the Sentry bound shows the path the program gave"},
	{nr: unix.SYS_GETPEERNAME, handler: (*sentry).sysSockName, flags: quick, support: emulated, how: "the Sentry's call on its copy of the socket; a unix socket the Sentry bound shows the path the program gave"},
	{nr: unix.SYS_SOCKETPAIR, handler: (*sentry).sysSocketpair, support: emulated, how: "`AF_UNIX`"},
	{nr: unix.SYS_SETSOCKOPT, filter: passAll, why: "on sockets the Sentry made; addresses are outputs", support: passed},
	{nr: unix.SYS_GETSOCKOPT, filter: rulesOf(toSentry(arg(1, eq, unix.SOL_SOCKET), arg(2, eq, unix.SO_PEERCRED)), allow()), checks: "not `SOL_SOCKET` `SO_PEERCRED`", why: "on sockets the Sentry made; addresses are outputs", handler: (*sentry).sysGetsockopt, support: emulated, how: "`SO_PEERCRED` (the filter sends nothing else): the kernel records the Sentry as the maker of the pairs and connections it makes: the Sentry notes, by socket inode, the process it made each for (the accepted end's peer found with `sock_diag`), and answers with that process's sandbox pid and effective ids; a peer that called `listen` itself is translated to sandbox numbers and ids"},
	{nr: unix.SYS_CLONE, filter: rulesOf(allow(arg(0, noBits, cloneRefused))), checks: "flags without `CLONE_NEW*` (namespaces) and `CLONE_PTRACE`; the others go to the Sentry (refused)", why: "flags are in a register; in the filter, so that a signal cannot fail a fork with `EINTR` while the Sentry looks at it; a `CLONE_PIDFD` descriptor names the new child, numbered by the kernel (threat model)", handler: (*sentry).sysClone, support: refused, how: "when the filter sent it: a new namespace or `CLONE_PTRACE` `EPERM`"},
	{nr: unix.SYS_FORK, filter: passAll, why: "the child inherits the filter, the listener and the reserved descriptors; in the filter so that a signal cannot fail it with `EINTR`", support: passed},
	{nr: unix.SYS_VFORK, filter: passAll, why: "the child inherits the filter, the listener and the reserved descriptors; in the filter so that a signal cannot fail it with `EINTR`", support: passed},
	{nr: unix.SYS_EXECVE, handler: (*sentry).sysExecve, support: emulated, how: "see exec"},
	{nr: unix.SYS_EXIT, filter: passAll, why: "ends the caller", support: passed},
	{nr: unix.SYS_WAIT4, handler: (*sentry).sysWait4, support: checked, how: "a pid must be a child of the caller, a group must exist; `P_PIDFD` passes (the kernel waits only for children)"},
	{nr: unix.SYS_KILL, filter: passAll, why: "pids resolve in the caller's pid namespace, the sandbox's own, which holds only workload processes (the Sentry is in its parent); the kernel spares the sandbox's pid 1 the signals it does not handle", support: passed},
	{nr: unix.SYS_UNAME, handler: (*sentry).sysUname, flags: quick | ownIDs, support: emulated, how: "the host's kernel; the sandbox's host and domain names"},
	{nr: unix.SYS_SEMGET, filter: passAll, why: "keys and queue names live in the container's IPC namespace, which holds the workload's objects only (the Sentry has none); owners read through `*ctl(IPC_STAT)` show as the overflow user (65534), `/proc/sysvipc` as the container sees them", support: passed},
	{nr: unix.SYS_SEMOP, filter: passAll, why: "keys and queue names live in the container's IPC namespace, which holds the workload's objects only (the Sentry has none); owners read through `*ctl(IPC_STAT)` show as the overflow user (65534), `/proc/sysvipc` as the container sees them", support: passed},
	{nr: unix.SYS_SEMCTL, filter: passAll, why: "keys and queue names live in the container's IPC namespace, which holds the workload's objects only (the Sentry has none); owners read through `*ctl(IPC_STAT)` show as the overflow user (65534), `/proc/sysvipc` as the container sees them", support: passed},
	{nr: unix.SYS_SHMDT, filter: passAll, why: "keys and queue names live in the container's IPC namespace, which holds the workload's objects only (the Sentry has none); owners read through `*ctl(IPC_STAT)` show as the overflow user (65534), `/proc/sysvipc` as the container sees them", support: passed},
	{nr: unix.SYS_MSGGET, filter: passAll, why: "keys and queue names live in the container's IPC namespace, which holds the workload's objects only (the Sentry has none); owners read through `*ctl(IPC_STAT)` show as the overflow user (65534), `/proc/sysvipc` as the container sees them", support: passed},
	{nr: unix.SYS_MSGSND, filter: passAll, why: "keys and queue names live in the container's IPC namespace, which holds the workload's objects only (the Sentry has none); owners read through `*ctl(IPC_STAT)` show as the overflow user (65534), `/proc/sysvipc` as the container sees them", support: passed},
	{nr: unix.SYS_MSGRCV, filter: passAll, why: "keys and queue names live in the container's IPC namespace, which holds the workload's objects only (the Sentry has none); owners read through `*ctl(IPC_STAT)` show as the overflow user (65534), `/proc/sysvipc` as the container sees them", support: passed},
	{nr: unix.SYS_MSGCTL, filter: passAll, why: "keys and queue names live in the container's IPC namespace, which holds the workload's objects only (the Sentry has none); owners read through `*ctl(IPC_STAT)` show as the overflow user (65534), `/proc/sysvipc` as the container sees them", support: passed},
	{nr: unix.SYS_FCNTL, filter: passFcntl, checks: "fd not a reserved one (else `EBADF`), cmd one of `F_GETFD` `F_SETFD` `F_GETFL` `F_SETFL` `F_GETLK` `F_SETLK` `F_SETLKW` `F_OFD_GETLK` `F_OFD_SETLK` `F_OFD_SETLKW` `F_GETPIPE_SZ` `F_SETPIPE_SZ` `F_ADD_SEALS` `F_GET_SEALS` `F_NOTIFY` (its signal goes to the caller), or `F_DUPFD` `F_DUPFD_CLOEXEC` from a number below or above the reserved ones", why: "`F_SETOWN` and others go to the Sentry (refused)", handler: (*sentry).sysFcntl, support: refused, how: "the commands the filter sends on: `EINVAL`, logged once (`F_SETOWN` and `F_SETSIG` name processes)"},
	{nr: unix.SYS_FLOCK, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_FSYNC, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_FDATASYNC, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_TRUNCATE, handler: (*sentry).sysTruncate, support: emulated, how: "on the resolved inode"},
	{nr: unix.SYS_FTRUNCATE, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_GETDENTS, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_GETCWD, handler: (*sentry).sysGetcwd, flags: quick, support: emulated, how: "the working directory is the reserved `cwdFD`"},
	{nr: unix.SYS_CHDIR, handler: (*sentry).sysChdir, support: emulated, how: "the working directory is the reserved `cwdFD`"},
	{nr: unix.SYS_FCHDIR, handler: (*sentry).sysFchdir, support: emulated, how: "the working directory is the reserved `cwdFD`"},
	{nr: unix.SYS_RENAME, handler: (*sentry).sysRename, support: emulated, how: "on a resolved parent and one name"},
	{nr: unix.SYS_MKDIR, handler: (*sentry).sysMkdir, support: emulated, how: "on a resolved parent and one name"},
	{nr: unix.SYS_RMDIR, handler: (*sentry).sysRmdir, support: emulated, how: "on a resolved parent and one name"},
	{nr: unix.SYS_CREAT, handler: (*sentry).sysCreat, flags: quick, support: emulated, how: "resolved by the Sentry, opened by it on the listener's thread (a FIFO, a device other than the memory ones, a socket or a leased file on a goroutine, as it may wait), handed over with `ADDFD`, answered once its own copy is closed; `O_PATH` gets a read-only descriptor (of a symlink, an empty memfd that calls with an empty path, `fstatat` `readlinkat` `fchownat`, take for the link)"},
	{nr: unix.SYS_LINK, handler: (*sentry).sysLink, support: emulated, how: "on a resolved parent and one name"},
	{nr: unix.SYS_UNLINK, handler: (*sentry).sysUnlink, support: emulated, how: "on a resolved parent and one name"},
	{nr: unix.SYS_SYMLINK, handler: (*sentry).sysSymlink, support: emulated, how: "on a resolved parent and one name"},
	{nr: unix.SYS_READLINK, handler: (*sentry).sysReadlink, flags: quick, support: emulated, how: ""},
	{nr: unix.SYS_CHMOD, handler: (*sentry).sysChmod, support: emulated, how: "on the resolved inode"},
	{nr: unix.SYS_FCHMOD, handler: (*sentry).sysFchmod, support: emulated, how: "on the Sentry's copy of the descriptor: the workload's user namespace maps no uid, so the host kernel would refuse any owner (`EINVAL`) and the spec's `CAP_CHOWN`/`CAP_FOWNER`"},
	{nr: unix.SYS_CHOWN, handler: (*sentry).sysChown, support: emulated, how: "on the resolved inode"},
	{nr: unix.SYS_FCHOWN, handler: (*sentry).sysFchown, support: emulated, how: "on the Sentry's copy of the descriptor: the workload's user namespace maps no uid, so the host kernel would refuse any owner (`EINVAL`) and the spec's `CAP_CHOWN`/`CAP_FOWNER`"},
	{nr: unix.SYS_LCHOWN, handler: (*sentry).sysLchown, support: emulated, how: "on the resolved inode"},
	{nr: unix.SYS_UMASK, filter: passAll, why: "the caller's own mask, which the Sentry reads when it creates files for it", support: passed},
	{nr: unix.SYS_GETTIMEOFDAY, filter: passAll, why: "name nothing", support: passed},
	{nr: unix.SYS_GETRLIMIT, handler: (*sentry).sysGetrlimit, support: emulated, how: "`RLIMIT_NOFILE`: each process's own, kept by the Sentry (see The two reserved descriptors); other limits of another process: the Sentry's call on its host pid; the caller's own other limits pass"},
	{nr: unix.SYS_GETRUSAGE, filter: passAll, why: "name nothing", support: passed},
	{nr: unix.SYS_SYSINFO, filter: passAll, why: "name nothing", support: passed},
	{nr: unix.SYS_TIMES, filter: passAll, why: "name nothing", support: passed},
	{nr: unix.SYS_PTRACE, handler: (*sentry).sysRefused, support: refused, how: "`EPERM`"},
	{nr: unix.SYS_GETUID, handler: (*sentry).sysGetuid, flags: quick | ownIDs, support: emulated, how: "the caller's credentials (see Identities)"},
	{nr: unix.SYS_SYSLOG, handler: (*sentry).sysRefused, support: refused, how: howPrivileged},
	{nr: unix.SYS_GETGID, handler: (*sentry).sysGetgid, flags: quick | ownIDs, support: emulated, how: "the caller's credentials (see Identities)"},
	{nr: unix.SYS_SETUID, handler: (*sentry).sysSetuid, flags: ownIDs, support: emulated, how: "the kernel's rules: `CAP_SETUID`/`CAP_SETGID` or one of the real, effective and saved ids; a uid change drops capabilities as Linux does (keep-caps honoured)"},
	{nr: unix.SYS_SETGID, handler: (*sentry).sysSetgid, flags: ownIDs, support: emulated, how: "the kernel's rules: `CAP_SETUID`/`CAP_SETGID` or one of the real, effective and saved ids; a uid change drops capabilities as Linux does (keep-caps honoured)"},
	{nr: unix.SYS_GETEUID, handler: (*sentry).sysGeteuid, flags: quick | ownIDs, support: emulated, how: "the caller's credentials (see Identities)"},
	{nr: unix.SYS_GETEGID, handler: (*sentry).sysGetegid, flags: quick | ownIDs, support: emulated, how: "the caller's credentials (see Identities)"},
	{nr: unix.SYS_SETPGID, handler: (*sentry).sysSetpgid, support: checked, how: "both must be sandbox pids/groups (only the caller or its child can be moved, so the Sentry cannot do it for it)"},
	{nr: unix.SYS_GETPPID, filter: passAll, why: "the kernel answers in the caller's pid namespace, the sandbox's own, where the workload's pids are the sandbox's pids (the first process is 1; its parent, outside, is 0)", support: passed},
	{nr: unix.SYS_GETPGRP, filter: passAll, why: "the caller's own process group and session, in the sandbox's pid namespace", support: passed},
	{nr: unix.SYS_SETSID, filter: passAll, why: "the caller's own process group and session, in the sandbox's pid namespace", support: passed},
	{nr: unix.SYS_SETREUID, handler: (*sentry).sysSetreuid, flags: ownIDs, support: emulated, how: "the kernel's rules: `CAP_SETUID`/`CAP_SETGID` or one of the real, effective and saved ids; a uid change drops capabilities as Linux does (keep-caps honoured)"},
	{nr: unix.SYS_SETREGID, handler: (*sentry).sysSetregid, flags: ownIDs, support: emulated, how: "the kernel's rules: `CAP_SETUID`/`CAP_SETGID` or one of the real, effective and saved ids; a uid change drops capabilities as Linux does (keep-caps honoured)"},
	{nr: unix.SYS_GETGROUPS, handler: (*sentry).sysGetgroups, flags: quick | ownIDs, support: emulated, how: "the caller's credentials (see Identities)"},
	{nr: unix.SYS_SETGROUPS, handler: (*sentry).sysSetgroups, flags: ownIDs, support: emulated, how: "the kernel's rules: `CAP_SETUID`/`CAP_SETGID` or one of the real, effective and saved ids; a uid change drops capabilities as Linux does (keep-caps honoured)"},
	{nr: unix.SYS_SETRESUID, handler: (*sentry).sysSetresuid, flags: ownIDs, support: emulated, how: "the kernel's rules: `CAP_SETUID`/`CAP_SETGID` or one of the real, effective and saved ids; a uid change drops capabilities as Linux does (keep-caps honoured)"},
	{nr: unix.SYS_GETRESUID, handler: (*sentry).sysGetresuid, flags: quick | ownIDs, support: emulated, how: "the caller's credentials (see Identities)"},
	{nr: unix.SYS_SETRESGID, handler: (*sentry).sysSetresgid, flags: ownIDs, support: emulated, how: "the kernel's rules: `CAP_SETUID`/`CAP_SETGID` or one of the real, effective and saved ids; a uid change drops capabilities as Linux does (keep-caps honoured)"},
	{nr: unix.SYS_GETRESGID, handler: (*sentry).sysGetresgid, flags: quick | ownIDs, support: emulated, how: "the caller's credentials (see Identities)"},
	{nr: unix.SYS_GETPGID, filter: rulesOf(allow(arg(0, eq, 0))), checks: "pid == 0", why: "others are checked by the Sentry", handler: (*sentry).sysGetpgid, flags: quick, support: emulated, how: "from the target's `NSpgid`/`NSsid`"},
	{nr: unix.SYS_SETFSUID, handler: (*sentry).sysSetfsuid, flags: ownIDs, support: emulated, how: "the kernel's rules: `CAP_SETUID`/`CAP_SETGID` or one of the real, effective and saved ids; a uid change drops capabilities as Linux does (keep-caps honoured)"},
	{nr: unix.SYS_SETFSGID, handler: (*sentry).sysSetfsgid, flags: ownIDs, support: emulated, how: "the kernel's rules: `CAP_SETUID`/`CAP_SETGID` or one of the real, effective and saved ids; a uid change drops capabilities as Linux does (keep-caps honoured)"},
	{nr: unix.SYS_GETSID, filter: rulesOf(allow(arg(0, eq, 0))), checks: "pid == 0", why: "others are checked by the Sentry", handler: (*sentry).sysGetsid, flags: quick, support: emulated, how: "from the target's `NSpgid`/`NSsid`"},
	{nr: unix.SYS_CAPGET, handler: (*sentry).sysCapget, flags: ownIDs, support: emulated, how: "the caller's sets, or another sandbox process's (`capget`); `capset` within the permitted and bounding sets, as the kernel checks"},
	{nr: unix.SYS_CAPSET, handler: (*sentry).sysCapset, flags: ownIDs, support: emulated, how: "the caller's sets, or another sandbox process's (`capget`); `capset` within the permitted and bounding sets, as the kernel checks"},
	{nr: unix.SYS_RT_SIGPENDING, filter: passAll, why: "the caller's own signal state", support: passed},
	{nr: unix.SYS_RT_SIGTIMEDWAIT, filter: passAll, why: "the caller's own signal state", support: passed},
	{nr: unix.SYS_RT_SIGQUEUEINFO, filter: passAll, why: whySigqueue, support: passed},
	{nr: unix.SYS_RT_SIGSUSPEND, filter: passAll, why: "the caller's own signal state", support: passed},
	{nr: unix.SYS_SIGALTSTACK, filter: passAll, why: "the caller's own signal state", support: passed},
	{nr: unix.SYS_MKNOD, handler: (*sentry).sysMknod, support: emulated, how: "on a resolved parent and one name"},
	{nr: unix.SYS_PERSONALITY, handler: (*sentry).sysContinue, support: checked, how: "name nothing"},
	{nr: unix.SYS_STATFS, handler: (*sentry).sysStatfs, support: emulated, how: "resolved, then `fstatat`/`statx`/`fstatfs` on the Sentry's descriptor; an empty path with `AT_EMPTY_PATH` is the caller's descriptor"},
	{nr: unix.SYS_FSTATFS, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_GETPRIORITY, handler: (*sentry).sysPriority, support: emulated, how: "who ≠ 0: on the host's pid or group; `PRIO_USER` means the sandbox's processes; who == 0 passes"},
	{nr: unix.SYS_SETPRIORITY, handler: (*sentry).sysPriority, support: emulated, how: "who ≠ 0: on the host's pid or group; `PRIO_USER` means the sandbox's processes; who == 0 passes"},
	{nr: unix.SYS_SCHED_SETPARAM, handler: (*sentry).sysSchedSetparam, support: emulated, how: "the Sentry's call on the host tid of the sandbox thread; pid 0 passes (`sched_get/setaffinity` by the filter, the others checked, passed)"},
	{nr: unix.SYS_SCHED_GETPARAM, handler: (*sentry).sysSchedGetparam, support: emulated, how: "the Sentry's call on the host tid of the sandbox thread; pid 0 passes (`sched_get/setaffinity` by the filter, the others checked, passed)"},
	{nr: unix.SYS_SCHED_SETSCHEDULER, handler: (*sentry).sysSchedSetscheduler, support: emulated, how: "the Sentry's call on the host tid of the sandbox thread; pid 0 passes (`sched_get/setaffinity` by the filter, the others checked, passed)"},
	{nr: unix.SYS_SCHED_GETSCHEDULER, handler: (*sentry).sysSchedGetscheduler, support: emulated, how: "the Sentry's call on the host tid of the sandbox thread; pid 0 passes (`sched_get/setaffinity` by the filter, the others checked, passed)"},
	{nr: unix.SYS_SCHED_GET_PRIORITY_MAX, filter: passAll, why: "threads of the caller", support: passed},
	{nr: unix.SYS_SCHED_GET_PRIORITY_MIN, filter: passAll, why: "threads of the caller", support: passed},
	{nr: unix.SYS_SCHED_RR_GET_INTERVAL, handler: (*sentry).sysSchedRRGetInterval, support: emulated, how: "the Sentry's call on the host tid of the sandbox thread; pid 0 passes (`sched_get/setaffinity` by the filter, the others checked, passed)"},
	{nr: unix.SYS_MLOCK, filter: passAll, why: "memory management of the caller", support: passed},
	{nr: unix.SYS_MUNLOCK, filter: passAll, why: "memory management of the caller", support: passed},
	{nr: unix.SYS_MLOCKALL, filter: passAll, why: "the caller's own memory, within its `RLIMIT_MEMLOCK`", support: passed},
	{nr: unix.SYS_MUNLOCKALL, filter: passAll, why: "the caller's own memory", support: passed},
	{nr: unix.SYS_VHANGUP, filter: passAll, why: whyCapFirst, support: passed},
	{nr: unix.SYS_PIVOT_ROOT, handler: (*sentry).sysRefused, support: refused, how: "`EPERM`"},
	{nr: unix.SYS_PRCTL, filter: rulesOf(allow(arg(0, eq, unix.PR_SET_NAME))), checks: "`PR_SET_NAME`", why: "others go to the Sentry", handler: (*sentry).sysPrctl, support: checked, how: "`PR_GET_NAME` answered with the name `/proc/PID/comm` shows (a dynamic program's own, not its interpreter's); `PR_SET/GET_PDEATHSIG`, `DUMPABLE`, `CHILD_SUBREAPER`, `SECCOMP`, `TIMERSLACK`, `TID_ADDRESS`, `THP_DISABLE`, `PR_SET_VMA`, `SPECULATION_CTRL`, `TIMING`, `ENDIAN`; emulated on the caller's credentials: `PR_SET/GET_NO_NEW_PRIVS`, `PR_SET/GET_KEEPCAPS`, `PR_SET/GET_SECUREBITS` (kept, only keep-caps acted on), `PR_CAPBSET_READ`, `PR_CAPBSET_DROP`, `PR_CAP_AMBIENT`; `PR_SET_PTRACER` a no-op; others `EINVAL`, logged once"},
	{nr: unix.SYS_ARCH_PRCTL, filter: passAll, why: "threads of the caller", support: passed},
	{nr: unix.SYS_ADJTIMEX, filter: passAll, why: whyClockAdjust, support: passed},
	{nr: unix.SYS_SETRLIMIT, handler: (*sentry).sysSetrlimit, support: emulated, how: "`RLIMIT_NOFILE`: each process's own, kept by the Sentry (see The two reserved descriptors); other limits of another process: the Sentry's call on its host pid; the caller's own other limits pass"},
	{nr: unix.SYS_CHROOT, handler: (*sentry).sysChroot, support: refused, how: "`EPERM`"},
	{nr: unix.SYS_SYNC, filter: passAll, why: "names nothing", support: passed},
	{nr: unix.SYS_ACCT, filter: passAll, why: whyCapFirst, support: passed},
	{nr: unix.SYS_SETTIMEOFDAY, filter: passAll, why: whyClockSet, support: passed},
	{nr: unix.SYS_MOUNT, handler: (*sentry).sysRefused, support: refused, how: "`EPERM`"},
	{nr: unix.SYS_UMOUNT2, handler: (*sentry).sysRefused, support: refused, how: "`EPERM`"},
	{nr: unix.SYS_SWAPON, filter: passAll, why: whyCapFirst, support: passed},
	{nr: unix.SYS_SWAPOFF, filter: passAll, why: whyCapFirst, support: passed},
	{nr: unix.SYS_REBOOT, filter: passAll, why: whyCapFirst, support: passed},
	{nr: unix.SYS_SETHOSTNAME, handler: (*sentry).sysSethostname, support: emulated, how: "with `CAP_SYS_ADMIN` in the spec's capabilities, else `EPERM`; the Sentry's copy only"},
	{nr: unix.SYS_SETDOMAINNAME, handler: (*sentry).sysSetdomainname, support: emulated, how: "with `CAP_SYS_ADMIN` in the spec's capabilities, else `EPERM`; the Sentry's copy only"},
	{nr: unix.SYS_IOPL, filter: passAll, why: whyCapFirst, support: passed},
	{nr: unix.SYS_IOPERM, filter: passAll, why: whyCapFirst, support: passed},
	{nr: unix.SYS_INIT_MODULE, filter: passAll, why: whyCapFirst, support: passed},
	{nr: unix.SYS_DELETE_MODULE, filter: passAll, why: whyCapFirst, support: passed},
	{nr: unix.SYS_QUOTACTL, handler: (*sentry).sysRefused, support: refused, how: howPrivileged},
	{nr: unix.SYS_GETTID, filter: passAll, why: "the kernel answers in the caller's pid namespace, the sandbox's own, where the workload's pids are the sandbox's pids (the first process is 1; its parent, outside, is 0)", support: passed},
	{nr: unix.SYS_READAHEAD, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_SETXATTR, handler: (*sentry).sysXattr, support: emulated, how: howXattr},
	{nr: unix.SYS_LSETXATTR, handler: (*sentry).sysXattr, support: emulated, how: howXattr},
	{nr: unix.SYS_FSETXATTR, handler: (*sentry).sysXattr, support: emulated, how: howXattr},
	{nr: unix.SYS_GETXATTR, handler: (*sentry).sysXattr, support: emulated, how: howXattr},
	{nr: unix.SYS_LGETXATTR, handler: (*sentry).sysXattr, support: emulated, how: howXattr},
	{nr: unix.SYS_FGETXATTR, handler: (*sentry).sysXattr, support: emulated, how: howXattr},
	{nr: unix.SYS_LISTXATTR, handler: (*sentry).sysXattr, support: emulated, how: howXattr},
	{nr: unix.SYS_LLISTXATTR, handler: (*sentry).sysXattr, support: emulated, how: howXattr},
	{nr: unix.SYS_FLISTXATTR, handler: (*sentry).sysXattr, support: emulated, how: howXattr},
	{nr: unix.SYS_REMOVEXATTR, handler: (*sentry).sysXattr, support: emulated, how: howXattr},
	{nr: unix.SYS_LREMOVEXATTR, handler: (*sentry).sysXattr, support: emulated, how: howXattr},
	{nr: unix.SYS_FREMOVEXATTR, handler: (*sentry).sysXattr, support: emulated, how: howXattr},
	{nr: unix.SYS_TKILL, filter: passAll, why: "pids resolve in the caller's pid namespace, the sandbox's own, which holds only workload processes (the Sentry is in its parent); the kernel spares the sandbox's pid 1 the signals it does not handle", support: passed},
	{nr: unix.SYS_TIME, filter: passAll, why: "name nothing", support: passed},
	{nr: unix.SYS_FUTEX, filter: passAll, why: "threads of the caller", support: passed},
	{nr: unix.SYS_SCHED_SETAFFINITY, filter: rulesOf(allow(arg(0, eq, 0))), checks: "pid == 0", why: "others are checked by the Sentry", handler: (*sentry).sysSchedSetaffinity, support: emulated, how: "the Sentry's call on the host tid of the sandbox thread; pid 0 passes (`sched_get/setaffinity` by the filter, the others checked, passed)"},
	{nr: unix.SYS_SCHED_GETAFFINITY, filter: rulesOf(allow(arg(0, eq, 0))), checks: "pid == 0", why: "others are checked by the Sentry", handler: (*sentry).sysSchedGetaffinity, support: emulated, how: "the Sentry's call on the host tid of the sandbox thread; pid 0 passes (`sched_get/setaffinity` by the filter, the others checked, passed)"},
	{nr: unix.SYS_IO_SETUP, filter: passAll, why: whyAIO, support: passed},
	{nr: unix.SYS_IO_DESTROY, filter: passAll, why: whyAIO, support: passed},
	{nr: unix.SYS_IO_GETEVENTS, filter: passAll, why: whyAIO, support: passed},
	{nr: unix.SYS_IO_SUBMIT, filter: passAll, why: whyAIO, support: passed},
	{nr: unix.SYS_IO_CANCEL, filter: passAll, why: whyAIO, support: passed},
	{nr: unix.SYS_LOOKUP_DCOOKIE, filter: passAll, why: whyCapFirst, support: passed},
	{nr: unix.SYS_EPOLL_CREATE, filter: passAll, why: "name nothing (a memfd's name is a label); the new descriptors are the kernel's (threat model)", support: passed},
	{nr: unix.SYS_GETDENTS64, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_SET_TID_ADDRESS, filter: passAll, why: "threads of the caller", support: passed},
	{nr: unix.SYS_RESTART_SYSCALL, filter: passAll, why: "the caller's own signal state", support: passed},
	{nr: unix.SYS_SEMTIMEDOP, filter: passAll, why: "keys and queue names live in the container's IPC namespace, which holds the workload's objects only (the Sentry has none); owners read through `*ctl(IPC_STAT)` show as the overflow user (65534), `/proc/sysvipc` as the container sees them", support: passed},
	{nr: unix.SYS_FADVISE64, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_TIMER_CREATE, filter: passAll, why: "the caller's own timers; a thread to signal must be in its thread group", support: passed},
	{nr: unix.SYS_TIMER_SETTIME, filter: passAll, why: "the caller's own timers; a thread to signal must be in its thread group", support: passed},
	{nr: unix.SYS_TIMER_GETTIME, filter: passAll, why: "the caller's own timers; a thread to signal must be in its thread group", support: passed},
	{nr: unix.SYS_TIMER_GETOVERRUN, filter: passAll, why: "the caller's own timers; a thread to signal must be in its thread group", support: passed},
	{nr: unix.SYS_TIMER_DELETE, filter: passAll, why: "the caller's own timers; a thread to signal must be in its thread group", support: passed},
	{nr: unix.SYS_CLOCK_SETTIME, filter: passAll, why: whyClockSet, support: passed},
	{nr: unix.SYS_CLOCK_GETTIME, filter: passAll, why: "name nothing", support: passed},
	{nr: unix.SYS_CLOCK_GETRES, filter: passAll, why: "name nothing", support: passed},
	{nr: unix.SYS_CLOCK_NANOSLEEP, filter: passAll, why: "name nothing", support: passed},
	{nr: unix.SYS_EXIT_GROUP, filter: passAll, why: "ends the caller", support: passed},
	{nr: unix.SYS_EPOLL_WAIT, filter: passAll, why: "name nothing (a memfd's name is a label); the new descriptors are the kernel's (threat model)", support: passed},
	{nr: unix.SYS_EPOLL_CTL, filter: passAll, why: "name nothing (a memfd's name is a label); the new descriptors are the kernel's (threat model)", support: passed},
	{nr: unix.SYS_TGKILL, filter: passAll, why: "pids resolve in the caller's pid namespace, the sandbox's own, which holds only workload processes (the Sentry is in its parent); the kernel spares the sandbox's pid 1 the signals it does not handle", support: passed},
	{nr: unix.SYS_MBIND, handler: (*sentry).sysContinue, support: checked, how: "name nothing"},
	{nr: unix.SYS_SET_MEMPOLICY, handler: (*sentry).sysContinue, support: checked, how: "name nothing"},
	{nr: unix.SYS_GET_MEMPOLICY, handler: (*sentry).sysContinue, support: checked, how: "name nothing"},
	{nr: unix.SYS_MQ_OPEN, filter: passAll, why: "keys and queue names live in the container's IPC namespace, which holds the workload's objects only (the Sentry has none); owners read through `*ctl(IPC_STAT)` show as the overflow user (65534), `/proc/sysvipc` as the container sees them", support: passed},
	{nr: unix.SYS_MQ_UNLINK, filter: passAll, why: "keys and queue names live in the container's IPC namespace, which holds the workload's objects only (the Sentry has none); owners read through `*ctl(IPC_STAT)` show as the overflow user (65534), `/proc/sysvipc` as the container sees them", support: passed},
	{nr: unix.SYS_MQ_TIMEDSEND, filter: passAll, why: "keys and queue names live in the container's IPC namespace, which holds the workload's objects only (the Sentry has none); owners read through `*ctl(IPC_STAT)` show as the overflow user (65534), `/proc/sysvipc` as the container sees them", support: passed},
	{nr: unix.SYS_MQ_TIMEDRECEIVE, filter: passAll, why: "keys and queue names live in the container's IPC namespace, which holds the workload's objects only (the Sentry has none); owners read through `*ctl(IPC_STAT)` show as the overflow user (65534), `/proc/sysvipc` as the container sees them", support: passed},
	{nr: unix.SYS_MQ_NOTIFY, filter: passAll, why: "keys and queue names live in the container's IPC namespace, which holds the workload's objects only (the Sentry has none); owners read through `*ctl(IPC_STAT)` show as the overflow user (65534), `/proc/sysvipc` as the container sees them", support: passed},
	{nr: unix.SYS_MQ_GETSETATTR, filter: passAll, why: "keys and queue names live in the container's IPC namespace, which holds the workload's objects only (the Sentry has none); owners read through `*ctl(IPC_STAT)` show as the overflow user (65534), `/proc/sysvipc` as the container sees them", support: passed},
	{nr: unix.SYS_KEXEC_LOAD, filter: passAll, why: whyCapFirst, support: passed},
	{nr: unix.SYS_WAITID, handler: (*sentry).sysWaitid, support: checked, how: "a pid must be a child of the caller, a group must exist; `P_PIDFD` passes (the kernel waits only for children)"},
	{nr: unix.SYS_IOPRIO_SET, handler: (*sentry).sysIoprio, support: emulated, how: "who ≠ 0: on the host's pid or group; 0 passes; a user's processes `EINVAL`"},
	{nr: unix.SYS_IOPRIO_GET, handler: (*sentry).sysIoprio, support: emulated, how: "who ≠ 0: on the host's pid or group; 0 passes; a user's processes `EINVAL`"},
	{nr: unix.SYS_INOTIFY_INIT, filter: passAll, why: "new descriptors, watches by number (adding one names a path: the Sentry's)", support: passed},
	{nr: unix.SYS_INOTIFY_ADD_WATCH, handler: (*sentry).sysInotifyAddWatch, support: emulated, how: "resolved by the Sentry (`IN_DONT_FOLLOW` honoured), added on its copy of the caller's inotify descriptor through the resolved file's `/proc/self/fd` link; the Sentry's `/proc` files `EACCES`"},
	{nr: unix.SYS_INOTIFY_RM_WATCH, filter: passAll, why: "new descriptors, watches by number (adding one names a path: the Sentry's)", support: passed},
	{nr: unix.SYS_OPENAT, handler: (*sentry).sysOpenat, flags: quick, support: emulated, how: "resolved by the Sentry, opened by it on the listener's thread (a FIFO, a device other than the memory ones, a socket or a leased file on a goroutine, as it may wait), handed over with `ADDFD`, answered once its own copy is closed; `O_PATH` gets a read-only descriptor (of a symlink, an empty memfd that calls with an empty path, `fstatat` `readlinkat` `fchownat`, take for the link)"},
	{nr: unix.SYS_MKDIRAT, handler: (*sentry).sysMkdirat, support: emulated, how: "on a resolved parent and one name"},
	{nr: unix.SYS_MKNODAT, handler: (*sentry).sysMknodat, support: emulated, how: "on a resolved parent and one name"},
	{nr: unix.SYS_FCHOWNAT, handler: (*sentry).sysFchownat, support: emulated, how: "on the resolved inode"},
	{nr: unix.SYS_NEWFSTATAT, handler: (*sentry).sysNewfstatat, flags: quick, support: emulated, how: "resolved, then `fstatat`/`statx`/`fstatfs` on the Sentry's descriptor; an empty path with `AT_EMPTY_PATH` is the caller's descriptor"},
	{nr: unix.SYS_UNLINKAT, handler: (*sentry).sysUnlinkat, support: emulated, how: "on a resolved parent and one name"},
	{nr: unix.SYS_RENAMEAT, handler: (*sentry).sysRenameat, support: emulated, how: "on a resolved parent and one name"},
	{nr: unix.SYS_LINKAT, handler: (*sentry).sysLinkat, support: emulated, how: "on a resolved parent and one name"},
	{nr: unix.SYS_SYMLINKAT, handler: (*sentry).sysSymlinkat, support: emulated, how: "on a resolved parent and one name"},
	{nr: unix.SYS_READLINKAT, handler: (*sentry).sysReadlinkat, flags: quick, support: emulated, how: ""},
	{nr: unix.SYS_FCHMODAT, handler: (*sentry).sysFchmodat, support: emulated, how: "on the resolved inode"},
	{nr: unix.SYS_FACCESSAT, handler: (*sentry).sysFaccessat, flags: quick, support: emulated, how: "`faccessat2(AT_EMPTY_PATH)` on the resolved file"},
	{nr: unix.SYS_PSELECT6, filter: passAll, why: "name nothing (a memfd's name is a label); the new descriptors are the kernel's (threat model)", support: passed},
	{nr: unix.SYS_PPOLL, filter: passAll, why: "name nothing (a memfd's name is a label); the new descriptors are the kernel's (threat model)", support: passed},
	{nr: unix.SYS_UNSHARE, handler: (*sentry).sysUnshare, support: emulated, how: "0 succeeds, anything else `EPERM`"},
	{nr: unix.SYS_SET_ROBUST_LIST, filter: passAll, why: "threads of the caller", support: passed},
	{nr: unix.SYS_SPLICE, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_TEE, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_SYNC_FILE_RANGE, filter: passAll, why: "descriptors only", support: passed},
	{nr: unix.SYS_VMSPLICE, filter: passAll, why: "descriptors only (a pipe the caller holds) and the caller's memory", support: passed},
	{nr: unix.SYS_UTIMENSAT, handler: (*sentry).sysUtimensat, support: emulated, how: "on the resolved inode"},
	{nr: unix.SYS_EPOLL_PWAIT, filter: passAll, why: "name nothing (a memfd's name is a label); the new descriptors are the kernel's (threat model)", support: passed},
	{nr: unix.SYS_SIGNALFD, filter: passAll, why: "name nothing (a memfd's name is a label); the new descriptors are the kernel's (threat model)", support: passed},
	{nr: unix.SYS_TIMERFD_CREATE, filter: passAll, why: "name nothing (a memfd's name is a label); the new descriptors are the kernel's (threat model)", support: passed},
	{nr: unix.SYS_EVENTFD, filter: passAll, why: "name nothing (a memfd's name is a label); the new descriptors are the kernel's (threat model)", support: passed},
	{nr: unix.SYS_FALLOCATE, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_TIMERFD_SETTIME, filter: passAll, why: "name nothing (a memfd's name is a label); the new descriptors are the kernel's (threat model)", support: passed},
	{nr: unix.SYS_TIMERFD_GETTIME, filter: passAll, why: "name nothing (a memfd's name is a label); the new descriptors are the kernel's (threat model)", support: passed},
	{nr: unix.SYS_ACCEPT4, filter: rulesOf(allow(wide(1, eq, 0))), checks: "address pointer == NULL", why: "on sockets the Sentry made; no address to report", handler: (*sentry).sysAccept4, flags: mayBlock, support: emulated, how: "with an address asked for, on a unix socket, while the Sentry has bound a unix name: the Sentry waits until the socket is ready, receives on its copy without waiting, reports a peer's name as the program bound it and passes `SCM_RIGHTS` descriptors with `ADDFD` (`SCM_CREDENTIALS` with the sandbox's pid); any other call is the kernel's as made; the socket accepted is handed over with `ADDFD`"},
	{nr: unix.SYS_SIGNALFD4, filter: passAll, why: "name nothing (a memfd's name is a label); the new descriptors are the kernel's (threat model)", support: passed},
	{nr: unix.SYS_EVENTFD2, filter: passAll, why: "name nothing (a memfd's name is a label); the new descriptors are the kernel's (threat model)", support: passed},
	{nr: unix.SYS_EPOLL_CREATE1, filter: passAll, why: "name nothing (a memfd's name is a label); the new descriptors are the kernel's (threat model)", support: passed},
	{nr: unix.SYS_DUP3, filter: func(f fds) []seccompbpf.Rule { return notReserved(f, 0, 1) }, checks: "no descriptor number a reserved one", why: "the kernel numbers the new descriptors (threat model); in the filter so that no signal fails them with `EINTR` while the Sentry would serve them", handler: (*sentry).sysDup3, support: emulated, how: "when the filter sent them (a reserved descriptor): `EBADF`"},
	{nr: unix.SYS_PIPE2, filter: rulesOf(allow(arg(1, noBits, ^uint64(unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_DIRECT)&0xffffffff))), checks: "flags among `O_CLOEXEC` `O_NONBLOCK` `O_DIRECT`", why: "others (`O_NOTIFICATION_PIPE`) go to the Sentry", handler: (*sentry).sysPipe2, support: emulated, how: "when the filter sent it (other flags than `O_CLOEXEC` `O_NONBLOCK` `O_DIRECT`): `EINVAL`"},
	{nr: unix.SYS_INOTIFY_INIT1, filter: passAll, why: "new descriptors, watches by number (adding one names a path: the Sentry's)", support: passed},
	{nr: unix.SYS_PREADV, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_PWRITEV, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_RT_TGSIGQUEUEINFO, filter: passAll, why: whySigqueue, support: passed},
	{nr: unix.SYS_RECVMMSG, filter: passAll, why: "on sockets the Sentry made; addresses are outputs", support: passed},
	{nr: unix.SYS_FANOTIFY_INIT, handler: (*sentry).sysRefused, support: refused, how: howPrivileged},
	{nr: unix.SYS_PRLIMIT64, handler: (*sentry).sysPrlimit64, support: emulated, how: "`RLIMIT_NOFILE`: each process's own, kept by the Sentry (see The two reserved descriptors); other limits of another process: the Sentry's call on its host pid; the caller's own other limits pass"},
	{nr: unix.SYS_OPEN_BY_HANDLE_AT, handler: (*sentry).sysRefused, support: refused, how: howPrivileged},
	{nr: unix.SYS_CLOCK_ADJTIME, filter: passAll, why: whyClockAdjust, support: passed},
	{nr: unix.SYS_SYNCFS, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_SENDMMSG, handler: (*sentry).sysSendmmsg, flags: mayBlock, support: emulated, how: "the Sentry reads the data (up to 1 MiB a message), resolves the address and translates `SCM_RIGHTS` descriptors (`SCM_CREDENTIALS` `EINVAL`); it sends without waiting and waits for the socket in between, so a signal ends a blocking send having sent nothing, or with what it sent (a stream's bytes, earlier messages); `EPIPE` raises the caller's `SIGPIPE` unless `MSG_NOSIGNAL`"},
	{nr: unix.SYS_SETNS, handler: (*sentry).sysRefused, support: refused, how: "`EPERM`"},
	{nr: unix.SYS_GETCPU, filter: passAll, why: "threads of the caller", support: passed},
	{nr: unix.SYS_FINIT_MODULE, filter: passAll, why: whyCapFirst, support: passed},
	{nr: unix.SYS_SCHED_SETATTR, handler: (*sentry).sysSchedSetattr, support: emulated, how: "the Sentry's call on the host tid of the sandbox thread; pid 0 passes (`sched_get/setaffinity` by the filter, the others checked, passed)"},
	{nr: unix.SYS_SCHED_GETATTR, handler: (*sentry).sysSchedGetattr, support: emulated, how: "the Sentry's call on the host tid of the sandbox thread; pid 0 passes (`sched_get/setaffinity` by the filter, the others checked, passed)"},
	{nr: unix.SYS_RENAMEAT2, handler: (*sentry).sysRenameat2, support: emulated, how: "on a resolved parent and one name"},
	{nr: unix.SYS_SECCOMP, handler: (*sentry).sysSeccomp, support: checked, how: "not with `SECCOMP_FILTER_FLAG_NEW_LISTENER` (`EPERM`)"},
	{nr: unix.SYS_GETRANDOM, filter: passAll, why: "name nothing", support: passed},
	{nr: unix.SYS_MEMFD_CREATE, filter: passAll, why: "name nothing (a memfd's name is a label); the new descriptors are the kernel's (threat model)", support: passed},
	{nr: unix.SYS_KEXEC_FILE_LOAD, filter: passAll, why: whyCapFirst, support: passed},
	{nr: unix.SYS_EXECVEAT, filter: func(f fds) []seccompbpf.Rule {
		return rules(allow(arg(0, eq, uint64(f.exec)), arg(4, eq, unix.AT_EMPTY_PATH)))
	}, checks: "fd == execFD and flags == `AT_EMPTY_PATH` exactly", why: "the exec the Sentry set up (see exec)", handler: (*sentry).sysExecveat, support: emulated, how: "see exec"},
	{nr: unix.SYS_MEMBARRIER, filter: passAll, why: "memory management of the caller", support: passed},
	{nr: unix.SYS_MLOCK2, filter: passAll, why: "memory management of the caller", support: passed},
	{nr: unix.SYS_COPY_FILE_RANGE, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_PREADV2, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_PWRITEV2, filter: passAll, why: "descriptors only; every descriptor the workload holds comes from the Sentry or from a call on one", support: passed},
	{nr: unix.SYS_PKEY_MPROTECT, filter: passAll, why: "the caller's own memory", support: passed},
	{nr: unix.SYS_PKEY_ALLOC, filter: passAll, why: "the caller's own memory", support: passed},
	{nr: unix.SYS_PKEY_FREE, filter: passAll, why: "the caller's own memory", support: passed},
	{nr: unix.SYS_STATX, handler: (*sentry).sysStatx, flags: quick, support: emulated, how: "resolved, then `fstatat`/`statx`/`fstatfs` on the Sentry's descriptor; an empty path with `AT_EMPTY_PATH` is the caller's descriptor"},
	{nr: unix.SYS_IO_PGETEVENTS, filter: passAll, why: whyAIO, support: passed},
	{nr: unix.SYS_RSEQ, filter: passAll, why: "threads of the caller", support: passed},
	{nr: unix.SYS_PIDFD_SEND_SIGNAL, filter: passAll, why: "through a pidfd, which the workload gets from the Sentry (`pidfd_open`) or from `clone`; the kernel refuses a target outside the caller's pid namespace, the sandbox's own", support: passed},
	{nr: unix.SYS_PIDFD_OPEN, handler: (*sentry).sysPidfdOpen, flags: quick, support: emulated, how: "on the host pid of the sandbox process (or thread, `PIDFD_THREAD`), handed over with `ADDFD`; `waitid(P_PIDFD)` and `pidfd_send_signal` then pass"},
	{nr: unix.SYS_CLONE3, filter: rulesOf(answer(unix.ENOSYS)), checks: "refused with `ENOSYS`", why: "its flags are in memory, where the Sentry could not check them without a race; libc falls back to `clone`", support: refused},
	{nr: unix.SYS_CLOSE_RANGE, handler: (*sentry).sysCloseRange, support: checked, how: "when it spares the reserved descriptors; `ENOSYS` when it would reach them: libc falls back to closing one by one"},
	{nr: unix.SYS_OPENAT2, handler: (*sentry).sysOpenat2, flags: quick, support: emulated, how: "without `RESOLVE_*` flags; with them `ENOSYS`"},
	{nr: unix.SYS_FACCESSAT2, handler: (*sentry).sysFaccessat2, flags: quick, support: emulated, how: "`faccessat2(AT_EMPTY_PATH)` on the resolved file"},
	{nr: unix.SYS_EPOLL_PWAIT2, filter: passAll, why: "name nothing (a memfd's name is a label); the new descriptors are the kernel's (threat model)", support: passed},
	{nr: unix.SYS_QUOTACTL_FD, handler: (*sentry).sysRefused, support: refused, how: howPrivileged},
	{nr: unix.SYS_FUTEX_WAITV, filter: passAll, why: "threads of the caller", support: passed},
	{nr: unix.SYS_FCHMODAT2, handler: (*sentry).sysFchmodat2, support: emulated, how: "on the resolved inode"},
	{nr: unix.SYS_FUTEX_WAKE, filter: passAll, why: "threads of the caller", support: passed},
	{nr: unix.SYS_FUTEX_WAIT, filter: passAll, why: "threads of the caller", support: passed},
	{nr: unix.SYS_FUTEX_REQUEUE, filter: passAll, why: "threads of the caller", support: passed},
}

// rowOf indexes syscallTable by number.
var rowOf = func() map[int]*syscallRow {
	m := make(map[int]*syscallRow, len(syscallTable))
	for i := range syscallTable {
		m[syscallTable[i].nr] = &syscallTable[i]
	}
	return m
}()

// flagsOf are the rows' flags by number, for the notification loop.
var flagsOf = func() (f [512]callFlags) {
	for _, r := range syscallTable {
		f[r.nr] = r.flags
	}
	return f
}()

func callFlagsOf(nr int) callFlags {
	if nr < 0 || nr >= len(flagsOf) {
		return 0
	}
	return flagsOf[nr]
}

// dispatch serves a notification.
func (s *sentry) dispatch(t *task) result {
	nr := t.nr()
	row := rowOf[nr]
	if row == nil || row.handler == nil {
		name := sysName(nr)
		s.logOnce("nosys-"+name, "unsupported system call %s (%d): returning ENOSYS", name, nr)
		return fail(unix.ENOSYS)
	}
	r := s.asCaller(t, func() result { return row.handler(s, t) })
	if s.opts.debug {
		switch r.kind {
		case kindContinue:
			s.debugf("[%d] %s(%#x, %#x, %#x): passed to the host", t.tid, sysName(nr), t.arg(0), t.arg(1), t.arg(2))
		case kindReply:
			s.debugf("[%d] %s(%#x, %#x, %#x) = %d %v", t.tid, sysName(nr), t.arg(0), t.arg(1), t.arg(2), r.val, r.errno)
		}
	}
	return r
}

// sysName names a system call for the log.
func sysName(nr int) string {
	if n, ok := sysNames[nr]; ok {
		return n
	}
	return "syscall_" + strconv.Itoa(nr)
}
