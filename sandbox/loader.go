package sandbox

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// loader is everything a workload process needs between the fork and its
// first exec, prepared by the Sentry: after the fork the child may only make
// raw system calls (the Go runtime does not exist in it).
type loader struct {
	// Descriptors moved into place in the child: src to dst. The exec file
	// is close-on-exec, the working directory is not.
	cwdSrc, cwdDst   int32
	execSrc, execDst int32
	syncSrc, syncDst int32
	stdio            [3]int32 // placed at 0, 1 and 2 (-1: the Sentry's own)
	keep             []int32  // sorted descriptors that survive; all others are closed
	ctty             bool     // stdin is a terminal no session holds: make it the controlling one
	// join: instead of making new user and pid namespaces the child enters
	// the workload's (an exec), then forks the workload process as a child
	// of the Sentry (CLONE_PARENT), writes its pid on pidPipe and exits.
	join          bool
	userNS, pidNS int32
	pidPipe       int32
	childPid      int32
	void          *byte // the empty root directory
	slash         *byte // "/"
	empty         *byte // ""
	nofile        unix.Rlimit
	umask         uintptr
	prog          unix.SockFprog
	profile       unix.SockFprog // the OCI profile's program (Len 0: none)
	profileFlags  uintptr
	argv, envp    []*byte
	failMsg       []byte
	listener      int32 // written by the child, sent to the parent
	ack           [1]byte
}

// cloneFlags give the workload its own user namespace (in which it holds
// no capability once it has exec'ed, its uid being mapped to nothing) and
// its own pid namespace, in which it is pid 1 and pids are the sandbox's.
const cloneFlags = unix.CLONE_NEWUSER | unix.CLONE_NEWPID | uintptr(unix.SIGCHLD)

// joinFlags fork a process that enters them.
const joinFlags = uintptr(unix.SIGCHLD)

// start forks the workload's first process and returns its pid. The caller
// runs on the locked thread that later waits for it (the parent-death signal
// is tied to the thread).
func (l *loader) start() (int, error) {
	var all, old [2]uint32
	all[0], all[1] = ^uint32(0), ^uint32(0)
	if _, _, e := syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK,
		uintptr(unsafe.Pointer(&all)), uintptr(unsafe.Pointer(&old)), 8, 0, 0); e != 0 {
		return 0, e
	}
	pid, errno := forkLoader(l)
	syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&old)), 0, 8, 0, 0)
	runtime.KeepAlive(l)
	if errno != 0 {
		return 0, fmt.Errorf("clone: %w", errno)
	}
	return pid, nil
}

// forkLoader clones the Sentry; the child becomes the workload and never returns.
//
//go:nosplit
//go:norace
//go:nocheckptr
func forkLoader(l *loader) (int, syscall.Errno) {
	flags := cloneFlags
	if l.join {
		flags = joinFlags
	}
	pid, _, e := syscall.RawSyscall6(unix.SYS_CLONE, flags, 0, 0, 0, 0, 0)
	if e != 0 || pid != 0 {
		return int(pid), e
	}
	if l.join {
		joinWorkload(l)
	}
	// Default dispositions for every signal: Go's handlers are not there.
	var dfl [4]uintptr
	for sig := uintptr(1); sig <= 64; sig++ {
		syscall.RawSyscall6(unix.SYS_RT_SIGACTION, sig, uintptr(unsafe.Pointer(&dfl)), 0, 8, 0, 0)
	}
	syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0, 0)
	// The Sentry's identity switches (creds.go) make its memory, and so
	// this copy, undumpable; the Sentry must reach this child with pidfd_getfd.
	syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_DUMPABLE, 1, 0, 0, 0, 0)
	if !childSetup(l) {
		childFail(l)
	}
	syscall.RawSyscall6(unix.SYS_EXECVEAT, uintptr(l.execDst), uintptr(unsafe.Pointer(l.empty)),
		uintptr(unsafe.Pointer(&l.argv[0])), uintptr(unsafe.Pointer(&l.envp[0])), unix.AT_EMPTY_PATH, 0)
	childFail(l)
	return 0, 0
}

// joinWorkload enters the workload's namespaces and forks the process that
// lives in them, as the Sentry's child; only that one returns.
//
//go:nosplit
//go:norace
//go:nocheckptr
func joinWorkload(l *loader) {
	if _, _, e := syscall.RawSyscall6(unix.SYS_SETNS, uintptr(l.userNS), unix.CLONE_NEWUSER, 0, 0, 0, 0); e != 0 {
		childFail(l)
	}
	if _, _, e := syscall.RawSyscall6(unix.SYS_SETNS, uintptr(l.pidNS), unix.CLONE_NEWPID, 0, 0, 0, 0); e != 0 {
		childFail(l)
	}
	pid, _, e := syscall.RawSyscall6(unix.SYS_CLONE, unix.CLONE_PARENT|uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
	if e != 0 {
		childFail(l)
	}
	if pid != 0 {
		l.childPid = int32(pid)
		syscall.RawSyscall6(unix.SYS_WRITE, uintptr(l.pidPipe), uintptr(unsafe.Pointer(&l.childPid)), 4, 0, 0, 0)
		syscall.RawSyscall6(unix.SYS_EXIT_GROUP, 0, 0, 0, 0, 0, 0)
	}
	syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0, 0)
}

// childSetup places the descriptors, makes a session, enters the empty
// root, sets the limits and installs the filter, then hands the listener to
// the Sentry.
//
//go:nosplit
//go:norace
//go:nocheckptr
func childSetup(l *loader) bool {
	for i := 0; i < 3; i++ {
		if src := l.stdio[i]; src >= 0 && int(src) != i {
			if _, _, e := syscall.RawSyscall6(unix.SYS_DUP3, uintptr(src), uintptr(i), 0, 0, 0, 0); e != 0 {
				return false
			}
		}
	}
	if _, _, e := syscall.RawSyscall6(unix.SYS_DUP3, uintptr(l.cwdSrc), uintptr(l.cwdDst), 0, 0, 0, 0); e != 0 {
		return false
	}
	// Not close-on-exec: execFD stays taken after the exec (reserved).
	if _, _, e := syscall.RawSyscall6(unix.SYS_DUP3, uintptr(l.execSrc), uintptr(l.execDst), 0, 0, 0, 0); e != 0 {
		return false
	}
	if _, _, e := syscall.RawSyscall6(unix.SYS_DUP3, uintptr(l.syncSrc), uintptr(l.syncDst), 0, 0, 0, 0); e != 0 {
		return false
	}
	lo := uintptr(0)
	for i := 0; i < len(l.keep); i++ {
		fd := uintptr(l.keep[i])
		if fd > lo {
			syscall.RawSyscall6(unix.SYS_CLOSE_RANGE, lo, fd-1, 0, 0, 0, 0)
		}
		lo = fd + 1
	}
	syscall.RawSyscall6(unix.SYS_CLOSE_RANGE, lo, ^uintptr(0)>>32, 0, 0, 0, 0)
	// A session of its own, as runc's processes (and the terminal's, when
	// it has one).
	syscall.RawSyscall6(unix.SYS_SETSID, 0, 0, 0, 0, 0, 0)
	if l.ctty {
		syscall.RawSyscall6(unix.SYS_IOCTL, 0, unix.TIOCSCTTY, 0, 0, 0, 0)
	}
	if _, _, e := syscall.RawSyscall6(unix.SYS_CHROOT, uintptr(unsafe.Pointer(l.void)), 0, 0, 0, 0, 0); e != 0 {
		return false
	}
	if _, _, e := syscall.RawSyscall6(unix.SYS_CHDIR, uintptr(unsafe.Pointer(l.slash)), 0, 0, 0, 0, 0); e != 0 {
		return false
	}
	if _, _, e := syscall.RawSyscall6(unix.SYS_PRLIMIT64, 0, unix.RLIMIT_NOFILE, uintptr(unsafe.Pointer(&l.nofile)), 0, 0, 0); e != 0 {
		return false
	}
	syscall.RawSyscall6(unix.SYS_UMASK, l.umask, 0, 0, 0, 0, 0)
	var none [2]uint32
	syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&none)), 0, 8, 0, 0)
	if _, _, e := syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0); e != 0 {
		return false
	}
	// The container's profile first: it must allow seccomp, read, write,
	// close and execveat, as any profile must let runc's exec through.
	// Installed first or second, its ERRNO, TRAP and KILL take precedence
	// over the Sentry's notifications.
	if l.profile.Len > 0 {
		if _, _, e := syscall.RawSyscall6(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
			l.profileFlags, uintptr(unsafe.Pointer(&l.profile)), 0, 0, 0); e != 0 {
			return false
		}
	}
	// Once the Sentry has received a call, only a fatal signal ends the
	// wait (Linux 5.19): a call it has carried out is never also failed
	// with EINTR, or restarted and carried out twice. Older kernels lack
	// the flag (EINVAL) and get the interruptible wait.
	fd, _, e := syscall.RawSyscall6(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_NEW_LISTENER|seccompFilterFlagWaitKillableRecv, uintptr(unsafe.Pointer(&l.prog)), 0, 0, 0)
	if e == unix.EINVAL {
		fd, _, e = syscall.RawSyscall6(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
			unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, uintptr(unsafe.Pointer(&l.prog)), 0, 0, 0)
	}
	if e != 0 {
		return false
	}
	// From here on the filter applies: read, write and close are allowed.
	l.listener = int32(fd)
	if n, _, _ := syscall.RawSyscall6(unix.SYS_WRITE, uintptr(l.syncDst), uintptr(unsafe.Pointer(&l.listener)), 4, 0, 0, 0); n != 4 {
		return false
	}
	if n, _, _ := syscall.RawSyscall6(unix.SYS_READ, uintptr(l.syncDst), uintptr(unsafe.Pointer(&l.ack[0])), 1, 0, 0, 0); n != 1 {
		return false
	}
	syscall.RawSyscall6(unix.SYS_CLOSE, fd, 0, 0, 0, 0, 0)
	syscall.RawSyscall6(unix.SYS_CLOSE, uintptr(l.syncDst), 0, 0, 0, 0, 0)
	return true
}

//go:nosplit
func childFail(l *loader) {
	if len(l.failMsg) > 0 {
		syscall.RawSyscall6(unix.SYS_WRITE, 2, uintptr(unsafe.Pointer(&l.failMsg[0])), uintptr(len(l.failMsg)), 0, 0, 0)
	}
	syscall.RawSyscall6(unix.SYS_EXIT_GROUP, 127, 0, 0, 0, 0, 0)
}

// seccompFilterFlagWaitKillableRecv is SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV.
const seccompFilterFlagWaitKillableRecv = 1 << 5

// handshake receives the listener from the child over the socket pair and
// lets the child go on to its exec. It returns the listener, now the Sentry's.
func handshake(pid, sock int, ready func()) (int, error) {
	var b [4]byte
	if _, err := io.ReadFull(fdReader(sock), b[:]); err != nil {
		return -1, errors.New("the workload's process failed before it installed its filter")
	}
	num := int(*(*int32)(unsafe.Pointer(&b[0])))
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return -1, fmt.Errorf("pidfd_open: %w", err)
	}
	defer unix.Close(pidfd)
	listener, err := unix.PidfdGetfd(pidfd, num, 0)
	if err != nil {
		return -1, fmt.Errorf("pidfd_getfd of the listener: %w", err)
	}
	unix.CloseOnExec(listener)
	ready()
	if _, err := unix.Write(sock, []byte{1}); err != nil {
		unix.Close(listener)
		return -1, fmt.Errorf("releasing the workload: %w", err)
	}
	return listener, nil
}

// cstr is a NUL-terminated copy of s.
func cstr(s string) *byte {
	b := make([]byte, len(s)+1)
	copy(b, s)
	return &b[0]
}

// cstrs is a NULL-terminated array of NUL-terminated strings.
func cstrs(ss []string) []*byte {
	out := make([]*byte, len(ss)+1)
	for i, s := range ss {
		out[i] = cstr(s)
	}
	return out
}
