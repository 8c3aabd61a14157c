package sandbox

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// Waiting on a socket for the workload. A send or receive the Sentry makes
// on its copy of the caller's socket never waits inside the call: it tries
// without waiting and, when the socket is not ready and the caller would
// wait, waits for the socket with poll, then tries again. The try is
// claimed (task.claim) and the wait is not, so a signal for the caller
// (watchSignals) ends the call having done nothing, as the kernel's
// interrupted call, and the restarted call finds everything still there.
// Once part of the call is done (a stream's first bytes, a sendmmsg's first
// message), the rest waits claimed and a signal ends it with what was done
// (the kernel's partial count).

// sockPoll bounds one wait, so that a caller gone or signalled is noticed.
const sockPoll = 200 * time.Millisecond

var (
	errCallerGone = errors.New("the caller is gone")
	errSignalled  = errors.New("a signal for the caller ended the wait")
)

// sockWait is one direction of a wait: the poll event and the socket
// option that bounds the wait.
type sockWait struct {
	event int16
	timeo int
}

var (
	toTake = sockWait{unix.POLLIN, unix.SO_RCVTIMEO}
	toGive = sockWait{unix.POLLOUT, unix.SO_SNDTIMEO}
)

// whenReady runs call, which must not wait, until it gives something but
// EAGAIN, or the caller would not wait (noWait, a non-blocking socket).
// kept: part of the call is already done, so the claim is kept between
// tries and a signal for the caller ends the call with errSignalled.
func whenReady(t *task, fd int, w sockWait, noWait, kept bool, call func() error) error {
	var deadline time.Time // from the first wait: a call that need not wait reads no option
	for tries := 0; ; tries++ {
		if !t.claim() {
			return errCallerGone
		}
		err := call()
		if err != unix.EAGAIN || noWait || nonBlocking(fd) {
			return err
		}
		if !kept {
			t.unclaim()
		}
		if tries == 0 {
			deadline = w.deadline(fd)
		}
		if err := w.wait(t, fd, deadline, tries, kept); err != nil {
			return err
		}
	}
}

// deadline is when the socket's timeout option ends a wait from now (zero:
// never).
func (w sockWait) deadline(fd int) time.Time {
	if tv, err := unix.GetsockoptTimeval(fd, unix.SOL_SOCKET, w.timeo); err == nil && tv.Nano() > 0 {
		return time.Now().Add(time.Duration(tv.Nano()))
	}
	return time.Time{}
}

// wait waits until fd is ready (or has an error or hang-up, which the call
// then reports); past deadline EAGAIN, as the kernel's timeout options.
// The tries-th retry first backs off: poll may say ready when the call
// cannot go on (another reader took the data; an unconnected datagram
// socket's receiver is full, which its own poll does not see).
// claimed: a signal for the caller ends the wait (errSignalled).
func (w sockWait) wait(t *task, fd int, deadline time.Time, tries int, claimed bool) error {
	if tries > 0 {
		time.Sleep(min(time.Millisecond<<min(tries-1, 6), 50*time.Millisecond))
	}
	for {
		poll := sockPoll
		if claimed {
			poll = signalPoll
		}
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return unix.EAGAIN
			}
			poll = min(poll, left+time.Millisecond-1)
		}
		p := []unix.PollFd{{Fd: int32(fd), Events: w.event}}
		n, err := unix.Poll(p, int(poll/time.Millisecond))
		if err != nil && err != unix.EINTR {
			return err
		}
		if n > 0 {
			return nil
		}
		if !t.valid() {
			return errCallerGone
		}
		if claimed && signalWaiting(t.tid) {
			return errSignalled
		}
	}
}

func nonBlocking(fd int) bool {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	return err == nil && fl&unix.O_NONBLOCK != 0
}

// failOrGone answers a failed wait or call.
func failOrGone(err error) result {
	if err == errCallerGone {
		return done()
	}
	return fail(toErrno(err))
}
