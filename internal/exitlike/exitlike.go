// Package exitlike ends a process the way another one ended, for the runx
// processes that stand for one engines wait for (the unikernel tender, the
// microvm monitor and exec relay): the same exit code, or death by the same
// signal, so a parent sees the status it would have seen (a shell: 128+n).
package exitlike

import (
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Exit ends the calling process as ws says the other one ended.
func Exit(ws syscall.WaitStatus) {
	if ws.Exited() {
		os.Exit(ws.ExitStatus())
	}
	if ws.Signaled() {
		dieBy(ws.Signal())
	}
	os.Exit(1)
}

// dieBy ends the process by sig with its default action, without a core
// dump: Go's own handlers are bypassed (it keeps one for SIGSYS and the like).
func dieBy(sig syscall.Signal) {
	runtime.LockOSThread()
	_ = unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	var dfl [4]uintptr // struct kernel_sigaction with SIG_DFL
	syscall.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&dfl)), 0, 8, 0, 0)
	var set [2]uint32
	set[(sig-1)/32] = 1 << ((sig - 1) % 32)
	syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_UNBLOCK, uintptr(unsafe.Pointer(&set)), 0, 8, 0, 0)
	_ = unix.Tgkill(os.Getpid(), unix.Gettid(), sig)
	os.Exit(128 + int(sig))
}
