package unikernel

import (
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// jumpGuest sets the guest's stack and argument and jumps to its entry.
func jumpGuest(sp, arg, entry uintptr)

// launch is everything the child needs, prepared by the parent: after the
// fork the child may only make raw syscalls (section 10: it is the only
// thread of its address space, and no Go runtime code may run on it).
type launch struct {
	parent  int
	keep    []int32 // sorted fds to keep open; all others are closed
	prog    unix.SockFprog
	sp      uintptr
	arg     uintptr
	entry   uintptr
	failMsg []byte
}

// start forks the guest process and returns its pid.
func (l *launch) start() (int, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// With every signal blocked no Go handler can run in the child before it
	// resets the dispositions.
	var all, old [2]uint32
	all[0], all[1] = ^uint32(0), ^uint32(0)
	if _, _, e := syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK,
		uintptr(unsafe.Pointer(&all)), uintptr(unsafe.Pointer(&old)), 8, 0, 0); e != 0 {
		return 0, e
	}
	l.parent = syscall.Getpid()
	pid, errno := forkGuest(l)
	syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&old)), 0, 8, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return pid, nil
}

// forkGuest clones the process; the child becomes the guest and never returns.
//
//go:nosplit
//go:norace
//go:nocheckptr
func forkGuest(l *launch) (int, syscall.Errno) {
	pid, _, e := syscall.RawSyscall6(unix.SYS_CLONE, uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
	if e != 0 || pid != 0 {
		return int(pid), e
	}
	// Child. Default dispositions for every signal, then nothing blocked: a
	// fatal signal must kill the guest, as it kills upstream's tender.
	var dfl [4]uintptr // struct kernel_sigaction with SIG_DFL
	for sig := uintptr(1); sig <= 64; sig++ {
		syscall.RawSyscall6(unix.SYS_RT_SIGACTION, sig, uintptr(unsafe.Pointer(&dfl)), 0, 8, 0, 0)
	}
	// Keep only the fds the guest uses.
	lo := uintptr(0)
	for i := 0; i < len(l.keep); i++ {
		fd := uintptr(l.keep[i])
		if fd > lo {
			syscall.RawSyscall6(unix.SYS_CLOSE_RANGE, lo, fd-1, 0, 0, 0, 0)
		}
		lo = fd + 1
	}
	syscall.RawSyscall6(unix.SYS_CLOSE_RANGE, lo, ^uintptr(0)>>32, 0, 0, 0, 0)
	// The guest dies with its tender, whatever kills the tender.
	syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0, 0)
	if ppid, _, _ := syscall.RawSyscall6(unix.SYS_GETPPID, 0, 0, 0, 0, 0, 0); int(ppid) != l.parent {
		syscall.RawSyscall6(unix.SYS_EXIT_GROUP, 1, 0, 0, 0, 0, 0)
	}
	var none [2]uint32
	syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&none)), 0, 8, 0, 0)
	if _, _, e := syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0); e != 0 {
		childFail(l)
	}
	if _, _, e := syscall.RawSyscall6(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0,
		uintptr(unsafe.Pointer(&l.prog)), 0, 0, 0); e != 0 {
		childFail(l)
	}
	jumpGuest(l.sp, l.arg, l.entry)
	return 0, 0
}

//go:nosplit
func childFail(l *launch) {
	if len(l.failMsg) > 0 {
		syscall.RawSyscall6(unix.SYS_WRITE, 2, uintptr(unsafe.Pointer(&l.failMsg[0])), uintptr(len(l.failMsg)), 0, 0, 0)
	}
	syscall.RawSyscall6(unix.SYS_EXIT_GROUP, 1, 0, 0, 0, 0, 0)
}
