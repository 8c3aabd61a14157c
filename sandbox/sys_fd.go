package sandbox

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Descriptors. Every descriptor the workload holds comes from the Sentry
// (ADDFD), or from a call on such a descriptor the kernel serves (accept,
// recvmsg): the Sentry numbers them, so dup and friends are its own.

func (s *sentry) sysDup(t *task) result {
	fd, err := t.getFD(t.argInt(0))
	if err != nil {
		return fail(toErrno(err))
	}
	r, err := t.giveFD(fd, -1, false)
	if err != nil {
		return fail(toErrno(err))
	}
	return r
}

func (s *sentry) dupTo(t *task, old, new int, cloexec bool) result {
	if new < 0 || s.reserved(new) {
		return fail(unix.EBADF)
	}
	fd, err := t.getFD(old)
	if err != nil {
		return fail(toErrno(err))
	}
	r, err := t.giveFD(fd, new, cloexec)
	if err != nil {
		return fail(toErrno(err))
	}
	return r
}

func (s *sentry) sysDup2(t *task) result {
	old, new := t.argInt(0), t.argInt(1)
	if old == new {
		if _, err := t.getFD(old); err != nil {
			return fail(unix.EBADF)
		}
		return ok(int64(new))
	}
	return s.dupTo(t, old, new, false)
}

func (s *sentry) sysDup3(t *task) result {
	old, new, flags := t.argInt(0), t.argInt(1), t.argInt(2)
	if old == new || flags&^unix.O_CLOEXEC != 0 {
		return fail(unix.EINVAL)
	}
	return s.dupTo(t, old, new, flags&unix.O_CLOEXEC != 0)
}

// dupFrom is fcntl(F_DUPFD): the lowest free descriptor from from on,
// below the caller's soft RLIMIT_NOFILE.
func (s *sentry) dupFrom(t *task, old, from int, cloexec bool) result {
	tgid, err := t.getTgid()
	if err != nil {
		return fail(unix.ESRCH)
	}
	limit := int(min(s.nofileOf(tgid).Cur, 1<<30))
	if from < 0 || from >= limit {
		return fail(unix.EINVAL)
	}
	fd, err := t.getFD(old)
	if err != nil {
		return fail(toErrno(err))
	}
	used := map[int]bool{}
	es, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", t.tid))
	if err != nil {
		return fail(unix.ESRCH)
	}
	for _, e := range es {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			used[n] = true
		}
	}
	at := from
	for used[at] || s.reserved(at) {
		at++
	}
	if at >= limit {
		return fail(unix.EMFILE)
	}
	r, err := t.giveFD(fd, at, cloexec)
	if err != nil {
		return fail(toErrno(err))
	}
	return r
}

// closeRange passes through when it spares the reserved descriptors.
func (s *sentry) sysCloseRange(t *task) result {
	first, last := t.argUint(0), t.argUint(1)
	if first > last {
		return fail(unix.EINVAL)
	}
	if last < uint(s.cwdFD) || first > uint(s.execFD) {
		return contin()
	}
	if first >= uint(s.cwdFD) && last <= uint(s.execFD) {
		return ok(0)
	}
	// The kernel cannot be asked to spare the reserved ones: libc falls
	// back to closing one by one what /proc/self/fd lists.
	return fail(unix.ENOSYS)
}

// install2 hands two of the Sentry's descriptors to the caller and writes
// their numbers as int[2] at addr.
func (s *sentry) install2(t *task, fds [2]int, cloexec bool, addr uint64) result {
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	var nums [2]int32
	for i, fd := range fds {
		n, err := t.addFD(fd, -1, cloexec)
		if err != nil {
			return fail(toErrno(err))
		}
		nums[i] = int32(n)
	}
	b := make([]byte, 8)
	binary.LittleEndian.PutUint32(b, uint32(nums[0]))
	binary.LittleEndian.PutUint32(b[4:], uint32(nums[1]))
	if err := t.write(addr, b); err != nil {
		return fail(unix.EFAULT)
	}
	return ok(0)
}

func (s *sentry) sysPipe2(t *task) result {
	return s.pipe(t, t.arg(0), t.argInt(1))
}

func (s *sentry) pipe(t *task, addr uint64, flags int) result {
	if flags&^(unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_DIRECT) != 0 {
		return fail(unix.EINVAL)
	}
	var p [2]int
	if err := unix.Pipe2(p[:], flags&(unix.O_NONBLOCK|unix.O_DIRECT)|unix.O_CLOEXEC); err != nil {
		return fail(toErrno(err))
	}
	return s.install2(t, p, flags&unix.O_CLOEXEC != 0, addr)
}

func (s *sentry) sysFcntl(t *task) result {
	switch cmd := t.argInt(1); cmd {
	case unix.F_DUPFD, unix.F_DUPFD_CLOEXEC:
		return s.dupFrom(t, t.argInt(0), t.argInt(2), cmd == unix.F_DUPFD_CLOEXEC)
	default:
		s.logOnce("fcntl-"+strconv.Itoa(cmd), "fcntl command %d not supported: returning EINVAL", cmd)
		return fail(unix.EINVAL)
	}
}
