package sandbox

import (
	"encoding/binary"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ioctl: the requests the filter does not pass (terminal requests that
// name a process group or inject input, network devices, FICLONE).

// sysIoctl serves the ioctl requests the filter does not let through.
func (s *sentry) sysIoctl(t *task) result {
	req := uint32(t.arg(1))
	switch req {
	case unix.TIOCSPGRP:
		// The kernel's order of errors: the descriptor, a terminal, the
		// group's number, the group.
		fd, err := t.getFD(t.argInt(0))
		if err != nil {
			return fail(toErrno(err))
		}
		if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err != nil {
			return fail(unix.ENOTTY)
		}
		var pgid int32
		if err := readVal(t, t.arg(2), &pgid); err != nil {
			return fail(unix.EFAULT)
		}
		if pgid < 0 {
			return fail(unix.EINVAL)
		}
		if !s.groupExists(int(pgid)) {
			return fail(unix.ESRCH) // none in the caller's pid namespace
		}
		// The pgid is read again by the kernel, and can only name a group
		// of the caller's own session on its terminal.
		return contin()
	case unix.TIOCSTI, unix.TIOCCONS, unix.TIOCLINUX:
		return fail(unix.EPERM)
	}
	if r, ok := s.netIoctl(t, req); ok {
		return r
	}
	if req == unix.FICLONE || req == unix.FICLONERANGE {
		return s.ficlone(t, req)
	}
	s.logOnce("ioctl-"+strconv.FormatUint(uint64(req), 16), "ioctl request %#x not supported: returning ENOTTY", req)
	return fail(unix.ENOTTY)
}

// netIoctl serves req when it is one of the above; ok is false otherwise.
func (s *sentry) netIoctl(t *task, req uint32) (r result, ok bool) {
	switch {
	case ifreqIoctls[req], req == siocBrAddBr, req == siocBrDelBr, req == unix.SIOCGIFCONF:
	default:
		return result{}, false
	}
	fd, err := t.getFD(t.argInt(0))
	if err != nil {
		return fail(toErrno(err)), true
	}
	if _, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil {
		return fail(unix.ENOTTY), true // not a socket
	}
	arg := t.arg(2)
	switch req {
	case siocBrAddBr, siocBrDelBr:
		b, err := t.read(arg, unix.IFNAMSIZ)
		if err != nil {
			return fail(unix.EFAULT), true
		}
		name := append([]byte(trimNul(b)), 0)
		return raw(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(unsafe.Pointer(&name[0]))), true
	case unix.SIOCGIFCONF:
		return s.ifconf(t, fd, arg), true
	}
	b, err := t.read(arg, ifreqSize)
	if err != nil {
		return fail(unix.EFAULT), true
	}
	r = raw(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(unsafe.Pointer(&b[0])))
	if r.errno == 0 && t.write(arg, b) != nil {
		return fail(unix.EFAULT), true
	}
	return r, true
}

// ifconf serves SIOCGIFCONF: struct ifconf {int len; char *buf}, the
// entries written at the caller's buf.
func (s *sentry) ifconf(t *task, fd int, arg uint64) result {
	hdr, err := t.read(arg, 16)
	if err != nil {
		return fail(unix.EFAULT)
	}
	n := int(int32(binary.LittleEndian.Uint32(hdr)))
	buf := binary.LittleEndian.Uint64(hdr[8:])
	if n < 0 {
		return fail(unix.EINVAL)
	}
	n = min(n, 64<<10)
	var local []byte
	var ifc struct {
		Len int32
		_   int32
		Buf uintptr
	}
	ifc.Len = int32(n)
	if buf != 0 && n > 0 {
		local = make([]byte, n)
		ifc.Buf = uintptr(unsafe.Pointer(&local[0]))
	}
	r := raw(unix.SYS_IOCTL, uintptr(fd), unix.SIOCGIFCONF, uintptr(unsafe.Pointer(&ifc)))
	if r.errno != 0 {
		return r
	}
	if local != nil && t.write(buf, local[:ifc.Len]) != nil {
		return fail(unix.EFAULT)
	}
	binary.LittleEndian.PutUint32(hdr, uint32(ifc.Len))
	if t.write(arg, hdr[:4]) != nil {
		return fail(unix.EFAULT)
	}
	return r
}

// ficlone serves FICLONE and FICLONERANGE (cp --reflink): both descriptors
// are the caller's, the call runs on the Sentry's copies.
func (s *sentry) ficlone(t *task, req uint32) result {
	dst, err := t.getFD(t.argInt(0))
	if err != nil {
		return fail(toErrno(err))
	}
	if req == unix.FICLONE {
		src, err := t.getFD(t.argInt(2))
		if err != nil {
			return fail(toErrno(err))
		}
		return orFail(unix.IoctlFileClone(dst, src), 0)
	}
	var r unix.FileCloneRange
	if err := readVal(t, t.arg(2), &r); err != nil {
		return fail(unix.EFAULT)
	}
	src, err := t.getFD(int(int32(r.Src_fd)))
	if err != nil {
		return fail(toErrno(err))
	}
	r.Src_fd = int64(src)
	return orFail(unix.IoctlFileCloneRange(dst, &r), 0)
}

// Network device ioctls on a socket (ifconfig, brctl, ip's fallbacks), run
// by the Sentry on its copy of the socket, in the container's network
// namespace, with the caller's capabilities (the kernel checks
// CAP_NET_ADMIN for the ones that change something). Only requests whose
// argument holds no pointer are taken: the kernel would follow one in the
// Sentry's memory.

const ifreqSize = 40 // struct ifreq

// ifreqIoctls take and give back a struct ifreq.
var ifreqIoctls = map[uint32]bool{
	unix.SIOCGIFNAME: true, unix.SIOCGIFFLAGS: true, unix.SIOCSIFFLAGS: true,
	unix.SIOCGIFADDR: true, unix.SIOCSIFADDR: true, unix.SIOCGIFDSTADDR: true, unix.SIOCSIFDSTADDR: true,
	unix.SIOCGIFBRDADDR: true, unix.SIOCSIFBRDADDR: true, unix.SIOCGIFNETMASK: true, unix.SIOCSIFNETMASK: true,
	unix.SIOCGIFMETRIC: true, unix.SIOCGIFMTU: true, unix.SIOCSIFMTU: true, unix.SIOCSIFNAME: true,
	unix.SIOCSIFHWADDR: true, unix.SIOCGIFHWADDR: true, unix.SIOCGIFINDEX: true,
	unix.SIOCGIFTXQLEN: true, unix.SIOCSIFTXQLEN: true, unix.SIOCGIFMAP: true, unix.SIOCSIFMAP: true,
	siocBrAddIf: true, siocBrDelIf: true,
}

// The bridge ioctls: add and delete a bridge by name, or a port by index.
const (
	siocBrAddBr = 0x89a0
	siocBrDelBr = 0x89a1
	siocBrAddIf = 0x89a2
	siocBrDelIf = 0x89a3
)
