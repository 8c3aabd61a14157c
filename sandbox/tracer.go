package sandbox

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// tracer is the one locked OS thread that forks the workload, waits for the
// Sentry's children and makes every ptrace request: ptrace belongs to a
// thread, and a wait elsewhere could take a tracee's stop for an exit.
type tracer struct {
	s       *sentry
	reqs    chan func()
	sigchld chan os.Signal

	mu      sync.Mutex
	init    int
	waiters map[int]chan unix.WaitStatus
}

func newTracer(s *sentry) *tracer {
	t := &tracer{s: s, reqs: make(chan func()), sigchld: make(chan os.Signal, 1), waiters: map[int]chan unix.WaitStatus{}}
	ready := make(chan struct{})
	go t.loop(ready)
	<-ready
	return t
}

func (t *tracer) loop(ready chan struct{}) {
	runtime.LockOSThread() // for good: the workload's parent-death signal follows this thread
	close(ready)
	for {
		select {
		case f := <-t.reqs:
			f()
		case <-t.sigchld:
		}
		t.reap()
	}
}

// do runs f on the tracer thread and waits for it.
func (t *tracer) do(f func()) {
	done := make(chan struct{})
	t.reqs <- func() { f(); close(done) }
	<-done
}

// wait registers ch to get the wait status of the Sentry's child pid (the
// workload's first process when init). Called on the tracer thread, right
// after the fork, before any reaping.
func (t *tracer) wait(pid int, ch chan unix.WaitStatus, init bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.waiters[pid] = ch
	if init {
		t.init = pid
	}
}

func (t *tracer) initPID() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.init
}

// reap collects every child that has exited: the workload's first process
// (its status is the container's) and orphans, the Sentry being pid 1.
func (t *tracer) reap() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG|unix.WALL, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
		t.exited(pid, ws)
	}
}

func (t *tracer) exited(pid int, ws unix.WaitStatus) {
	if !ws.Exited() && !ws.Signaled() {
		return
	}
	t.mu.Lock()
	if pid == t.init {
		t.init = -1
	}
	ch := t.waiters[pid]
	delete(t.waiters, pid)
	t.mu.Unlock()
	if ch != nil {
		ch <- ws
	}
}

// errRetry means the thread was not where the Sentry left it: nothing was
// changed, and the system call will come again.
var errRetry = errors.New("the thread moved on")

// redirect makes thread tid, blocked in the seccomp notification of system
// call nr made at ip with args, run instead the system call in regs' place:
// it attaches, asks for a stop, ends the call with -ERESTARTSYS (wake
// answers the notification so; on a kernel without killable waits the
// interrupt itself ends it the same way), rewrites the registers at the stop
// on the way back to user space, and detaches.
func (t *tracer) redirect(tid int, nr int, ip uint64, args [6]uint64, wake func(), set func(r *unix.PtraceRegs) bool) error {
	var err error
	t.do(func() { err = t.redirectLocked(tid, nr, ip, args, wake, set) })
	return err
}

// errnoRestartSys is the kernel's ERESTARTSYS: a call ending with it is
// restarted, or fails with EINTR when a handler without SA_RESTART runs.
const errnoRestartSys = 512

func (t *tracer) redirectLocked(tid int, nr int, ip uint64, args [6]uint64, wake func(), set func(r *unix.PtraceRegs) bool) error {
	if err := unix.PtraceSeize(tid); err != nil {
		return fmt.Errorf("PTRACE_SEIZE: %w", err)
	}
	if err := unix.PtraceInterrupt(tid); err != nil {
		_ = unix.PtraceDetach(tid)
		return fmt.Errorf("PTRACE_INTERRUPT: %w", err)
	}
	wake()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(tid, &ws, unix.WALL|unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("wait for the tracee: %w", err)
		}
		if pid == 0 {
			// Not stopped yet; a thread that never stops (stuck in the
			// kernel) is let go rather than stall every other exec.
			if time.Now().After(deadline) {
				_ = unix.PtraceDetach(tid)
				return errors.New("the thread did not stop")
			}
			time.Sleep(100 * time.Microsecond)
			continue
		}
		if ws.Exited() || ws.Signaled() {
			t.exited(tid, ws)
			return errRetry
		}
		if !ws.Stopped() {
			continue
		}
		// A signal-delivery stop gives the signal back on detach; the
		// interrupt's own stop (SIGTRAP with PTRACE_EVENT_STOP) or a group
		// stop gives nothing.
		sig := 0
		if ev := (int(ws) >> 16) & 0xff; ev == 0 {
			sig = int(ws.StopSignal())
		}
		var regs unix.PtraceRegs
		if err := unix.PtraceGetRegs(tid, &regs); err != nil {
			_ = ptraceDetach(tid, sig)
			return fmt.Errorf("PTRACE_GETREGS: %w", err)
		}
		// The notification ended in -ERESTARTSYS with the registers of the
		// call untouched: only then is it the same call.
		same := int64(regs.Rax) == -errnoRestartSys && regs.Orig_rax == uint64(nr) && regs.Rip == ip &&
			regs.Rdi == args[0] && regs.Rsi == args[1] && regs.Rdx == args[2] &&
			regs.R10 == args[3] && regs.R8 == args[4] && regs.R9 == args[5]
		if !same {
			_ = ptraceDetach(tid, sig)
			return errRetry
		}
		// set puts the new call in the registers, to run on the return to
		// user space (back over the two-byte syscall instruction); or, when it
		// returns false, a result in Rax for the interrupted call.
		if set(&regs) {
			regs.Rip -= 2
		}
		regs.Orig_rax = ^uint64(0) // no restart
		if err := unix.PtraceSetRegs(tid, &regs); err != nil {
			_ = ptraceDetach(tid, sig)
			return fmt.Errorf("PTRACE_SETREGS: %w", err)
		}
		return ptraceDetach(tid, sig)
	}
}

func ptraceDetach(tid, sig int) error {
	_, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_DETACH, uintptr(tid), 0, uintptr(sig), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}
