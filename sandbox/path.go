package sandbox

import (
	"fmt"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// Paths. The Sentry resolves every path the workload names itself, under its
// O_PATH descriptor of the container's root, with openat2 and
// RESOLVE_IN_ROOT ("/" and ".." stop at the root, absolute symlinks start
// there) and RESOLVE_NO_MAGICLINKS (no /proc magic link leads anywhere).
// /proc is the Sentry's own (proc.go); /dev/.runx, where runx keeps its
// files, does not exist for the workload.

const (
	resolveFlags = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS
	maxSymlinks  = 40
	procSuper    = 0x9fa0 // PROC_SUPER_MAGIC
)

// node is what a path leads to: a real file, by an O_PATH descriptor the
// Sentry owns, or a file of the Sentry's /proc.
type node struct {
	fd   int    // O_PATH descriptor of a real file; -1 for a virtual one
	path string // the sandbox path it was found at ("": not read yet, see where)
	v    *vnode
	// stx is the real file's statx (with its mount's id) when hasStx.
	stx    unix.Statx_t
	hasStx bool
}

// where is the sandbox path of n, read from the Sentry's descriptor of a
// real file when checkReal did not need it (mounts.go).
func (n *node) where() string {
	if n.path == "" && n.fd >= 0 {
		n.path, _ = rawFDPath(n.fd)
	}
	return n.path
}

func (n *node) close() {
	if n != nil && n.fd >= 0 {
		unix.Close(n.fd)
		n.fd = -1
	}
}

// openat2 retries on EAGAIN, which RESOLVE_IN_ROOT returns when a rename
// raced with the walk.
func (s *sentry) openat2(dirfd int, p string, flags int, mode uint32, resolve uint64) (int, error) {
	flags |= unix.O_CLOEXEC
	if flags&unix.O_PATH == 0 {
		flags |= unix.O_NOCTTY // openat2 takes nothing else with O_PATH
	}
	how := unix.OpenHow{Flags: uint64(flags), Resolve: resolve}
	if flags&(unix.O_CREAT|unix.O_TMPFILE) != 0 {
		how.Mode = uint64(mode)
	}
	for i := 0; ; i++ {
		fd, err := unix.Openat2(dirfd, p, &how)
		if (err == unix.EAGAIN || err == unix.EINTR) && i < 100 {
			continue
		}
		return fd, err
	}
}

// base is the directory a relative path starts from: the caller's working
// directory, or the directory its descriptor dirfd names.
func (t *task) base(dirfd int) (string, error) {
	if t == nil {
		return "", unix.EBADF
	}
	if dirfd == unix.AT_FDCWD {
		return t.cwd()
	}
	fd, err := t.getFD(dirfd)
	if err != nil {
		return "", err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return "", err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return "", unix.ENOTDIR
	}
	return t.s.fdPath(fd)
}

// absPath makes p absolute: relative paths hang under the base directory.
// It keeps every component (".." and symlinks are for the walk to resolve).
func (s *sentry) absPath(t *task, dirfd int, p string) (string, error) {
	if strings.HasPrefix(p, "/") {
		return p, nil
	}
	var b string
	var err error
	if t == nil {
		b = s.opts.cwd
	} else {
		b, err = t.base(dirfd)
	}
	if err != nil {
		return "", err
	}
	if b == "/" {
		return "/" + p, nil
	}
	return b + "/" + p, nil
}

// virtualPath tells whether an absolute sandbox path is one the Sentry
// walks itself (see resolve): /proc, /dev/fd, /dev/stdin, stdout, stderr.
func virtualPath(abs string) bool {
	c := path.Clean(abs)
	if c == "/proc" || strings.HasPrefix(c, "/proc/") || c == "/dev/fd" || strings.HasPrefix(c, "/dev/fd/") {
		return true
	}
	switch c {
	case "/dev/stdin", "/dev/stdout", "/dev/stderr":
		return true
	}
	return strings.HasPrefix(c, "/dev/stdin/") || strings.HasPrefix(c, "/dev/stdout/") || strings.HasPrefix(c, "/dev/stderr/")
}

// hidden tells whether a clean sandbox path is runx's, not the workload's.
func hidden(clean string) bool {
	return clean == "/dev/.runx" || strings.HasPrefix(clean, "/dev/.runx/")
}

// lookup resolves p (relative to dirfd) to a node. follow says whether a
// symlink in the last component is followed.
func (s *sentry) lookup(t *task, dirfd int, p string, follow bool) (*node, error) {
	if p == "" {
		return nil, unix.ENOENT
	}
	if n, err, done := s.lookupBeneath(t, dirfd, p, follow); done {
		return n, err
	}
	abs, err := s.absPath(t, dirfd, p)
	if err != nil {
		return nil, err
	}
	return s.resolve(t, abs, follow, 0)
}

// lookupBeneath resolves a relative path from the directory itself, without
// reading its path: under RESOLVE_BENEATH the kernel refuses any ".." above
// it and any absolute symlink (EXDEV), and magic links, so the walk stays in
// a directory the Sentry resolved, as a walk from the root stays in it under
// RESOLVE_IN_ROOT; the file found is checked as any other (checkReal). done
// is false when the path must take the walk from the root: it leaves the
// directory, or the directory is not known to be an ordinary one of the
// workload's (the root, /dev, /proc's listings, a kernel without unique
// mount ids).
func (s *sentry) lookupBeneath(t *task, dirfd int, p string, follow bool) (n *node, err error, done bool) {
	if t == nil || strings.HasPrefix(p, "/") {
		return nil, nil, false
	}
	dir, err := t.dirFD(dirfd)
	if err != nil {
		return nil, nil, false // the walk from the root says what is wrong
	}
	// Not from the root either, where a relative walk could enter the
	// Sentry's own /proc, which the walk from the root takes to the
	// sandbox's.
	d := &node{fd: dir}
	s.mounts.learn(s.root)
	if statNode(d) != nil || d.stx.Mode&unix.S_IFMT != unix.S_IFDIR || s.mounts.kind(d) != mountPlain || idOf(&d.stx) == s.mounts.root {
		return nil, nil, false
	}
	if strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.") || p == "." {
		follow = true
	}
	flags := unix.O_PATH
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	fd, err := s.openat2(dir, p, flags, 0, unix.RESOLVE_BENEATH|unix.RESOLVE_NO_MAGICLINKS)
	switch err {
	case nil:
	case unix.EXDEV, unix.ELOOP:
		return nil, nil, false
	default:
		return nil, err, true
	}
	n, err = s.checkReal(t, fd, p, follow, 0)
	return n, err, true
}

// lookupEmpty is lookup where an empty path (with AT_EMPTY_PATH) names
// dirfd itself.
func (s *sentry) lookupEmpty(t *task, dirfd int, p string, flags int, follow bool) (*node, error) {
	if p == "" && flags&unix.AT_EMPTY_PATH != 0 {
		fd, err := t.dirFD(dirfd)
		if err != nil {
			return nil, err
		}
		c, err := unix.Dup(fd)
		if err != nil {
			return nil, err
		}
		unix.CloseOnExec(c)
		p, _ := rawFDPath(c)
		if link, ok := standInLink(p); ok {
			// The link itself, found again (fstatat, readlinkat...).
			unix.Close(c)
			return s.lookup(t, unix.AT_FDCWD, link, false)
		}
		return &node{fd: c, path: s.shownPath(p)}, nil
	}
	return s.lookup(t, dirfd, p, follow)
}

// pathNode resolves the path the caller passed at addr (see lookupEmpty).
func (s *sentry) pathNode(t *task, addr uint64, dirfd, flags int, follow bool) (*node, error) {
	p, err := t.readPath(addr)
	if err != nil {
		return nil, err
	}
	return s.lookupEmpty(t, dirfd, p, flags, follow)
}

// resolve walks an absolute sandbox path. A path that starts in /proc (or
// in /dev/fd, /dev/std*) is walked by the Sentry, ".." included; any other
// by the kernel under the root, and the result checked (checkReal).
func (s *sentry) resolve(t *task, abs string, follow bool, depth int) (*node, error) {
	if depth > maxSymlinks {
		return nil, unix.ELOOP
	}
	if strings.HasSuffix(abs, "/") || strings.HasSuffix(abs, "/.") {
		follow = true // "link/" is the directory the link leads to
	}
	if hidden(path.Clean(abs)) {
		return nil, unix.ENOENT // what the kernel finds there is checked again
	}
	var comps []string
	for _, c := range strings.Split(abs, "/") {
		if c != "" && c != "." {
			comps = append(comps, c)
		}
	}
	rest := func(from int) string {
		if from >= len(comps) {
			return ""
		}
		return "/" + strings.Join(comps[from:], "/")
	}
	switch {
	case len(comps) >= 1 && comps[0] == "proc":
		return s.procResolve(t, comps[1:], follow, depth)
	case len(comps) >= 2 && comps[0] == "dev" && comps[1] == "fd":
		if len(comps) == 2 && !follow {
			// A symlink, as the container's /dev has it (lstat, readlink).
			return &node{fd: -1, path: "/dev/fd", v: &vnode{kind: vLink, target: "/proc/self/fd"}}, nil
		}
		return s.resolve(t, "/proc/self/fd"+rest(2), follow, depth+1)
	case len(comps) >= 2 && comps[0] == "dev" && (comps[1] == "stdin" || comps[1] == "stdout" || comps[1] == "stderr"):
		fd := map[string]string{"stdin": "0", "stdout": "1", "stderr": "2"}[comps[1]]
		if len(comps) == 2 && !follow {
			return &node{fd: -1, path: "/dev/" + comps[1], v: &vnode{kind: vLink, target: "/proc/self/fd/" + fd}}, nil
		}
		return s.resolve(t, "/proc/self/fd/"+fd+rest(2), follow, depth+1)
	}
	flags := unix.O_PATH
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	fd, err := s.openat2(s.root, abs, flags, 0, resolveFlags)
	if err != nil {
		return nil, err
	}
	return s.checkReal(t, fd, abs, follow, depth)
}

// parent resolves all of p but its last component, which it returns: what
// makes, removes or renames a name works on a directory and a name in it,
// so that no symlink in the last component is ever followed.
func (s *sentry) parent(t *task, dirfd int, p string) (*node, string, error) {
	if p == "" {
		return nil, "", unix.ENOENT
	}
	abs, err := s.absPath(t, dirfd, p)
	if err != nil {
		return nil, "", err
	}
	trimmed := strings.TrimRight(abs, "/")
	if trimmed == "" {
		return nil, "", unix.EBUSY // the root itself
	}
	i := strings.LastIndexByte(trimmed, '/')
	dir, name := trimmed[:i], trimmed[i+1:]
	if dir == "" {
		dir = "/"
	}
	if name == "." || name == ".." {
		return nil, "", unix.EINVAL
	}
	if len(name) > 255 {
		return nil, "", unix.ENAMETOOLONG
	}
	n, err := s.resolve(t, dir, true, 0)
	if err != nil {
		return nil, "", err
	}
	if n.v != nil {
		return nil, "", unix.EACCES // /proc and the like make nothing
	}
	if name == ".runx" && s.isDevDir(n) {
		n.close()
		return nil, "", unix.ENOENT
	}
	return n, name, nil
}

// reopen opens a node's file again with real open flags, through the
// Sentry's own /proc/self/fd link to its O_PATH descriptor: the inode that
// was resolved is the one opened, whatever has been renamed since.
func reopen(fd int, flags int) (int, error) {
	// O_TMPFILE's own bit, not O_DIRECTORY, which it includes: that one
	// is the caller's check that fd is a directory (ENOTDIR).
	flags &^= unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_TMPFILE&^unix.O_DIRECTORY
	return unix.Open(fmt.Sprintf("/proc/self/fd/%d", fd), flags|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
}

// openDir opens a sandbox directory for the Sentry itself (the first
// process's working directory).
func (s *sentry) openDir(p string) (int, error) {
	n, err := s.resolve(nil, p, true, 0)
	if err != nil {
		return -1, err
	}
	if n.v != nil {
		return -1, unix.ENOTDIR
	}
	var st unix.Stat_t
	if err := unix.Fstat(n.fd, &st); err != nil {
		n.close()
		return -1, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		n.close()
		return -1, unix.ENOTDIR
	}
	return n.fd, nil
}
