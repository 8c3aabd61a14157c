package sandbox

import (
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

// serve receives the notifications of one listener (the first process's,
// or an exec's), each handled on its own goroutine: a handler may block
// (opening a FIFO, a blocking connect).
func (s *sentry) serve(listener int) {
	for {
		var n seccompNotif
		err := ioctlPtr(listener, unix.SECCOMP_IOCTL_NOTIF_RECV, unsafe.Pointer(&n))
		switch err {
		case nil:
			go s.handle(listener, n)
		case unix.EINTR, unix.ENOENT:
			// Interrupted, or the caller went away before we received it.
		default:
			s.debugf("notification listener: %v", err)
			unix.Close(listener)
			return
		}
	}
}

// result is a handler's answer.
type result struct {
	val   int64
	errno unix.Errno
	kind  int
}

const (
	kindReply    = iota // return val, or -errno
	kindContinue        // let the kernel run the call as made
	kindDone            // already answered (ADDFD with SEND) or never to answer (redirected)
)

func ok(v int64) result        { return result{val: v} }
func fail(e unix.Errno) result { return result{errno: e} }
func contin() result           { return result{kind: kindContinue} }
func done() result             { return result{kind: kindDone} }

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

func (s *sentry) handle(listener int, n seccompNotif) {
	t := newTask(s, listener, &n)
	defer t.release()
	defer func() {
		// A bug in one handler fails that call, not the sandbox.
		if e := recover(); e != nil {
			s.logf("internal error serving %s: %v", sysName(int(n.Data.Nr)), e)
			t.respond(0, -int32(unix.ENOSYS), 0)
		}
	}()
	r := s.dispatch(t)
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
// lowest free number, or at exactly at when at >= 0. With send it also
// answers the call with the new number, atomically.
func (t *task) addFD(fd int, at int, cloexec, send bool) (int, error) {
	a := seccompNotifAddfd{ID: t.n.ID, Srcfd: uint32(fd)}
	if at >= 0 {
		a.Flags |= unix.SECCOMP_ADDFD_FLAG_SETFD
		a.Newfd = uint32(at)
	}
	if send {
		a.Flags |= unix.SECCOMP_ADDFD_FLAG_SEND
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

// valid tells whether the notification is still pending: its caller is
// still the task the Sentry looked at.
func (t *task) valid() bool {
	id := t.n.ID
	return ioctlPtr(t.listener, unix.SECCOMP_IOCTL_NOTIF_ID_VALID, unsafe.Pointer(&id)) == nil
}
