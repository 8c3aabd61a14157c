package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"path"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// scratchDirs are real directories on the Sentry's private tmpfs that stand
// for the directories of its /proc: a descriptor of one is what the workload
// holds after opening such a directory, so that getdents64 on it lists the
// entries, by the host kernel, with nothing to emulate. Each is made once
// for a given path and listing, and the Sentry maps it back to its path.
type scratchDirs struct {
	mu     sync.Mutex
	fd     int
	byName map[string]string
}

func (sc *scratchDirs) init() error {
	sc.byName = map[string]string{}
	fd, err := unix.Open(scratchPath, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		sc.fd = -1
		return nil // no listing of /proc, nothing else lost
	}
	sc.fd = fd
	return nil
}

// dir returns an O_PATH descriptor of the directory standing for vpath.
func (sc *scratchDirs) dir(vpath string, entries []dirent) (int, error) {
	if sc.fd < 0 {
		return -1, unix.EOPNOTSUPP
	}
	h := sha256.New()
	h.Write([]byte(vpath))
	for _, e := range entries {
		h.Write([]byte{0, byte(e.kind)})
		h.Write([]byte(e.name))
	}
	name := hex.EncodeToString(h.Sum(nil))[:32]
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if _, ok := sc.byName[name]; !ok {
		mode := uint32(0o555)
		if path.Base(vpath) == "fd" {
			mode = 0o500 // as the kernel's /proc/PID/fd
		}
		if err := sc.make(name, entries, mode); err != nil {
			return -1, err
		}
		sc.byName[name] = vpath
	}
	return unix.Openat(sc.fd, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
}

func (sc *scratchDirs) make(name string, entries []dirent, mode uint32) error {
	tmp := name + ".new"
	_ = removeAll(sc.fd, tmp)
	if err := unix.Mkdirat(sc.fd, tmp, 0o755); err != nil {
		return err
	}
	d, err := unix.Openat(sc.fd, tmp, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(d)
	seen := map[string]bool{}
	// tmpfs lists a directory newest first: make the entries last to first.
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if seen[e.name] || e.name == "" || strings.ContainsRune(e.name, '/') {
			continue
		}
		seen[e.name] = true
		switch e.kind {
		case vDir:
			err = unix.Mkdirat(d, e.name, 0o555)
		case vLink, vFD:
			err = unix.Symlinkat("/", d, e.name)
		default:
			var fd int
			fd, err = unix.Openat(d, e.name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o444)
			if err == nil {
				unix.Close(fd)
			}
		}
		if err != nil {
			return err
		}
	}
	if err := unix.Fchmodat(sc.fd, tmp, mode, 0); err != nil {
		return err
	}
	return unix.Renameat(sc.fd, tmp, sc.fd, name)
}

// removeAll removes a scratch directory of one level.
func removeAll(dirfd int, name string) error {
	d, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	buf := make([]byte, 8192)
	for {
		n, err := unix.Getdents(d, buf)
		if err != nil || n <= 0 {
			break
		}
		_, _, names := unix.ParseDirent(buf[:n], -1, nil)
		for _, e := range names {
			if unix.Unlinkat(d, e, 0) != nil {
				_ = unix.Unlinkat(d, e, unix.AT_REMOVEDIR)
			}
		}
	}
	unix.Close(d)
	return unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR)
}

// virtualPath maps a scratch directory's real path back to the path it
// stands for.
func (sc *scratchDirs) virtualPath(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, scratchPath+"/")
	if !ok {
		return "", false
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	v, ok := sc.byName[rest]
	return v, ok
}
