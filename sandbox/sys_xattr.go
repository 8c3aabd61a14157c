package sandbox

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Extended attributes: set, get, list and remove, each by path, by path
// without following a final symlink (l*) and by descriptor (f*). A path is
// resolved by the Sentry and the call made on the file it found, through
// /proc/self/fd (an O_PATH descriptor takes no xattr call), as the caller
// (its fsuid and capabilities decide, as the kernel's checks would). A
// symlink's own attributes (l* on a link) are reported as the kernel does
// for the user namespace, the only one a sandboxed program can write:
// none, and EPERM to write one. The Sentry's own /proc files have none, and
// no handlers (EOPNOTSUPP), as procfs's.

const (
	xattrSizeMax = 64 << 10 // XATTR_SIZE_MAX; XATTR_LIST_MAX is the same
	xattrNameMax = 255      // XATTR_NAME_MAX
)

type xattrOp int

const (
	xattrSet xattrOp = iota
	xattrGet
	xattrList
	xattrRemove
)

// xattrCalls names each call's operation and how it finds its file.
var xattrCalls = map[int]struct {
	op         xattrOp
	byFD, link bool
}{
	unix.SYS_SETXATTR: {xattrSet, false, false}, unix.SYS_LSETXATTR: {xattrSet, false, true}, unix.SYS_FSETXATTR: {xattrSet, true, false},
	unix.SYS_GETXATTR: {xattrGet, false, false}, unix.SYS_LGETXATTR: {xattrGet, false, true}, unix.SYS_FGETXATTR: {xattrGet, true, false},
	unix.SYS_LISTXATTR: {xattrList, false, false}, unix.SYS_LLISTXATTR: {xattrList, false, true}, unix.SYS_FLISTXATTR: {xattrList, true, false},
	unix.SYS_REMOVEXATTR: {xattrRemove, false, false}, unix.SYS_LREMOVEXATTR: {xattrRemove, false, true}, unix.SYS_FREMOVEXATTR: {xattrRemove, true, false},
}

func (s *sentry) sysXattr(t *task) result {
	c := xattrCalls[t.nr()]
	var file string
	if c.byFD {
		fd, err := t.getFD(t.argInt(0))
		if err != nil {
			return fail(toErrno(err))
		}
		file = fmt.Sprintf("/proc/self/fd/%d", fd)
	} else {
		n, err := s.pathNode(t, t.arg(0), unix.AT_FDCWD, 0, !c.link)
		if err != nil {
			return fail(toErrno(err))
		}
		defer n.close()
		if n.v != nil {
			if c.op == xattrList {
				return ok(0) // procfs's: no names, no handlers
			}
			return fail(unix.EOPNOTSUPP)
		}
		var st unix.Stat_t
		if err := unix.Fstat(n.fd, &st); err != nil {
			return fail(toErrno(err))
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			switch c.op {
			case xattrGet:
				return fail(unix.ENODATA)
			case xattrList:
				return ok(0)
			}
			return fail(unix.EPERM)
		}
		file = fmt.Sprintf("/proc/self/fd/%d", n.fd)
	}
	if c.op == xattrList {
		return xattrOut(t, t.arg(1), t.arg(2), func(buf []byte) (int, error) { return unix.Listxattr(file, buf) })
	}
	name, err := t.readString(t.arg(1), xattrNameMax+1)
	if err != nil {
		if err == unix.ENAMETOOLONG {
			return fail(unix.ERANGE)
		}
		return fail(toErrno(err))
	}
	if name == "" {
		return fail(unix.ERANGE)
	}
	switch c.op {
	case xattrSet:
		size := t.arg(3)
		if size > xattrSizeMax {
			return fail(unix.E2BIG)
		}
		val, err := t.read(t.arg(2), int(size))
		if err != nil {
			return fail(unix.EFAULT)
		}
		return orFail(unix.Setxattr(file, name, val, t.argInt(4)), 0)
	case xattrRemove:
		return orFail(unix.Removexattr(file, name), 0)
	}
	return xattrOut(t, t.arg(2), t.arg(3), func(buf []byte) (int, error) { return unix.Getxattr(file, name, buf) })
}

// xattrOut runs get (getxattr or listxattr) into a buffer of the caller's
// size and writes what it returned at addr; size 0 asks only how long it is.
func xattrOut(t *task, addr, size uint64, get func(buf []byte) (int, error)) result {
	var buf []byte
	if size = min(size, xattrSizeMax); size > 0 {
		buf = make([]byte, size)
	}
	n, err := get(buf)
	if err != nil {
		return fail(toErrno(err))
	}
	if err := t.write(addr, buf[:min(n, len(buf))]); err != nil {
		return fail(unix.EFAULT)
	}
	return ok(int64(n))
}
