package sandbox

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// task is the calling thread of one notification, with what the Sentry
// learns about it while it serves the call.
type task struct {
	s         *sentry
	listener  int
	n         *seccompNotif
	tid       int // in the Sentry's pid namespace
	tgid      int
	pidfd     int
	held      []int           // the Sentry's descriptors to close when the call is served
	worn      **creds         // on a listener's own thread: the identity it wears (see asCredsWorn)
	claimCall func(bool) bool // set by watchSignals (claim)
}

func newTask(s *sentry, listener int, n *seccompNotif) *task {
	return &task{s: s, listener: listener, n: n, tid: int(n.Pid), pidfd: -1}
}

func (t *task) nr() int            { return int(t.n.Data.Nr) }
func (t *task) arg(i int) uint64   { return t.n.Data.Args[i] }
func (t *task) argInt(i int) int   { return int(int32(uint32(t.n.Data.Args[i]))) }
func (t *task) argUint(i int) uint { return uint(uint32(t.n.Data.Args[i])) }

// inline tells whether the call is being served on its listener's own
// thread (a quick call), where nothing may wait.
func (t *task) inline() bool { return t.worn != nil }

// claim keeps a signal from ending the caller's wait while the handler
// does what cannot be undone (takes a message or a connection the caller
// must get); false: a signal already has, and the handler must leave
// things as they are. unclaim ends the claim.
func (t *task) claim() bool { return t.claimCall == nil || t.claimCall(true) }
func (t *task) unclaim() {
	if t.claimCall != nil {
		t.claimCall(false)
	}
}

// release closes what the Sentry holds for the call (again: nothing).
func (t *task) release() {
	if t.pidfd >= 0 {
		unix.Close(t.pidfd)
		t.pidfd = -1
	}
	for _, fd := range t.held {
		unix.Close(fd)
	}
	t.held = nil
}

// hold closes fd before the call is answered (see handleOn).
func (t *task) hold(fd int) int {
	t.held = append(t.held, fd)
	return fd
}

// hostTgid is the process of host thread tid (tid itself when it cannot be
// read).
func hostTgid(tid int) int {
	if v, err := procStatusField(tid, "Tgid"); err == nil {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return tid
}

// procStatusField is one field of /proc/PID/status, trimmed, without
// reading the others into a map: for the fields a call reads on its path.
func procStatusField(pid int, key string) (string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(statusField(string(b), key)), nil
}

// status reads /proc/TID/status into a map.
func procStatus(pid int) (map[string]string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m, nil
}

// lastField is the last number of a status line such as "NSpid:	57	3".
func lastField(v string) int {
	f := strings.Fields(v)
	if len(f) == 0 {
		return -1
	}
	n, err := strconv.Atoi(f[len(f)-1])
	if err != nil {
		return -1
	}
	return n
}

// ids is a task's identity in the workload's pid namespace.
type ids struct {
	vtid, vpid, vppid int
	hostPid, hostPPid int
	nsLevels          int
}

// ids reads the caller's pids: the workload's pid namespace is one level
// below the Sentry's, so its numbers are the last of NSpid and NStgid.
func (t *task) ids() (ids, error) {
	st, err := procStatus(t.tid)
	if err != nil {
		return ids{}, unix.ESRCH
	}
	var r ids
	r.vtid, r.vpid = lastField(st["NSpid"]), lastField(st["NStgid"])
	r.hostPid, _ = strconv.Atoi(st["Tgid"])
	r.hostPPid, _ = strconv.Atoi(st["PPid"])
	r.nsLevels = len(strings.Fields(st["NSpid"]))
	r.vppid = 0
	if r.hostPPid > 0 {
		if pst, err := procStatus(r.hostPPid); err == nil && len(strings.Fields(pst["NStgid"])) == r.nsLevels {
			r.vppid = lastField(pst["NStgid"])
		}
	}
	if !t.valid() {
		return ids{}, unix.ESRCH
	}
	t.tgid = r.hostPid
	return r, nil
}

// nsIDs is the caller's thread and process ids in the sandbox: what ids()
// gives without the parent's, from one read of its status.
func (t *task) nsIDs() (vtid, vpid int, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(t.tid) + "/status")
	if err != nil {
		return 0, 0, unix.ESRCH
	}
	vtid, vpid = lastField(statusField(string(b), "NSpid")), lastField(statusField(string(b), "NStgid"))
	if vtid < 0 || vpid < 0 || !t.valid() {
		return 0, 0, unix.ESRCH
	}
	return vtid, vpid, nil
}

// getTgid is the caller's process id in the Sentry's pid namespace.
func (t *task) getTgid() (int, error) {
	if t.tgid > 0 {
		return t.tgid, nil
	}
	v, err := procStatusField(t.tid, "Tgid")
	if err != nil {
		return 0, unix.ESRCH
	}
	t.tgid, _ = strconv.Atoi(v)
	return t.tgid, nil
}

// pidFD is a pidfd of the caller's process, checked to be the caller's.
func (t *task) pidFD() (int, error) {
	if t.pidfd >= 0 {
		return t.pidfd, nil
	}
	// The caller's own tid names its process when it is the leader (every
	// single-threaded program), and names the thread on Linux 6.9
	// (PIDFD_THREAD), whose descriptors are its process's: no /proc read.
	fd, err := unix.PidfdOpen(t.tid, 0)
	if err != nil {
		fd, err = unix.PidfdOpen(t.tid, pidfdThread)
	}
	if err != nil {
		tgid, terr := t.getTgid()
		if terr != nil {
			return -1, terr
		}
		if fd, err = unix.PidfdOpen(tgid, 0); err != nil {
			return -1, unix.ESRCH
		}
	}
	if !t.valid() {
		unix.Close(fd)
		return -1, unix.ESRCH
	}
	t.pidfd = fd
	return fd, nil
}

// reserved tells whether fd is one of the two numbers the Sentry keeps in
// every workload process (cwdFD, execFD); a process whose soft limit it
// raised above them has descriptors of its own beyond.
func (s *sentry) reserved(fd int) bool { return fd == s.cwdFD || fd == s.execFD }

// getFD copies the caller's descriptor fd into the Sentry (closed when the
// call is served). The reserved descriptors are not the workload's.
func (t *task) getFD(fd int) (int, error) {
	if fd < 0 || t.s.reserved(fd) {
		return -1, unix.EBADF
	}
	return t.getFDAny(fd)
}

// dirFD copies the directory a *at call starts from: the caller's
// descriptor dirfd, or its working directory for AT_FDCWD.
func (t *task) dirFD(dirfd int) (int, error) {
	if dirfd == unix.AT_FDCWD {
		return t.getFDAny(t.s.cwdFD)
	}
	return t.getFD(dirfd)
}

func (t *task) getFDAny(fd int) (int, error) {
	pfd, err := t.pidFD()
	if err != nil {
		return -1, err
	}
	c, err := unix.PidfdGetfd(pfd, fd, 0)
	if err != nil {
		if err == unix.EBADF {
			return -1, unix.EBADF
		}
		return -1, err
	}
	return t.hold(c), nil
}

// read copies n bytes at addr out of the caller's memory.
func (t *task) read(addr uint64, n int) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	b := make([]byte, n)
	if err := t.readInto(addr, b); err != nil {
		return nil, err
	}
	return b, nil
}

// readInto fills b from the caller's memory at addr.
func (t *task) readInto(addr uint64, b []byte) error {
	return t.transfer(addr, b, unix.ProcessVMReadv)
}

// write copies b into the caller's memory at addr.
func (t *task) write(addr uint64, b []byte) error {
	return t.transfer(addr, b, unix.ProcessVMWritev)
}

// transfer copies all of b between the Sentry and the caller's memory at
// addr with process_vm_readv or process_vm_writev (rw).
func (t *task) transfer(addr uint64, b []byte, rw func(int, []unix.Iovec, []unix.RemoteIovec, uint) (int, error)) error {
	if len(b) == 0 {
		return nil
	}
	local := []unix.Iovec{{Base: &b[0], Len: uint64(len(b))}}
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(b)}}
	got, err := rw(t.tid, local, remote, 0)
	if err != nil || got != len(b) {
		return unix.EFAULT
	}
	return nil
}

// writeVal writes a fixed-size value (a struct with no pointers).
func writeVal[T any](t *task, addr uint64, v *T) error {
	return t.write(addr, unsafe.Slice((*byte)(unsafe.Pointer(v)), unsafe.Sizeof(*v)))
}

// readVal reads a fixed-size value (a struct with no pointers).
func readVal[T any](t *task, addr uint64, v *T) error {
	return t.readInto(addr, unsafe.Slice((*byte)(unsafe.Pointer(v)), unsafe.Sizeof(*v)))
}

const pageSize = 4096

// readString reads a NUL-terminated string of at most max bytes, page by
// page so that the end of a mapping stops nothing before the NUL.
func (t *task) readString(addr uint64, max int) (string, error) {
	if addr == 0 {
		return "", unix.EFAULT
	}
	// Most strings end within a few hundred bytes: those are read into
	// the stack, not a page.
	var first [256]byte
	n := min(len(first), pageSize-int(addr%pageSize))
	if err := t.readInto(addr, first[:n]); err != nil {
		return "", err
	}
	if i := bytes.IndexByte(first[:n], 0); i >= 0 {
		if i > max {
			return "", unix.ENAMETOOLONG
		}
		return string(first[:i]), nil
	}
	out := append([]byte(nil), first[:n]...)
	addr += uint64(n)
	for len(out) <= max {
		n := pageSize - int(addr%pageSize)
		b, err := t.read(addr, n)
		if err != nil {
			return "", err
		}
		if i := bytes.IndexByte(b, 0); i >= 0 {
			out = append(out, b[:i]...)
			if len(out) > max {
				break
			}
			return string(out), nil
		}
		out = append(out, b...)
		addr += uint64(n)
	}
	return "", unix.ENAMETOOLONG
}

// readPath reads a path argument (PATH_MAX bytes with its NUL).
func (t *task) readPath(addr uint64) (string, error) {
	p, err := t.readString(addr, unix.PathMax-1)
	if err == unix.ENAMETOOLONG {
		return "", unix.ENAMETOOLONG
	}
	return p, err
}

// readStrings reads a NULL-terminated array of string pointers (argv, envp),
// with the kernel's limits on their number and total size.
func (t *task) readStrings(addr uint64) ([]string, error) {
	if addr == 0 {
		return nil, nil
	}
	const maxStrings = 0x7fffffff / 8
	var out []string
	total := 0
	for i := 0; i < maxStrings; i++ {
		b, err := t.read(addr+uint64(8*i), 8)
		if err != nil {
			return nil, err
		}
		p := binary.LittleEndian.Uint64(b)
		if p == 0 {
			return out, nil
		}
		s, err := t.readString(p, maxArgStrlen)
		if err != nil {
			if err == unix.ENAMETOOLONG {
				return nil, unix.E2BIG
			}
			return nil, err
		}
		total += len(s) + 1 + 8
		if total > maxArgTotal {
			return nil, unix.E2BIG
		}
		out = append(out, s)
	}
	return nil, unix.E2BIG
}

// fdPath is where the Sentry's descriptor fd leads, as the workload names it.
func (s *sentry) fdPath(fd int) (string, error) {
	p, err := rawFDPath(fd)
	if err != nil {
		return "", err
	}
	return s.shownPath(p), nil
}

// shownPath is the workload's name for p, the path of a descriptor of the
// Sentry's: a scratch directory's /proc path, a symlink stand-in's link.
func (s *sentry) shownPath(p string) string {
	if v, ok := s.scratch.virtualPath(p); ok {
		return v
	}
	if link, ok := standInLink(p); ok {
		return link
	}
	return p
}

// rawFDPath is the path of the Sentry's descriptor fd under its root.
func rawFDPath(fd int) (string, error) {
	return os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
}

// cwd is the caller's working directory, kept in its reserved descriptor.
func (t *task) cwd() (string, error) {
	fd, err := t.getFDAny(t.s.cwdFD)
	if err != nil {
		return "/", nil // closed by hand: the root, as after a chroot
	}
	p, err := t.s.fdPath(fd)
	if err != nil || !strings.HasPrefix(p, "/") {
		return "", unix.ENOENT
	}
	if strings.HasSuffix(p, " (deleted)") {
		// Removed: getcwd fails, and relative paths lead nowhere (not
		// to a directory named "x (deleted)").
		var st unix.Stat_t
		if unix.Fstat(fd, &st) != nil || st.Nlink == 0 {
			return "", unix.ENOENT
		}
	}
	return p, nil
}

// trimNul cuts a C string.
func trimNul(b []byte) string {
	s := string(b)
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}
