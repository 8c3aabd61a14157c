package sandbox

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Receiving a peer's address: accept, recvfrom and recvmsg. The kernel
// reports a unix socket the Sentry bound by the Sentry's string
// (unixNames), so when the program asks for the sender's address on a unix
// socket and such names exist, the Sentry makes the call on its copy of
// the socket, never waiting inside it (sys_socket_wait.go), and writes the
// program's path; otherwise the kernel runs the call as made.

// peerNamed is the Sentry's copy of the caller's socket fd when the call
// must be the Sentry's: a unix socket while a name the Sentry bound may be
// some peer's. ok false: the kernel's call is right as made.
func (s *sentry) peerNamed(t *task, fd int) (int, bool, error) {
	if !s.names.any() {
		return -1, false, nil
	}
	c, err := t.getFD(fd)
	if err != nil {
		return -1, false, err
	}
	d, err := unix.GetsockoptInt(c, unix.SOL_SOCKET, unix.SO_DOMAIN)
	if err != nil {
		if err == unix.ENOTSOCK {
			return -1, false, err
		}
		return -1, false, nil
	}
	return c, d == unix.AF_UNIX, nil
}

// accept and accept4 with an address to fill.
func (s *sentry) sysAccept(t *task) result  { return s.accept(t, 0) }
func (s *sentry) sysAccept4(t *task) result { return s.accept(t, t.argInt(3)) }

func (s *sentry) accept(t *task, flags int) result {
	fd, mine, err := s.peerNamed(t, t.argInt(0))
	if err != nil || !mine {
		return orContinue(err)
	}
	if flags&^(unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC) != 0 {
		return fail(unix.EINVAL)
	}
	// accept cannot be asked not to wait: a blocking listener is waited
	// on until a connection is there. Another acceptor may take it first,
	// and then the Sentry's accept waits as the caller's would, and the
	// caller's signals wait with it (the call is claimed).
	if l, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); l == 1 && !nonBlocking(fd) {
		if err := toTake.wait(t, fd, toTake.deadline(fd), 0, false); err != nil {
			return failOrGone(err)
		}
	}
	if !t.claim() {
		return done()
	}
	var sa [128]byte
	l := uint32(len(sa))
	n, _, e := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(fd), uintptr(unsafe.Pointer(&sa[0])),
		uintptr(unsafe.Pointer(&l)), uintptr(flags&unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC), 0, 0)
	if e != 0 {
		return fail(e)
	}
	nfd := int(n)
	// The address first: the kernel installs the descriptor only once it
	// is written.
	if r := t.putSockaddr(s.names.program(sa[:min(int(l), len(sa))]), t.arg(1), t.arg(2)); r.errno != 0 {
		unix.Close(nfd)
		return r
	}
	return s.installFD(t, nfd, nil, flags&unix.SOCK_CLOEXEC != 0)
}

// orContinue lets the kernel run the call, or fails it with err.
func orContinue(err error) result {
	if err != nil {
		return fail(toErrno(err))
	}
	return contin()
}

// recvUnix receives on the Sentry's copy fd into buf and ctl, never
// waiting inside the call (receive): the length the call returned, its
// msghdr (name length, control length, flags) and the sender's name. The
// Sentry's copies of passed descriptors are close-on-exec; the caller's
// get its MSG_CMSG_CLOEXEC (passControl).
func recvUnix(t *task, fd, flags int, buf, ctl []byte) (int, msghdr, []byte, error) {
	var sa [128]byte
	var m msghdr
	got := 0
	err := whenReady(t, fd, toTake, flags&unix.MSG_DONTWAIT != 0, false, func() error {
		var err error
		got, m, err = msgCall(unix.SYS_RECVMSG, fd, flags|unix.MSG_DONTWAIT|unix.MSG_CMSG_CLOEXEC, sa[:], buf, ctl)
		return err
	})
	return got, m, sa[:min(int(m.Namelen), len(sa))], err
}

// recvfrom with an address to fill.
func (s *sentry) sysRecvfrom(t *task) result {
	flags := t.argInt(3)
	if flags&unix.MSG_WAITALL != 0 {
		return contin() // a stream's partial data would be lost to a signal
	}
	fd, mine, err := s.peerNamed(t, t.argInt(0))
	if err != nil || !mine {
		return orContinue(err)
	}
	buf := make([]byte, min(t.arg(2), maxSend))
	got, _, name, err := recvUnix(t, fd, flags, buf, nil)
	if err != nil {
		return failOrGone(err)
	}
	// MSG_TRUNC: the datagram's length, beyond the buffer.
	if err := t.write(t.arg(1), buf[:min(got, len(buf))]); err != nil {
		return fail(unix.EFAULT)
	}
	if r := t.putSockaddr(s.names.program(name), t.arg(4), t.arg(5)); r.errno != 0 {
		return r
	}
	return ok(int64(got))
}

// recvmsg: every call reaches the Sentry (the filter cannot see whether
// the msghdr asks for an address); those that need not be its go on.
func (s *sentry) sysRecvmsg(t *task) result {
	flags := t.argInt(2)
	if flags&(unix.MSG_WAITALL|unix.MSG_ERRQUEUE) != 0 || !s.names.any() {
		return contin()
	}
	hdr := t.arg(1)
	var h msghdr
	if err := readVal(t, hdr, &h); err != nil || h.Name == 0 || h.Iovlen > 1024 {
		return contin() // the kernel reports what is wrong with it
	}
	fd, mine, err := s.peerNamed(t, t.argInt(0))
	if err != nil || !mine {
		return orContinue(err)
	}
	iovs := make([]iovec, h.Iovlen)
	total := 0
	for i := range iovs {
		if iovs[i], err = t.iovecOf(h, uint64(i)); err != nil {
			return fail(unix.EFAULT)
		}
		total += int(min(iovs[i].Len, maxSend))
	}
	buf := make([]byte, min(total, maxSend))
	var ctl []byte
	if h.Control != 0 && h.Controllen > 0 {
		ctl = make([]byte, min(h.Controllen, 1<<16))
	}
	got, m, name, err := recvUnix(t, fd, flags, buf, ctl)
	if err != nil {
		return failOrGone(err)
	}
	data := buf[:min(got, len(buf))]
	for _, v := range iovs {
		if len(data) == 0 {
			break
		}
		n := min(int(min(v.Len, maxSend)), len(data))
		if err := t.write(v.Base, data[:n]); err != nil {
			s.closeControl(ctl[:m.Controllen])
			return fail(unix.EFAULT)
		}
		data = data[n:]
	}
	ctlOut, trunc := s.passControl(t, ctl[:m.Controllen], flags&unix.MSG_CMSG_CLOEXEC != 0)
	if trunc {
		m.Flags |= unix.MSG_CTRUNC
	}
	// The kernel's msg_flags start from the caller's MSG_CMSG_CLOEXEC.
	m.Flags = m.Flags&^unix.MSG_CMSG_CLOEXEC | int32(flags&unix.MSG_CMSG_CLOEXEC)
	if r := t.putSockaddr(s.names.program(name), h.Name, hdr+8); r.errno != 0 {
		return r
	}
	if err := t.write(h.Control, ctlOut); err != nil {
		return fail(unix.EFAULT)
	}
	h.Controllen, h.Flags = uint64(len(ctlOut)), m.Flags
	if writeVal(t, hdr+40, &h.Controllen) != nil || writeVal(t, hdr+48, &h.Flags) != nil {
		return fail(unix.EFAULT)
	}
	return ok(int64(got))
}

// passControl makes the control messages the Sentry received the
// caller's: each descriptor of SCM_RIGHTS installed in its table (the
// Sentry's copy closed), SCM_CREDENTIALS's pid the sandbox's. trunc: a
// descriptor did not fit in the caller's table, and was closed as the
// kernel does.
func (s *sentry) passControl(t *task, ctl []byte, cloexec bool) (out []byte, trunc bool) {
	msgs, err := unix.ParseSocketControlMessage(ctl)
	if err != nil {
		return ctl, false
	}
	for _, m := range msgs {
		data := m.Data
		switch {
		case m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_RIGHTS:
			var nums []byte
			for i := 0; i+4 <= len(data); i += 4 {
				fd := int(int32(binary.LittleEndian.Uint32(data[i:])))
				n, err := -1, error(nil)
				if !trunc {
					n, err = t.addFD(fd, -1, cloexec)
				}
				unix.Close(fd)
				if err != nil || trunc {
					trunc = true
					continue
				}
				nums = binary.LittleEndian.AppendUint32(nums, uint32(n))
			}
			if len(nums) == 0 {
				continue
			}
			data = nums
		case m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_CREDENTIALS && len(data) >= 4:
			data = append([]byte(nil), data...)
			pid := int(int32(binary.LittleEndian.Uint32(data)))
			binary.LittleEndian.PutUint32(data, uint32(s.virtualPid(pid)))
		}
		c := make([]byte, unix.CmsgSpace(len(data)))
		h := (*unix.Cmsghdr)(unsafe.Pointer(&c[0]))
		h.Level, h.Type = m.Header.Level, m.Header.Type
		h.SetLen(unix.CmsgLen(len(data)))
		copy(c[unix.CmsgLen(0):], data)
		out = append(out, c...)
	}
	return out, trunc
}

// closeControl closes the descriptors SCM_RIGHTS brought the Sentry.
func (s *sentry) closeControl(ctl []byte) {
	msgs, _ := unix.ParseSocketControlMessage(ctl)
	for _, m := range msgs {
		if fds, err := unix.ParseUnixRights(&m); err == nil {
			for _, fd := range fds {
				unix.Close(fd)
			}
		}
	}
}
