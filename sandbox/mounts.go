package sandbox

import (
	"path"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// What the kernel's walk ended on. checkReal must know whether a file is
// runx's (under /dev/.runx) or in the real procfs (a symlink led there):
// the file's path tells, but reading it (/proc/self/fd/N) costs more than
// the rest of a stat. Whether a mount is procfs, and whether every file on
// it lies outside /dev/.runx, never changes, so checkReal learns it from the
// first file it finds on a mount and keeps it by the mount's unique id
// (statx STATX_MNT_ID_UNIQUE, Linux 6.8, never reused); the file's path is
// then read only when something asks for it (node.where). Never kept: the
// mount that holds /dev/.runx itself (the container's /dev, whose other
// files are the workload's), and runx's own mounts (their files are
// refused each time). Without unique ids every file's path is read.

type mountKind uint8

const (
	mountUnknown mountKind = iota
	mountPlain             // files of the workload's
	mountProc              // a procfs: its files are the Sentry's /proc
)

// fileID names an inode: its device and number.
type fileID struct {
	major, minor uint32
	ino          uint64
}

func idOf(stx *unix.Statx_t) fileID {
	return fileID{stx.Dev_major, stx.Dev_minor, stx.Ino}
}

type mountKinds struct {
	once  sync.Once
	root  fileID // the container's root
	dev   fileID // the container's /dev
	runx  fileID // /dev/.runx
	mixed uint64 // unique id of the mount holding /dev/.runx (0: unknown)

	mu    sync.RWMutex
	kinds map[uint64]mountKind
}

// statNode fills n.stx, with the mount's unique id when the kernel has them.
func statNode(n *node) error {
	err := unix.Statx(n.fd, "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW,
		unix.STATX_BASIC_STATS|unix.STATX_MNT_ID_UNIQUE, &n.stx)
	n.hasStx = err == nil
	return err
}

// learn finds /dev and /dev/.runx under the root, once.
func (m *mountKinds) learn(root int) {
	m.once.Do(func() {
		m.kinds = map[uint64]mountKind{}
		var stx unix.Statx_t
		if unix.Statx(root, "", unix.AT_EMPTY_PATH, unix.STATX_BASIC_STATS, &stx) == nil {
			m.root = idOf(&stx)
		}
		if unix.Statx(root, "dev", unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS, &stx) == nil {
			m.dev = idOf(&stx)
		}
		if unix.Statx(root, "dev/.runx", unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS|unix.STATX_MNT_ID_UNIQUE, &stx) == nil {
			m.runx = idOf(&stx)
			if stx.Mask&unix.STATX_MNT_ID_UNIQUE != 0 {
				m.mixed = stx.Mnt_id
			}
		}
	})
}

// uniqueMount is n's mount id when it is a unique one, else 0.
func uniqueMount(n *node) uint64 {
	if n.hasStx && n.stx.Mask&unix.STATX_MNT_ID_UNIQUE != 0 {
		return n.stx.Mnt_id
	}
	return 0
}

func (m *mountKinds) kind(n *node) mountKind {
	id := uniqueMount(n)
	if id == 0 || id == m.mixed || m.mixed == 0 {
		return mountUnknown
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.kinds[id]
}

func (m *mountKinds) keep(n *node, k mountKind) {
	id := uniqueMount(n)
	if id == 0 || id == m.mixed || m.mixed == 0 {
		return
	}
	m.mu.Lock()
	m.kinds[id] = k
	m.mu.Unlock()
}

// checkReal makes sure a descriptor the kernel resolved is not runx's and,
// should a symlink have led into /proc, hands over to the Sentry's /proc.
func (s *sentry) checkReal(t *task, fd int, abs string, follow bool, depth int) (*node, error) {
	n := &node{fd: fd}
	fail := func(err error) (*node, error) {
		unix.Close(fd)
		return nil, err
	}
	if err := statNode(n); err != nil {
		return fail(err)
	}
	s.mounts.learn(s.root)
	if idOf(&n.stx) == s.mounts.runx {
		return fail(unix.ENOENT)
	}
	k := s.mounts.kind(n)
	if k == mountPlain {
		return n, nil
	}
	canon, err := rawFDPath(fd)
	if err != nil {
		return fail(err)
	}
	n.path = canon
	if k == mountUnknown {
		if hidden(path.Clean(canon)) {
			return fail(unix.ENOENT)
		}
		var fs unix.Statfs_t
		if err := unix.Fstatfs(fd, &fs); err != nil {
			return fail(err)
		}
		k = mountPlain
		if fs.Type == procSuper {
			k = mountProc
		}
		s.mounts.keep(n, k)
	}
	if k == mountProc {
		unix.Close(fd)
		if p, ok := s.viaLink(abs); ok {
			return s.resolve(t, p, follow, depth+1)
		}
		if canon == "/proc" || strings.HasPrefix(canon, "/proc/") {
			// A symlink led into the real procfs: the same path in the
			// Sentry's (pid numbers taken as the sandbox's).
			return s.resolve(t, canon, follow, depth+1)
		}
		return nil, unix.ENOENT
	}
	return n, nil
}

// isDevDir tells whether n is the container's /dev.
func (s *sentry) isDevDir(n *node) bool {
	if n.v != nil || n.fd < 0 {
		return false
	}
	if !n.hasStx && statNode(n) != nil {
		return false
	}
	s.mounts.learn(s.root)
	return idOf(&n.stx) == s.mounts.dev
}

// viaLink is abs with its first symlink replaced by the link's target, for
// a walk the kernel ended in the real procfs: the Sentry follows the link
// itself, so that /proc/self (and any pid) in it is read as the caller's
// and the sandbox's, which the kernel's walk, in the Sentry's own procfs,
// would read as the Sentry's.
func (s *sentry) viaLink(abs string) (string, bool) {
	if !strings.HasPrefix(abs, "/") {
		return "", false
	}
	comps := strings.Split(abs, "/")
	dir := "/" // free of symlinks: ".." after it is lexical
	for i, c := range comps {
		if c == "" || c == "." {
			continue
		}
		p := path.Join(dir, c)
		fd, err := s.openat2(s.root, p, unix.O_PATH|unix.O_NOFOLLOW, 0, resolveFlags)
		if err != nil {
			return "", false
		}
		target, err := readlinkAt(fd, "")
		unix.Close(fd)
		if err == nil {
			if !strings.HasPrefix(target, "/") {
				target = dir + "/" + target
			}
			return path.Join(append([]string{target}, comps[i+1:]...)...), true
		}
		dir = p
	}
	return "", false
}
