package sandbox

import (
	"runtime"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The seccomp user-notification ABI (linux/seccomp.h).

type seccompData struct {
	Nr   int32
	Arch uint32
	IP   uint64
	Args [6]uint64
}

type seccompNotif struct {
	ID    uint64
	Pid   uint32
	Flags uint32
	Data  seccompData
}

type seccompNotifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

type seccompNotifAddfd struct {
	ID         uint64
	Flags      uint32
	Srcfd      uint32
	Newfd      uint32
	NewfdFlags uint32
}

func ioctlPtr(fd int, req uint, p unsafe.Pointer) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(p))
	if e != 0 {
		return e
	}
	return nil
}

// seccompIoctlNotifSetFlags is SECCOMP_IOCTL_NOTIF_SET_FLAGS, _IOW('!', 4, __u64).
const seccompIoctlNotifSetFlags = 0x40082104

// serve receives the notifications of one listener (the first process's,
// or an exec's). A call that may block in the Sentry (opening a FIFO, a
// blocking connect) is handled on its own goroutine; the quick ones are
// answered on this locked thread, which the kernel then wakes synchronously
// (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP): a round trip without a handoff.
func (s *sentry) serve(listener int) {
	runtime.LockOSThread()
	// The identity this thread wears while it serves calls inline; the
	// goroutine never unlocks, so the thread ends with it.
	var worn *creds
	// Linux 6.6 and later; older kernels answer EINVAL and wake as before.
	_, _, _ = unix.Syscall(unix.SYS_IOCTL, uintptr(listener), seccompIoctlNotifSetFlags, unix.SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP)
	for {
		var n seccompNotif
		err := ioctlPtr(listener, unix.SECCOMP_IOCTL_NOTIF_RECV, unsafe.Pointer(&n))
		switch err {
		case nil:
			if callFlagsOf(int(n.Data.Nr))&quick != 0 {
				s.handleOn(listener, n, &worn)
			} else {
				go s.handle(listener, n)
			}
		case unix.ENOENT:
			// The caller went away before we received its call; or every
			// process under this listener has exited, and it hangs up.
			pfd := []unix.PollFd{{Fd: int32(listener), Events: unix.POLLIN}}
			if n, _ := unix.Poll(pfd, 0); n > 0 && pfd[0].Revents&unix.POLLHUP != 0 {
				unix.Close(listener)
				return
			}
		case unix.EINTR:
		default:
			s.debugf("notification listener: %v", err)
			unix.Close(listener)
			return
		}
	}
}

// signalPoll is how often a long call looks for a signal to its caller.
const signalPoll = 20 * time.Millisecond

// watchSignals ends the caller's wait with -ERESTARTSYS when, while the
// Sentry serves a call that may block, a signal the caller handles arrives:
// the kernel then runs the handler and restarts the call (SA_RESTART) or
// fails it with EINTR, as it would for the blocked call itself. The caller
// waits killably (only a fatal signal would end the wait otherwise). The
// returned function stops the watch. While the handler claims the call
// (task.claim), a signal waits: the handler is taking what it must give.
func (s *sentry) watchSignals(t *task) (stop func()) {
	var mu sync.Mutex
	stopped, claimed, answered := false, false, false
	var timer *time.Timer
	timer = time.AfterFunc(signalPoll, func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		if !claimed && signalWaiting(t.tid) {
			t.respond(0, -errnoRestartSys, 0)
			answered = true
			return
		}
		timer.Reset(signalPoll)
	})
	t.claimCall = func(c bool) bool {
		mu.Lock()
		defer mu.Unlock()
		claimed = c && !answered
		return !answered
	}
	return func() {
		mu.Lock()
		stopped = true
		mu.Unlock()
		timer.Stop()
	}
}

// signalWaiting tells whether thread tid has a pending signal, not blocked,
// that it has a handler for.
func signalWaiting(tid int) bool {
	st, err := procStatus(tid)
	if err != nil {
		return false
	}
	mask := func(k string) uint64 {
		v, _ := strconv.ParseUint(st[k], 16, 64)
		return v
	}
	return (mask("SigPnd")|mask("ShdPnd"))&^mask("SigBlk")&mask("SigCgt") != 0
}

// result is a handler's answer.
type result struct {
	val   int64
	errno unix.Errno
	kind  int
	later func() result // kindLater: the rest of the call
}

const (
	kindReply    = iota // return val, or -errno
	kindContinue        // let the kernel run the call as made
	kindDone            // already answered, or never to answer (redirected)
	kindLater           // a quick call that found it may wait: later goes on
)

func ok(v int64) result        { return result{val: v} }
func fail(e unix.Errno) result { return result{errno: e} }
func contin() result           { return result{kind: kindContinue} }
func done() result             { return result{kind: kindDone} }

// later hands the rest of a call served on the listener's thread (quick)
// to a goroutine of its own, watched for signals: what f does may wait (a
// FIFO's open), which the listener's thread must never.
func later(f func() result) result { return result{kind: kindLater, later: f} }

// orFail is ok(v), or the failure err carries.
func orFail(err error, v int64) result {
	if err != nil {
		return fail(toErrno(err))
	}
	return ok(v)
}

func toErrno(err error) unix.Errno {
	for err != nil {
		if e, ok := err.(unix.Errno); ok {
			return e
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			break
		}
		err = u.Unwrap()
	}
	return unix.EIO
}

func (s *sentry) handle(listener int, n seccompNotif) { s.handleOn(listener, n, nil) }

// handleOn serves a notification; worn is set on the listener's own thread.
func (s *sentry) handleOn(listener int, n seccompNotif, worn **creds) {
	t := newTask(s, listener, &n)
	t.worn = worn
	s.serveTask(t, func() result { return s.dispatch(t) }, callFlagsOf(int(n.Data.Nr))&mayBlock != 0)
}

// serveTask runs a call's handler and answers it, or hands what is left
// of it to a goroutine (kindLater).
func (s *sentry) serveTask(t *task, run func() result, watch bool) {
	handedOff := false
	defer func() {
		if !handedOff {
			t.release()
		}
	}()
	defer func() {
		// A bug in one handler fails that call, not the sandbox.
		if e := recover(); e != nil {
			s.logf("internal error serving %s: %v", sysName(t.nr()), e)
			t.respond(0, -int32(unix.ENOSYS), 0)
		}
	}()
	if watch {
		defer s.watchSignals(t)()
	}
	r := run()
	if r.kind == kindLater {
		handedOff = true
		t.worn = nil // no longer on the listener's thread
		go s.serveTask(t, func() result { return s.asCaller(t, r.later) }, true)
		return
	}
	// Let go of the caller's descriptors before it runs again: its close of
	// a pipe or socket must be the last one (see giveFD).
	t.release()
	switch r.kind {
	case kindDone:
		return
	case kindContinue:
		t.respond(0, 0, unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE)
	default:
		if r.errno != 0 {
			t.respond(0, -int32(r.errno), 0)
		} else {
			t.respond(r.val, 0, 0)
		}
	}
}

func (t *task) respond(val int64, errno int32, flags uint32) {
	resp := seccompNotifResp{ID: t.n.ID, Val: val, Error: errno, Flags: flags}
	// ENOENT: the caller is gone (killed) or interrupted by a signal, and
	// will make the call again.
	_ = ioctlPtr(t.listener, unix.SECCOMP_IOCTL_NOTIF_SEND, unsafe.Pointer(&resp))
}

// addFD installs the Sentry's descriptor fd in the caller's table: at the
// lowest free number, or at exactly at when at >= 0. It leaves the call
// unanswered (see giveFD for why never SECCOMP_ADDFD_FLAG_SEND).
//
// The caller installs it itself, woken by a plain wake-up (ADDFD has no
// synchronous one, unlike the notification's), which the scheduler sends
// to an idle CPU when there is one: on a virtual machine waking an idle
// vCPU costs tens of microseconds, several times the rest of an open. So
// the caller is held to this thread's CPU for the moment of the ADDFD, and
// its own affinity given back after (another of its threads changing it
// meanwhile would be undone).
func (t *task) addFD(fd int, at int, cloexec bool) (int, error) {
	if restore := t.pinHere(); restore != nil {
		defer restore()
	}
	a := seccompNotifAddfd{ID: t.n.ID, Srcfd: uint32(fd)}
	if at >= 0 {
		a.Flags |= unix.SECCOMP_ADDFD_FLAG_SETFD
		a.Newfd = uint32(at)
	}
	if cloexec {
		a.NewfdFlags = unix.O_CLOEXEC
	}
	r, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(t.listener), uintptr(unix.SECCOMP_IOCTL_NOTIF_ADDFD), uintptr(unsafe.Pointer(&a)))
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// giveFD installs the Sentry's descriptor fd in the caller, at the lowest
// free number or at at >= 0, as the result of its call. The call is
// answered only after the handler returns, once the Sentry has closed its
// own copies (handleOn), never in one step with ADDFD's SEND flag: the
// caller's close must be the file's last one, as it is without the Sentry.
// A pipe reader gets its EOF then, and a regular file's last close is when
// inotify reports IN_CLOSE_WRITE, flock and lease locks go, and the file may
// be executed (no ETXTBSY). With SEND the kernel itself keeps a reference
// until after the caller runs again (the ioctl drops its fget'ed file last).
func (t *task) giveFD(fd, at int, cloexec bool) (result, error) {
	n, err := t.addFD(fd, at, cloexec)
	if err != nil {
		return result{}, err
	}
	return ok(int64(n)), nil
}

// pinHere sets the caller's CPU affinity to the CPU this thread runs on,
// and returns what gives its own back (nil: nothing was changed).
func (t *task) pinHere() func() {
	var cpu, node uint32
	if _, _, e := unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&cpu)), uintptr(unsafe.Pointer(&node)), 0); e != 0 {
		return nil
	}
	var own, here unix.CPUSet
	if unix.SchedGetaffinity(t.tid, &own) != nil || !own.IsSet(int(cpu)) || own.Count() == 1 {
		return nil
	}
	here.Set(int(cpu))
	if unix.SchedSetaffinity(t.tid, &here) != nil {
		return nil
	}
	return func() { _ = unix.SchedSetaffinity(t.tid, &own) }
}

// valid tells whether the notification is still pending: its caller is
// still the task the Sentry looked at.
func (t *task) valid() bool {
	id := t.n.ID
	return ioctlPtr(t.listener, unix.SECCOMP_IOCTL_NOTIF_ID_VALID, unsafe.Pointer(&id)) == nil
}
