package sandbox

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Sockets: made by the Sentry, in the container's network namespace.

func socketDomainOK(domain int) bool {
	switch domain {
	case unix.AF_UNIX, unix.AF_INET, unix.AF_INET6, unix.AF_NETLINK:
		return true
	}
	return false
}

func (s *sentry) sysSocket(t *task) result {
	domain, typ, proto := t.argInt(0), t.argInt(1), t.argInt(2)
	if !socketDomainOK(domain) {
		return fail(unix.EAFNOSUPPORT)
	}
	if domain == unix.AF_NETLINK && proto != unix.NETLINK_ROUTE {
		return fail(unix.EPROTONOSUPPORT)
	}
	// No raw IP sockets, even when the spec grants CAP_NET_RAW (which the
	// Sentry would hold): they reach the host kernel's packet paths
	// (ICMP and datagram "ping" sockets are not raw, and pass).
	if (domain == unix.AF_INET || domain == unix.AF_INET6) && typ&0xf == unix.SOCK_RAW {
		return fail(unix.EPERM)
	}
	fd, err := unix.Socket(domain, typ|unix.SOCK_CLOEXEC, proto)
	return s.installFD(t, fd, err, typ&unix.SOCK_CLOEXEC != 0)
}

func (s *sentry) sysSocketpair(t *task) result {
	domain, typ, proto := t.argInt(0), t.argInt(1), t.argInt(2)
	if domain != unix.AF_UNIX {
		return fail(unix.EOPNOTSUPP)
	}
	fds, err := unix.Socketpair(domain, typ|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return fail(toErrno(err))
	}
	s.notePeer(t, fds[0], fds[1])
	return s.install2(t, fds, typ&unix.SOCK_CLOEXEC != 0, t.arg(3))
}

// sockaddr reads an address and, for a unix socket path, resolves its
// directory in the sandbox and names it through the Sentry's descriptor,
// so that the kernel finds only what the Sentry found.
// sockaddrPath checks a socket address the workload passed: the families
// the sandbox lets through, and returns the path of a named AF_UNIX address,
// which the Sentry resolves ("" for any other address, which goes as is).
func sockaddrPath(b []byte, follow bool) (string, error) {
	if len(b) < 2 {
		return "", unix.EINVAL
	}
	switch binary.LittleEndian.Uint16(b) {
	case unix.AF_INET, unix.AF_INET6, unix.AF_UNSPEC:
		return "", nil
	case unix.AF_NETLINK:
		// The kernel (port 0) only, for connect and send; bind may name
		// the socket's own port. Netlink sockets are NETLINK_ROUTE ones
		// in the container's network namespace (sysSocket).
		if len(b) < unix.SizeofSockaddrNetlink {
			return "", unix.EINVAL
		}
		if follow && binary.LittleEndian.Uint32(b[4:]) != 0 {
			return "", unix.EPERM
		}
		return "", nil
	case unix.AF_UNIX:
	default:
		return "", unix.EAFNOSUPPORT
	}
	if len(b) == 2 || b[2] == 0 {
		return "", nil // unnamed or abstract: no path
	}
	return trimNul(b[2:]), nil
}

func (s *sentry) sockaddr(t *task, addr uint64, n int, follow bool) ([]byte, *boundName, error) {
	if n < 2 || n > 128 {
		return nil, nil, unix.EINVAL
	}
	b, err := t.read(addr, n)
	if err != nil {
		return nil, nil, err
	}
	p, err := sockaddrPath(b, follow)
	if err != nil || p == "" {
		return b, nil, err
	}
	var via string
	var bound *boundName
	switch {
	case follow && s.names.known(p):
		// An address the kernel reported (accept, recvfrom) handed back:
		// the Sentry's own, through a directory it holds.
		via = p
	case follow:
		// connect and send: the socket the path leads to, reached through
		// the Sentry's own link to the inode it resolved.
		n, err := s.lookup(t, unix.AT_FDCWD, p, true)
		if err != nil {
			return nil, nil, err
		}
		if n.v != nil {
			return nil, nil, unix.ECONNREFUSED
		}
		t.hold(n.fd)
		via = fmt.Sprintf("/proc/self/fd/%d", n.fd)
	default:
		// bind makes the name, which must not be followed, in a directory
		// the Sentry keeps open while the socket has that name (unixNames).
		dir, name, err := s.parent(t, unix.AT_FDCWD, p)
		if err != nil {
			return nil, nil, err
		}
		d, err := unix.FcntlInt(uintptr(dir.fd), unix.F_DUPFD_CLOEXEC, 0)
		dir.close()
		if err != nil {
			return nil, nil, err
		}
		via = fmt.Sprintf("/proc/self/fd/%d/%s", d, name)
		bound = &boundName{via: via, path: p, dir: d}
	}
	if len(via) >= 108 {
		bound.drop()
		return nil, nil, unix.ENAMETOOLONG
	}
	out := make([]byte, 2+len(via)+1)
	binary.LittleEndian.PutUint16(out, unix.AF_UNIX)
	copy(out[2:], via)
	return out, bound, nil
}

func (s *sentry) sockCall(t *task, nr uintptr) result {
	fd, err := t.getFD(t.argInt(0))
	if err != nil {
		return fail(toErrno(err))
	}
	sa, bound, err := s.sockaddr(t, t.arg(1), t.argInt(2), nr == unix.SYS_CONNECT)
	if err != nil {
		return fail(toErrno(err))
	}
	if nr == unix.SYS_CONNECT && binary.LittleEndian.Uint16(sa) == unix.AF_UNIX {
		s.notePeer(t, fd) // before: the peer may ask as soon as it accepts
	}
	_, _, e := unix.Syscall(nr, uintptr(fd), uintptr(unsafe.Pointer(&sa[0])), uintptr(len(sa)))
	if e != 0 {
		bound.drop()
		return fail(e)
	}
	s.names.keep(bound)
	return ok(0)
}

// getsockname and getpeername: the Sentry's call on its copy of the socket,
// with a unix socket's name as the program bound it (unixNames).
func (s *sentry) sysSockName(t *task) result {
	fd, err := t.getFD(t.argInt(0))
	if err != nil {
		return fail(toErrno(err))
	}
	var buf [128]byte
	l := uint32(len(buf))
	_, _, e := unix.RawSyscall(uintptr(t.nr()), uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&l)))
	if e != 0 {
		return fail(e)
	}
	return t.putSockaddr(s.names.program(buf[:min(int(l), len(buf))]), t.arg(1), t.arg(2))
}

// putSockaddr copies an address out as the kernel does (move_addr_to_user):
// as much as the caller's length allows, and the whole length.
func (t *task) putSockaddr(sa []byte, addr, lenAddr uint64) result {
	var avail int32
	if err := readVal(t, lenAddr, &avail); err != nil {
		return fail(unix.EFAULT)
	}
	if avail < 0 {
		return fail(unix.EINVAL)
	}
	if n := min(int(avail), len(sa)); n > 0 {
		if err := t.write(addr, sa[:n]); err != nil {
			return fail(unix.EFAULT)
		}
	}
	full := int32(len(sa))
	if err := writeVal(t, lenAddr, &full); err != nil {
		return fail(unix.EFAULT)
	}
	return ok(0)
}

func (s *sentry) sysConnect(t *task) result { return s.sockCall(t, unix.SYS_CONNECT) }
func (s *sentry) sysBind(t *task) result    { return s.sockCall(t, unix.SYS_BIND) }

// sendto with an address: the Sentry sends.
func (s *sentry) sysSendto(t *task) result {
	fd, err := t.getFD(t.argInt(0))
	if err != nil {
		return fail(toErrno(err))
	}
	n := int(t.arg(2))
	if n < 0 || n > maxSend {
		n = maxSend // a datagram or a partial write, as the kernel may do
	}
	buf, err := t.read(t.arg(1), n)
	if err != nil {
		return fail(unix.EFAULT)
	}
	sa, _, err := s.sockaddr(t, t.arg(4), t.argInt(5), true)
	if err != nil {
		return fail(toErrno(err))
	}
	n, err = sendNow(t, fd, t.argInt(3), sa, buf, nil, false)
	return sentOrFail(t, t.argInt(3), n, err)
}

// sendNow sends data (with the control messages ctl) to name on the
// Sentry's copy fd of the caller's socket, never waiting inside the call
// (whenReady): a stream's data all, as the kernel's blocking send, or what
// was sent when a signal for the caller came. kept: the call has sent
// something already (a sendmmsg's earlier message).
func sendNow(t *task, fd, flags int, name, data, ctl []byte, kept bool) (int, error) {
	noWait := flags&unix.MSG_DONTWAIT != 0
	// The Sentry's own send must not raise SIGPIPE (sentOrFail raises the
	// caller's).
	flags |= unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL
	sent := 0
	for {
		n := 0
		err := whenReady(t, fd, toGive, noWait, kept, func() error {
			var err error
			n, _, err = msgCall(unix.SYS_SENDMSG, fd, flags, name, data[sent:], ctl)
			return err
		})
		sent += n
		switch {
		case err == errCallerGone:
			return 0, err
		case err == nil && n > 0 && sent < len(data) && !noWait && !nonBlocking(fd):
			ctl, kept = nil, true // a stream's rest; control went with the first byte
		case sent > 0:
			return sent, nil // the kernel's count of what was sent
		default:
			return 0, err
		}
	}
}

// sentOrFail answers a send; a broken pipe raises SIGPIPE in the caller's
// thread as the kernel's send does, unless the call said MSG_NOSIGNAL.
func sentOrFail(t *task, flags, n int, err error) result {
	if err == unix.EPIPE && flags&unix.MSG_NOSIGNAL == 0 {
		if tgid, e := t.getTgid(); e == nil && t.valid() {
			unix.Tgkill(tgid, t.tid, unix.SIGPIPE)
		}
	}
	if err != nil {
		return failOrGone(err)
	}
	return ok(int64(n))
}

// msghdr is struct msghdr.
type msghdr struct {
	Name       uint64
	Namelen    uint32
	_          uint32
	Iov        uint64
	Iovlen     uint64
	Control    uint64
	Controllen uint64
	Flags      int32
	_          int32
}

const maxSend = 1 << 20 // a stream socket may send less; a larger datagram is EMSGSIZE

// iovec is struct iovec.
type iovec struct{ Base, Len uint64 }

// iovecOf reads the i-th iovec of h.
func (t *task) iovecOf(h msghdr, i uint64) (iovec, error) {
	var v iovec
	if err := readVal(t, h.Iov+16*i, &v); err != nil {
		return v, unix.EFAULT
	}
	return v, nil
}

// sendmsg is the Sentry's: the message's address and the descriptors it
// carries are the workload's, which the Sentry resolves and translates.
// gatherMsg reads the msghdr at hdrAddr and the data of its iovecs (up
// to maxSend bytes).
func (t *task) gatherMsg(hdrAddr uint64) (msghdr, []byte, error) {
	var h msghdr
	if err := readVal(t, hdrAddr, &h); err != nil {
		return h, nil, unix.EFAULT
	}
	if h.Iovlen > 1024 {
		return h, nil, unix.EMSGSIZE
	}
	var data []byte
	for i := uint64(0); i < h.Iovlen && len(data) < maxSend; i++ {
		iov, err := t.iovecOf(h, i)
		if err != nil {
			return h, nil, err
		}
		n := iov.Len
		if n > uint64(maxSend-len(data)) {
			n = uint64(maxSend - len(data))
		}
		b, err := t.read(iov.Base, int(n))
		if err != nil {
			return h, nil, err
		}
		data = append(data, b...)
	}
	return h, data, nil
}

func (s *sentry) sendmsg(t *task, fd int, hdrAddr uint64, flags int, kept bool) (int, error) {
	h, data, err := t.gatherMsg(hdrAddr)
	if err != nil {
		return 0, err
	}
	var sa []byte
	if h.Name != 0 && h.Namelen > 0 {
		var err error
		if sa, _, err = s.sockaddr(t, h.Name, int(h.Namelen), true); err != nil {
			return 0, err
		}
	}
	var oob []byte
	if h.Control != 0 && h.Controllen > 0 {
		if h.Controllen > 1<<16 {
			return 0, unix.ENOBUFS
		}
		b, err := t.read(h.Control, int(h.Controllen))
		if err != nil {
			return 0, err
		}
		if oob, err = s.translateControl(t, b); err != nil {
			return 0, err
		}
	}
	return sendNow(t, fd, flags, sa, data, oob, kept)
}

// msgCall is sendmsg or recvmsg (nr) on the Sentry's descriptor fd with
// one buffer for the data: what it returned, and the msghdr as the kernel
// left it (for a receive: the name's and control's lengths, the flags).
func msgCall(nr uintptr, fd, flags int, name, data, ctl []byte) (int, msghdr, error) {
	var m msghdr
	var iov unix.Iovec
	if len(data) > 0 {
		iov = unix.Iovec{Base: &data[0], Len: uint64(len(data))}
		m.Iov, m.Iovlen = uint64(uintptr(unsafe.Pointer(&iov))), 1
	}
	if len(name) > 0 {
		m.Name, m.Namelen = uint64(uintptr(unsafe.Pointer(&name[0]))), uint32(len(name))
	}
	if len(ctl) > 0 {
		m.Control, m.Controllen = uint64(uintptr(unsafe.Pointer(&ctl[0]))), uint64(len(ctl))
	}
	r, _, e := unix.Syscall(nr, uintptr(fd), uintptr(unsafe.Pointer(&m)), uintptr(flags))
	runtime.KeepAlive(data)
	runtime.KeepAlive(name)
	runtime.KeepAlive(ctl)
	if e != 0 {
		return 0, m, e
	}
	return int(r), m, nil
}

// translateControl puts the Sentry's copies of the descriptors an
// SCM_RIGHTS message carries in place of the workload's numbers.
func (s *sentry) translateControl(t *task, b []byte) ([]byte, error) {
	msgs, err := unix.ParseSocketControlMessage(b)
	if err != nil {
		return nil, unix.EINVAL
	}
	var out []byte
	for _, m := range msgs {
		switch {
		case m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_RIGHTS:
			var fds []int
			for i := 0; i+4 <= len(m.Data); i += 4 {
				fd, err := t.getFD(int(int32(binary.LittleEndian.Uint32(m.Data[i:]))))
				if err != nil {
					return nil, unix.EBADF
				}
				fds = append(fds, fd)
			}
			out = append(out, unix.UnixRights(fds...)...)
		case m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_CREDENTIALS:
			// The kernel checks credentials against the sender, the Sentry.
			s.logOnce("scm-credentials", "sendmsg with SCM_CREDENTIALS not supported: returning EINVAL")
			return nil, unix.EINVAL
		default:
			c := make([]byte, unix.CmsgSpace(len(m.Data)))
			h := (*unix.Cmsghdr)(unsafe.Pointer(&c[0]))
			h.Level, h.Type = m.Header.Level, m.Header.Type
			h.SetLen(unix.CmsgLen(len(m.Data)))
			copy(c[unix.CmsgLen(0):], m.Data)
			out = append(out, c...)
		}
	}
	return out, nil
}

func (s *sentry) sysSendmsg(t *task) result {
	fd, err := t.getFD(t.argInt(0))
	if err != nil {
		return fail(toErrno(err))
	}
	n, err := s.sendmsg(t, fd, t.arg(1), t.argInt(2), false)
	return sentOrFail(t, t.argInt(2), n, err)
}

func (s *sentry) sysSendmmsg(t *task) result {
	fd, err := t.getFD(t.argInt(0))
	if err != nil {
		return fail(toErrno(err))
	}
	vlen := t.argUint(2)
	if vlen > 1024 {
		vlen = 1024
	}
	const mmsgSize = 64 // struct mmsghdr: a msghdr and msg_len, padded
	sent := 0
	for i := uint(0); i < vlen; i++ {
		addr := t.arg(1) + uint64(i*mmsgSize)
		n, err := s.sendmsg(t, fd, addr, t.argInt(3), sent > 0)
		if err != nil {
			if sent > 0 && err != errCallerGone {
				break
			}
			return sentOrFail(t, t.argInt(3), 0, err)
		}
		b := make([]byte, 4)
		binary.LittleEndian.PutUint32(b, uint32(n))
		if err := t.write(addr+56, b); err != nil {
			return fail(unix.EFAULT)
		}
		sent++
	}
	return ok(int64(sent))
}

// sysGetsockopt serves getsockopt(SOL_SOCKET, SO_PEERCRED), the only one
// the filter sends.
func (s *sentry) sysGetsockopt(t *task) result {
	fd, err := t.getFD(t.argInt(0))
	if err != nil {
		return fail(toErrno(err))
	}
	var n int32
	if err := readVal(t, t.arg(4), &n); err != nil {
		return fail(unix.EFAULT)
	}
	if n < 0 {
		return fail(unix.EINVAL)
	}
	uc, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return fail(toErrno(err))
	}
	out := peerRecord{vpid: 0, uid: overflowID, gid: overflowID}
	switch {
	case uc.Pid == int32(os.Getpid()):
		// Made by the Sentry: a pair (this socket's own record) or a
		// connect (the record of the socket at the other end).
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil {
			if r, ok := s.peer(st.Ino); ok {
				out = r
			} else if p, err := unixPeerInode(st.Ino); err == nil {
				if r, ok := s.peer(p); ok {
					out = r
				}
			}
		}
	case uc.Pid > 0:
		// A workload process that called listen (or the like) itself.
		out.vpid = int32(s.virtualPid(int(uc.Pid)))
		c := s.creds.of(int(uc.Pid))
		out.uid, out.gid = c.euid, c.egid
	}
	b := make([]byte, 12)
	binary.LittleEndian.PutUint32(b, uint32(out.vpid))
	binary.LittleEndian.PutUint32(b[4:], out.uid)
	binary.LittleEndian.PutUint32(b[8:], out.gid)
	n = min(n, 12)
	if err := t.write(t.arg(3), b[:n]); err != nil {
		return fail(unix.EFAULT)
	}
	if err := writeVal(t, t.arg(4), &n); err != nil {
		return fail(unix.EFAULT)
	}
	return ok(0)
}
