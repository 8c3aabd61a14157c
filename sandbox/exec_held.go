package sandbox

import (
	"sync"

	"golang.org/x/sys/unix"
)

// Programs no path leads to (a memfd, a deleted file) that an exec ran
// through their ELF interpreter. The interpreter opens the program by the
// path it is given, so it is given heldExecPath, /proc/self/exe, which the
// Sentry's /proc answers with the file it holds for that process: its
// readlink is the kernel's name for the file ("/memfd:x (deleted)"), and
// following it opens the file, as the kernel's /proc/PID/exe does.

const heldExecPath = "/proc/self/exe"

type heldExec struct {
	fd, pidfd int // the program (any open mode) and its process
	name      string
}

// heldExecs are the held programs by host process id.
type heldExecs struct {
	mu sync.Mutex
	m  map[int]heldExec
}

// put holds fd (taking it) for process tgid, replacing what an earlier
// exec of it held; entries of processes that have exited go.
func (h *heldExecs) put(tgid, fd int, name string) error {
	pidfd, err := unix.PidfdOpen(tgid, 0)
	if err != nil {
		unix.Close(fd)
		return err
	}
	unix.CloseOnExec(pidfd)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = map[int]heldExec{}
	}
	for pid, e := range h.m {
		if pid == tgid || exited(e.pidfd) {
			e.close()
			delete(h.m, pid)
		}
	}
	h.m[tgid] = heldExec{fd: fd, pidfd: pidfd, name: name}
	return nil
}

// drop forgets what put held for tgid (an exec that did not happen).
func (h *heldExecs) drop(tgid int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e, ok := h.m[tgid]; ok {
		e.close()
		delete(h.m, tgid)
	}
}

// exe is /proc/PID/exe of host process or thread host when it runs a held
// program: a link named as the kernel names the file, leading to it.
func (s *sentry) heldExe(t *task, host int) (*vnode, bool) {
	tgid := hostTgid(host)
	h := &s.held
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.m[tgid]
	if !ok || exited(e.pidfd) {
		return nil, false
	}
	c, err := unix.FcntlInt(uintptr(e.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	v, _ := s.fdVnode(t, c, e.name) // named: no error
	return v, true
}

func (e heldExec) close() {
	unix.Close(e.fd)
	unix.Close(e.pidfd)
}

// exited tells whether a pidfd's process has exited (its pidfd is readable).
func exited(pidfd int) bool {
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n > 0
}
