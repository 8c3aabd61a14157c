package sandbox

import (
	"encoding/binary"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SO_PEERCRED. The kernel records who connected a unix socket or made a
// socket pair: the Sentry, which does both for the workload. So the Sentry
// notes, by socket inode, the sandbox process it made each for, and answers
// getsockopt(SO_PEERCRED) with that process's sandbox pid and effective
// ids; a peer that called listen itself is reported as the kernel has it,
// translated to the sandbox's numbers and identities.

type peerRecord struct {
	vpid     int32
	uid, gid uint32
}

type peerTable struct {
	mu sync.Mutex
	m  map[uint64]peerRecord
}

// notePeer records the caller as the maker of the sockets fds.
func (s *sentry) notePeer(t *task, fds ...int) {
	_, vpid, err := t.nsIDs()
	if err != nil {
		return
	}
	c := s.caller(t)
	rec := peerRecord{vpid: int32(vpid), uid: c.euid, gid: c.egid}
	s.peers.mu.Lock()
	defer s.peers.mu.Unlock()
	if s.peers.m == nil || len(s.peers.m) > 1<<16 {
		s.peers.m = map[uint64]peerRecord{} // forget old sockets rather than grow
	}
	for _, fd := range fds {
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil {
			s.peers.m[st.Ino] = rec
		}
	}
}

func (s *sentry) peer(ino uint64) (peerRecord, bool) {
	s.peers.mu.Lock()
	defer s.peers.mu.Unlock()
	r, ok := s.peers.m[ino]
	return r, ok
}

const overflowID = 65534

// unixPeerInode asks the kernel (sock_diag) for the inode of the socket at
// the other end of unix socket ino.
func unixPeerInode(ino uint64) (uint64, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	const (
		sockDiagByFamily = 20
		udiagShowPeer    = 4
		unixDiagPeer     = 2
	)
	req := struct {
		hdr      unix.NlMsghdr
		family   uint8
		protocol uint8
		pad      uint16
		states   uint32
		ino      uint32
		show     uint32
		cookie   [2]uint32
	}{
		hdr:    unix.NlMsghdr{Type: sockDiagByFamily, Flags: unix.NLM_F_REQUEST, Seq: 1},
		family: unix.AF_UNIX, states: 0xffffffff, ino: uint32(ino), show: udiagShowPeer,
		cookie: [2]uint32{0xffffffff, 0xffffffff},
	}
	req.hdr.Len = uint32(unsafe.Sizeof(req))
	b := unsafe.Slice((*byte)(unsafe.Pointer(&req)), unsafe.Sizeof(req))
	if err := unix.Sendto(fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, err
	}
	buf := make([]byte, 4096)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return 0, err
	}
	msgs, err := syscall.ParseNetlinkMessage(buf[:n])
	if err != nil || len(msgs) == 0 || msgs[0].Header.Type != sockDiagByFamily {
		return 0, unix.ENOENT
	}
	data := msgs[0].Data
	const diagMsgSize = 16 // struct unix_diag_msg
	for off := diagMsgSize; off+4 <= len(data); {
		l := int(binary.LittleEndian.Uint16(data[off:]))
		typ := binary.LittleEndian.Uint16(data[off+2:])
		if l < 4 || off+l > len(data) {
			break
		}
		if typ == unixDiagPeer && l >= 8 {
			return uint64(binary.LittleEndian.Uint32(data[off+4:])), nil
		}
		off += (l + 3) &^ 3
	}
	return 0, unix.ENOENT
}
