package sandbox

import (
	"bytes"
	"encoding/binary"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Unix socket names. The Sentry binds a workload's socket to
// /proc/self/fd/N/NAME, N its descriptor of the directory it resolved, so
// that the kernel never walks the program's path; the kernel then reports
// that string as the socket's name. unixNames keeps, for every socket so
// bound, the path the program gave, and N open while the name lives (so the
// string names one socket, and reaches it when handed back to connect or
// sendto). getsockname and getpeername report the program's path, and so do
// accept, recvfrom and recvmsg for a peer's address (sys_socket_recv.go).

type boundName struct {
	via, path string
	dir       int
}

// drop undoes a bind that did not happen.
func (b *boundName) drop() {
	if b != nil {
		unix.Close(b.dir)
	}
}

type unixNames struct {
	mu    sync.Mutex
	byVia map[string]*boundName
}

// keep records a name the kernel took, after forgetting those no socket of
// the container's network namespace has any more (/proc/net/unix).
func (u *unixNames) keep(b *boundName) {
	if b == nil {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.byVia == nil {
		u.byVia = map[string]*boundName{}
	}
	if len(u.byVia) > 0 {
		live := boundPaths()
		for via, old := range u.byVia {
			if live != nil && !live[via] {
				unix.Close(old.dir)
				delete(u.byVia, via)
			}
		}
	}
	u.byVia[b.via] = b
}

// any tells whether the Sentry may have bound a name that is still in use.
func (u *unixNames) any() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.byVia) > 0
}

func (u *unixNames) known(via string) bool {
	_, ok := u.pathOf(via)
	return ok
}

// pathOf is the program's path for a name the Sentry bound.
func (u *unixNames) pathOf(via string) (string, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if b := u.byVia[via]; b != nil {
		return b.path, true
	}
	return "", false
}

// program is sa with a name the Sentry bound replaced by the program's path.
func (u *unixNames) program(sa []byte) []byte {
	if len(sa) < 3 || binary.LittleEndian.Uint16(sa) != unix.AF_UNIX || sa[2] == 0 {
		return sa
	}
	via := sa[2:]
	if i := bytes.IndexByte(via, 0); i >= 0 {
		via = via[:i]
	}
	p, ok := u.pathOf(string(via))
	if !ok {
		return sa
	}
	out := make([]byte, 2+len(p)+1)
	binary.LittleEndian.PutUint16(out, unix.AF_UNIX)
	copy(out[2:], p)
	return out
}

// boundPaths is the set of names of the unix sockets of the Sentry's
// network namespace (nil when it cannot be read).
func boundPaths() map[string]bool {
	data, err := os.ReadFile("/proc/net/unix")
	if err != nil {
		return nil
	}
	live := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n")[1:] {
		// Num RefCount Protocol Flags Type St Inode Path
		if f := strings.Fields(line); len(f) >= 8 {
			live[strings.Join(f[7:], " ")] = true
		}
	}
	return live
}
