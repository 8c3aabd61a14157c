package sandbox

import (
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// File system calls. Each resolves its paths with lookup or parent and then
// acts on the Sentry's descriptors; a new descriptor reaches the workload
// through SECCOMP_IOCTL_NOTIF_ADDFD.

// nodeOpen opens a node with the workload's open flags and returns the
// Sentry's descriptor to hand over.
func (s *sentry) nodeOpen(t *task, n *node, flags int) (int, error) {
	acc := flags & unix.O_ACCMODE
	if n.v != nil {
		switch n.v.kind {
		case vFile:
			if acc != unix.O_RDONLY && n.v.writeTo != "" {
				if flags&unix.O_DIRECTORY != 0 {
					return -1, unix.ENOTDIR
				}
				return unix.Open(n.v.writeTo, flags&(unix.O_ACCMODE|unix.O_NONBLOCK|unix.O_APPEND)|unix.O_CLOEXEC, 0)
			}
			if acc != unix.O_RDONLY || flags&unix.O_TRUNC != 0 {
				if strings.HasPrefix(n.path, "/proc/sys/") {
					return -1, unix.EROFS // as the engines' read-only /proc/sys
				}
				return -1, unix.EACCES
			}
			if flags&unix.O_DIRECTORY != 0 {
				return -1, unix.ENOTDIR
			}
			return memFile(n.v.data)
		case vDir:
			if acc != unix.O_RDONLY {
				return -1, unix.EISDIR
			}
			d, err := s.scratch.dir(n.path, n.v.entries)
			if err != nil {
				return -1, err
			}
			defer unix.Close(d)
			return reopen(d, unix.O_RDONLY|unix.O_DIRECTORY|flags&unix.O_NONBLOCK)
		default:
			return -1, unix.ELOOP
		}
	}
	if flags&unix.O_PATH != 0 {
		// ADDFD cannot pass an O_PATH descriptor: a read-only one stands in.
		var st unix.Stat_t
		if err := unix.Fstat(n.fd, &st); err != nil {
			return -1, err
		}
		if flags&unix.O_DIRECTORY != 0 && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return -1, unix.ENOTDIR // ln -sf tells a directory apart so
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			return linkStandIn(n)
		case unix.S_IFDIR:
			return reopen(n.fd, unix.O_RDONLY|unix.O_DIRECTORY)
		case unix.S_IFREG:
			return reopen(n.fd, unix.O_RDONLY)
		case unix.S_IFIFO, unix.S_IFCHR:
			// Without waiting for a writer or a device (glibc's lchmod
			// opens O_PATH to chmod through /proc/self/fd: mkfifo -m).
			return reopen(n.fd, unix.O_RDONLY|unix.O_NONBLOCK)
		}
		return -1, unix.EOPNOTSUPP
	}
	if acc == unix.O_RDONLY && s.isDevDir(n) {
		// The container's /dev as listed, without runx's .runx.
		return s.devDir(n, flags)
	}
	var st unix.Stat_t
	statErr := unix.Fstat(n.fd, &st)
	if statErr == nil && flags&unix.O_NOFOLLOW != 0 && st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return -1, unix.ELOOP
	}
	if statErr == nil && isDevTTY(&st) {
		if t.inline() {
			return -1, errMayWait // a terminal's open may wait (a modem's carrier)
		}
		return s.openCtty(t, flags)
	}
	if !t.inline() {
		return reopen(n.fd, flags)
	}
	if statErr != nil {
		return -1, statErr
	}
	if mayWait(st.Mode, st.Rdev) {
		return -1, errMayWait
	}
	// The reopen is of the inode just looked at: its type holds.
	return openNoWait(t, flags, false, func(flags int) (int, error) { return reopen(n.fd, flags) })
}

// linkStandInName starts the name of the memfd that stands in for an
// O_PATH descriptor of a symlink (open(O_PATH|O_NOFOLLOW), glibc's lchmod),
// which ADDFD cannot pass: the rest of the name is the link's path, so that
// a call on the descriptor with an empty path (fstatat, readlinkat,
// fchownat with AT_EMPTY_PATH) acts on the link, found again by that path
// (lookupEmpty), and /proc/PID/fd shows the path (fdPath). A workload that
// makes such a memfd itself names a path it could look up anyway.
const linkStandInName = "runx-link:"

// linkStandIn makes the stand-in for the symlink n: an empty sealed memfd,
// read-only.
func linkStandIn(n *node) (int, error) {
	name := linkStandInName + n.where()
	if len(name) > 249 { // memfd_create's limit
		return -1, unix.ELOOP
	}
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return -1, err
	}
	defer unix.Close(fd)
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SEAL|unix.F_SEAL_WRITE|unix.F_SEAL_GROW|unix.F_SEAL_SHRINK); err != nil {
		return -1, err
	}
	return reopen(fd, unix.O_RDONLY)
}

// standInLink is the path of the link a descriptor whose path is p stands
// in for.
func standInLink(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, "/memfd:"+linkStandInName)
	if !ok || !strings.HasSuffix(rest, " (deleted)") {
		return "", false
	}
	return strings.TrimSuffix(rest, " (deleted)"), true
}

// devDir opens a stand-in for /dev whose listing has no .runx.
func (s *sentry) devDir(n *node, flags int) (int, error) {
	d, err := reopen(n.fd, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return -1, err
	}
	f := os.NewFile(uintptr(d), "/dev")
	es, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return -1, err
	}
	var entries []dirent
	for _, e := range es {
		if e.Name() == ".runx" {
			continue
		}
		k := vFile
		switch {
		case e.IsDir():
			k = vDir
		case e.Type()&os.ModeSymlink != 0:
			k = vLink
		}
		entries = append(entries, dirent{e.Name(), k})
	}
	sd, err := s.scratch.dir("/dev", entries)
	if err != nil {
		return reopen(n.fd, flags) // no scratch space: the real one
	}
	defer unix.Close(sd)
	return reopen(sd, unix.O_RDONLY|unix.O_DIRECTORY|flags&unix.O_NONBLOCK)
}

// memFile is a read-only descriptor of a file holding data.
func memFile(data []byte) (int, error) {
	fd, err := unix.MemfdCreate("runx-proc", unix.MFD_CLOEXEC)
	if err != nil {
		return -1, err
	}
	defer unix.Close(fd)
	for len(data) > 0 {
		n, err := unix.Write(fd, data)
		if err != nil {
			return -1, err
		}
		data = data[n:]
	}
	return reopen(fd, unix.O_RDONLY)
}

// open flags the Sentry passes on; others are refused.
const openFlagsKnown = unix.O_ACCMODE | unix.O_CREAT | unix.O_EXCL | unix.O_NOCTTY | unix.O_TRUNC |
	unix.O_APPEND | unix.O_NONBLOCK | unix.O_DSYNC | unix.O_ASYNC | unix.O_DIRECT | unix.O_LARGEFILE |
	unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_NOATIME | unix.O_CLOEXEC | unix.O_SYNC | unix.O_PATH | unix.O_TMPFILE

// doOpen is open, openat and openat2: it returns the Sentry's descriptor.
func (s *sentry) doOpen(t *task, dirfd int, p string, flags int, mode uint32) (int, error) {
	if p == "" {
		return -1, unix.ENOENT
	}
	// Only a new file takes the mode (reading the umask costs a /proc read).
	if flags&(unix.O_CREAT|unix.O_TMPFILE) != 0 {
		mode = mode & 0o7777 &^ uint32(t.umask())
	}
	switch {
	case flags&unix.O_TMPFILE == unix.O_TMPFILE:
		n, err := s.lookup(t, dirfd, p, true)
		if err != nil {
			return -1, err
		}
		defer n.close()
		if n.v != nil {
			return -1, unix.EOPNOTSUPP
		}
		return s.openat2(n.fd, ".", flags&^unix.O_NOCTTY, mode, 0)
	case flags&unix.O_CREAT != 0:
		return s.openCreate(t, dirfd, p, flags, mode)
	}
	n, err := s.lookup(t, dirfd, p, flags&unix.O_NOFOLLOW == 0)
	if err != nil {
		return -1, err
	}
	defer n.close()
	return s.nodeOpen(t, n, flags)
}

// openCreate opens with O_CREAT: the last component is opened in its
// checked parent without following it, and a symlink there is followed by
// the Sentry, as the kernel would, through its own walk.
func (s *sentry) openCreate(t *task, dirfd int, p string, flags int, mode uint32) (int, error) {
	if strings.HasSuffix(p, "/") {
		return -1, unix.EISDIR
	}
	for i := 0; i < maxSymlinks; i++ {
		if abs, err := s.absPath(t, dirfd, p); err == nil && virtualPath(abs) {
			// /proc and /dev/fd, /dev/std*: nothing is made there, but an
			// existing file opens (echo > /dev/stderr, tee /dev/stdout).
			if flags&unix.O_EXCL != 0 {
				return -1, unix.EEXIST
			}
			n, err := s.lookup(t, unix.AT_FDCWD, abs, flags&unix.O_NOFOLLOW == 0)
			if err != nil {
				return -1, err
			}
			defer n.close()
			return s.nodeOpen(t, n, flags&^unix.O_CREAT)
		}
		dir, name, err := s.parent(t, dirfd, p)
		if err != nil {
			if err == unix.EBUSY || err == unix.EINVAL {
				return -1, unix.EISDIR
			}
			return -1, err
		}
		// Not following the name by RESOLVE_NO_SYMLINKS rather than
		// O_NOFOLLOW, which would stay in the file's flags (F_GETFL,
		// fdinfo) where the program did not ask for it.
		// What may wait goes on off the listener's thread, /dev/tty there.
		var st unix.Stat_t
		if unix.Fstatat(dir.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil {
			switch {
			case t.inline() && mayWait(st.Mode, st.Rdev):
				dir.close()
				return -1, errMayWait
			case isDevTTY(&st):
				dir.close()
				if flags&unix.O_EXCL != 0 {
					return -1, unix.EEXIST
				}
				return s.openCtty(t, flags&^unix.O_CREAT)
			}
		}
		fd, err := openNoWait(t, flags, true, func(flags int) (int, error) {
			return s.openat2(dir.fd, name, flags, mode, unix.RESOLVE_BENEATH|unix.RESOLVE_NO_MAGICLINKS|unix.RESOLVE_NO_SYMLINKS)
		})
		if err == unix.ELOOP && flags&(unix.O_NOFOLLOW|unix.O_EXCL) == 0 {
			target, rerr := readlinkAt(dir.fd, name)
			base := dir.where()
			dir.close()
			if rerr != nil {
				return -1, unix.ELOOP
			}
			if strings.HasPrefix(target, "/") {
				p = target
			} else {
				p = strings.TrimRight(base, "/") + "/" + target
			}
			dirfd = unix.AT_FDCWD
			continue
		}
		dir.close()
		return fd, err
	}
	return -1, unix.ELOOP
}

func readlinkAt(dirfd int, name string) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(dirfd, name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// umask is the caller's, which the host kernel keeps (umask passes through).
func (t *task) umask() int {
	v, err := procStatusField(t.tid, "Umask")
	if err != nil {
		return 0o022
	}
	m, err := strconv.ParseUint(v, 8, 32)
	if err != nil {
		return 0o022
	}
	return int(m)
}

// installFD hands the Sentry's descriptor fd to the caller as the result of
// its call.
func (s *sentry) installFD(t *task, fd int, err error, cloexec bool) result {
	if err != nil {
		return fail(toErrno(err))
	}
	defer unix.Close(fd)
	r, err := t.giveFD(fd, -1, cloexec)
	if err != nil {
		if err == unix.EMFILE || err == unix.EBADF {
			return fail(unix.EMFILE)
		}
		return done() // the caller is gone
	}
	return r
}

func (s *sentry) sysOpen(t *task) result {
	return s.openCommon(t, unix.AT_FDCWD, t.arg(0), t.argInt(1), uint32(t.arg(2)))
}

func (s *sentry) sysCreat(t *task) result {
	return s.openCommon(t, unix.AT_FDCWD, t.arg(0), unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC, uint32(t.arg(1)))
}

func (s *sentry) sysOpenat(t *task) result {
	return s.openCommon(t, t.argInt(0), t.arg(1), t.argInt(2), uint32(t.arg(3)))
}

func (s *sentry) openCommon(t *task, dirfd int, addr uint64, flags int, mode uint32) result {
	p, err := t.readPath(addr)
	if err != nil {
		return fail(toErrno(err))
	}
	flags &= openFlagsKnown
	fd, err := s.doOpen(t, dirfd, p, flags, mode)
	if err == errMayWait {
		return later(func() result { return s.openCommon(t, dirfd, addr, flags, mode) })
	}
	s.debugf("[%d] open(%q, %#x) = %d %v", t.tid, p, flags, fd, err)
	return s.installFD(t, fd, err, flags&unix.O_CLOEXEC != 0)
}

// Opens are served on the listener's thread (quick), which must never
// wait: a FIFO, a device (but the memory ones: null, zero, random...), a
// socket, or a file under another process's lease, is opened on a
// goroutine instead (errMayWait, then later). The listener's open of a
// real file adds O_NONBLOCK, so that a lease fails it rather than waits,
// and takes it off again (openNoWait).
var errMayWait = errors.New("the open may wait")

// mayWait tells whether opening a file of this type and device may wait.
func mayWait(mode uint32, rdev uint64) bool {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG, unix.S_IFDIR, unix.S_IFLNK:
		return false
	case unix.S_IFCHR:
		return unix.Major(rdev) != 1 // /dev/null, zero, full, random, urandom, mem...
	}
	return true
}

// openNoWait opens through open on the listener's thread: with O_NONBLOCK,
// given back after, when the caller did not ask for it; errMayWait when
// the open would have waited, or (check) opened a file of a type that may
// wait, one made there since the name was looked at.
func openNoWait(t *task, flags int, check bool, open func(flags int) (int, error)) (int, error) {
	if !t.inline() || flags&unix.O_NONBLOCK != 0 {
		return open(flags)
	}
	fd, err := open(flags | unix.O_NONBLOCK)
	switch {
	case err == unix.EWOULDBLOCK || err == unix.ENXIO:
		return -1, errMayWait
	case err != nil:
		return -1, err
	}
	if check {
		var st unix.Stat_t
		if unix.Fstat(fd, &st) != nil || mayWait(st.Mode, st.Rdev) {
			unix.Close(fd)
			return -1, errMayWait
		}
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, flags&(unix.O_APPEND|unix.O_DIRECT|unix.O_NOATIME)); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func (s *sentry) sysOpenat2(t *task) result {
	var how unix.OpenHow
	size := t.arg(3)
	if size < uint64(unsafe.Sizeof(how)) {
		return fail(unix.EINVAL)
	}
	if err := readVal(t, t.arg(2), &how); err != nil {
		return fail(unix.EFAULT)
	}
	if how.Flags&^uint64(openFlagsKnown) != 0 || how.Mode&^0o7777 != 0 {
		return fail(unix.EINVAL)
	}
	if how.Resolve != 0 {
		// RESOLVE_* narrow the walk; the Sentry's walk is narrower than the
		// host's already, but these are not emulated one by one yet.
		s.logOnce("openat2-resolve", "openat2 with RESOLVE flags %#x: not supported, returning ENOSYS", how.Resolve)
		return fail(unix.ENOSYS)
	}
	return s.openCommon(t, t.argInt(0), t.arg(1), int(how.Flags), uint32(how.Mode))
}

// Stat.

// nodeStat is stat of a node (symlinks in the last component as resolved).
func (s *sentry) nodeStat(n *node) (unix.Stat_t, error) {
	var st unix.Stat_t
	if n.v == nil {
		if n.hasStx && n.stx.Mask&unix.STATX_BASIC_STATS == unix.STATX_BASIC_STATS {
			return statOf(&n.stx), nil // what checkReal found
		}
		err := unix.Fstatat(n.fd, "", &st, unix.AT_EMPTY_PATH)
		return st, err
	}
	if n.v.kind == vDir {
		if d, err := s.scratch.dir(n.path, n.v.entries); err == nil {
			err = unix.Fstatat(d, "", &st, unix.AT_EMPTY_PATH)
			unix.Close(d)
			if err == nil {
				st.Uid, st.Gid = s.opts.uid, s.opts.gid
				return st, nil
			}
		}
	}
	h := fnv.New64a()
	h.Write([]byte(n.path))
	now := time.Now()
	ts := unix.NsecToTimespec(now.UnixNano())
	st = unix.Stat_t{Ino: h.Sum64(), Nlink: 1, Uid: s.opts.uid, Gid: s.opts.gid, Blksize: 1024,
		Atim: ts, Mtim: ts, Ctim: ts, Dev: 0x16}
	switch n.v.kind {
	case vDir:
		st.Mode, st.Nlink = unix.S_IFDIR|0o555, 2
	case vFile:
		st.Mode = unix.S_IFREG | 0o444
		if n.v.writeTo != "" {
			st.Mode |= 0o200
		}
	case vFD:
		// As procfs shows a descriptor: the owner's bits follow its open mode.
		st.Mode = unix.S_IFLNK
		if n.v.ns {
			st.Mode |= 0o777
		} else if fl, err := unix.FcntlInt(uintptr(n.v.fd), unix.F_GETFL, 0); err == nil {
			if fl&unix.O_ACCMODE != unix.O_WRONLY {
				st.Mode |= 0o500
			}
			if fl&unix.O_ACCMODE != unix.O_RDONLY {
				st.Mode |= 0o300
			}
		}
	default:
		st.Mode = unix.S_IFLNK | 0o777
		if strings.HasPrefix(n.path, "/dev/") {
			// /dev/fd and /dev/std*: tmpfs symlinks in the container's /dev,
			// whose size is their target's length (procfs's are 0).
			st.Size = int64(len(n.v.target))
		}
	}
	return st, nil
}

// statPath is stat, lstat and fstatat; an empty path with AT_EMPTY_PATH is
// fstat of dirfd.
func (s *sentry) statPath(t *task, dirfd int, addr uint64, flags int) (unix.Stat_t, error) {
	p, err := t.readPath(addr)
	if err != nil {
		return unix.Stat_t{}, err
	}
	n, err := s.lookupEmpty(t, dirfd, p, flags, flags&unix.AT_SYMLINK_NOFOLLOW == 0)
	if err != nil {
		return unix.Stat_t{}, err
	}
	defer n.close()
	return s.nodeStat(n)
}

func (s *sentry) statReply(t *task, st unix.Stat_t, err error, buf uint64) result {
	if err != nil {
		return fail(toErrno(err))
	}
	if err := writeVal(t, buf, &st); err != nil {
		return fail(unix.EFAULT)
	}
	return ok(0)
}

func (s *sentry) sysStat(t *task) result {
	st, err := s.statPath(t, unix.AT_FDCWD, t.arg(0), 0)
	return s.statReply(t, st, err, t.arg(1))
}

func (s *sentry) sysLstat(t *task) result {
	st, err := s.statPath(t, unix.AT_FDCWD, t.arg(0), unix.AT_SYMLINK_NOFOLLOW)
	return s.statReply(t, st, err, t.arg(1))
}

func (s *sentry) sysNewfstatat(t *task) result {
	flags := t.argInt(3)
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH|unix.AT_NO_AUTOMOUNT) != 0 {
		return fail(unix.EINVAL)
	}
	st, err := s.statPath(t, t.argInt(0), t.arg(1), flags)
	return s.statReply(t, st, err, t.arg(2))
}

func (s *sentry) sysStatx(t *task) result {
	dirfd, flags, mask := t.argInt(0), t.argInt(2), uint32(t.arg(3))
	n, err := s.pathNode(t, t.arg(1), dirfd, flags, flags&unix.AT_SYMLINK_NOFOLLOW == 0)
	if err != nil {
		return fail(toErrno(err))
	}
	defer n.close()
	var stx unix.Statx_t
	if n.v == nil {
		sync := flags & 0x6000 // AT_STATX_SYNC_TYPE
		if err := unix.Statx(n.fd, "", unix.AT_EMPTY_PATH|sync, int(mask), &stx); err != nil {
			return fail(toErrno(err))
		}
	} else {
		st, _ := s.nodeStat(n)
		stx = statxOf(&st)
	}
	if err := writeVal(t, t.arg(4), &stx); err != nil {
		return fail(unix.EFAULT)
	}
	return ok(0)
}

// statOf is stat's view of a statx (as the kernel's cp_new_stat makes it).
func statOf(x *unix.Statx_t) unix.Stat_t {
	ts := func(t unix.StatxTimestamp) unix.Timespec {
		return unix.Timespec{Sec: t.Sec, Nsec: int64(t.Nsec)}
	}
	return unix.Stat_t{Dev: unix.Mkdev(x.Dev_major, x.Dev_minor), Ino: x.Ino, Nlink: uint64(x.Nlink),
		Mode: uint32(x.Mode), Uid: x.Uid, Gid: x.Gid, Rdev: unix.Mkdev(x.Rdev_major, x.Rdev_minor),
		Size: int64(x.Size), Blksize: int64(x.Blksize), Blocks: int64(x.Blocks),
		Atim: ts(x.Atime), Mtim: ts(x.Mtime), Ctim: ts(x.Ctime)}
}

func statxOf(st *unix.Stat_t) unix.Statx_t {
	ts := func(t unix.Timespec) unix.StatxTimestamp {
		return unix.StatxTimestamp{Sec: t.Sec, Nsec: uint32(t.Nsec)}
	}
	return unix.Statx_t{Mask: unix.STATX_BASIC_STATS, Blksize: uint32(st.Blksize), Nlink: uint32(st.Nlink),
		Uid: st.Uid, Gid: st.Gid, Mode: uint16(st.Mode), Ino: st.Ino, Size: uint64(st.Size),
		Blocks: uint64(st.Blocks), Atime: ts(st.Atim), Ctime: ts(st.Ctim), Mtime: ts(st.Mtim),
		Dev_major: unix.Major(st.Dev), Dev_minor: unix.Minor(st.Dev)}
}

func (s *sentry) sysStatfs(t *task) result {
	n, err := s.pathNode(t, t.arg(0), unix.AT_FDCWD, 0, true)
	if err != nil {
		return fail(toErrno(err))
	}
	defer n.close()
	var fs unix.Statfs_t
	if n.v != nil {
		fs = unix.Statfs_t{Type: procSuper, Bsize: 4096, Namelen: 255, Frsize: 4096}
	} else if err := unix.Fstatfs(n.fd, &fs); err != nil {
		return fail(toErrno(err))
	}
	if err := writeVal(t, t.arg(1), &fs); err != nil {
		return fail(unix.EFAULT)
	}
	return ok(0)
}

// Access.

func (s *sentry) access(t *task, dirfd int, addr uint64, mode, flags int) result {
	if mode&^7 != 0 || flags&^(unix.AT_EACCESS|unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return fail(unix.EINVAL)
	}
	n, err := s.pathNode(t, addr, dirfd, flags, flags&unix.AT_SYMLINK_NOFOLLOW == 0)
	if err != nil {
		return fail(toErrno(err))
	}
	defer n.close()
	if n.v != nil {
		if mode&unix.W_OK != 0 && n.v.writeTo == "" {
			return fail(unix.EACCES)
		}
		if mode&unix.X_OK != 0 && n.v.kind == vFile {
			return fail(unix.EACCES)
		}
		return ok(0)
	}
	err = unix.Faccessat2(n.fd, "", uint32(mode), unix.AT_EMPTY_PATH|flags&unix.AT_EACCESS)
	return orFail(err, 0)
}

func (s *sentry) sysAccess(t *task) result {
	return s.access(t, unix.AT_FDCWD, t.arg(0), t.argInt(1), 0)
}
func (s *sentry) sysFaccessat(t *task) result {
	return s.access(t, t.argInt(0), t.arg(1), t.argInt(2), 0)
}
func (s *sentry) sysFaccessat2(t *task) result {
	return s.access(t, t.argInt(0), t.arg(1), t.argInt(2), t.argInt(3))
}

// Symlinks.

func (s *sentry) nodeReadlink(n *node) (string, error) {
	if n.v != nil {
		switch n.v.kind {
		case vLink:
			return n.v.target, nil
		case vFD:
			return n.v.fdPath, nil
		}
		return "", unix.EINVAL
	}
	var st unix.Stat_t
	if err := unix.Fstatat(n.fd, "", &st, unix.AT_EMPTY_PATH); err != nil {
		return "", err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		return "", unix.EINVAL
	}
	return readlinkAt(n.fd, "")
}

func (s *sentry) readlink(t *task, dirfd int, addr, buf uint64, size int) result {
	if size <= 0 {
		return fail(unix.EINVAL)
	}
	n, err := s.pathNode(t, addr, dirfd, unix.AT_EMPTY_PATH, false)
	if err != nil {
		return fail(toErrno(err))
	}
	defer n.close()
	target, err := s.nodeReadlink(n)
	if err != nil {
		return fail(toErrno(err))
	}
	b := []byte(target)
	if len(b) > size {
		b = b[:size]
	}
	if err := t.write(buf, b); err != nil {
		return fail(unix.EFAULT)
	}
	return ok(int64(len(b)))
}

func (s *sentry) sysReadlink(t *task) result {
	return s.readlink(t, unix.AT_FDCWD, t.arg(0), t.arg(1), t.argInt(2))
}

func (s *sentry) sysReadlinkat(t *task) result {
	return s.readlink(t, t.argInt(0), t.arg(1), t.arg(2), t.argInt(3))
}

// Working directory.

func (s *sentry) sysGetcwd(t *task) result {
	p, err := t.cwd()
	if err != nil {
		return fail(toErrno(err))
	}
	b := append([]byte(p), 0)
	if uint64(len(b)) > t.arg(1) {
		return fail(unix.ERANGE)
	}
	if err := t.write(t.arg(0), b); err != nil {
		return fail(unix.EFAULT)
	}
	return ok(int64(len(b)))
}

// setCwd puts a directory in the caller's reserved working-directory slot,
// which fork copies and exec keeps, as the kernel does with its own.
// (sysFchdir passes the caller's own descriptor, never an O_PATH one.)
func (s *sentry) setCwd(t *task, n *node) result {
	var fd int
	if n.v != nil {
		if n.v.kind != vDir {
			return fail(unix.ENOTDIR)
		}
		d, err := s.scratch.dir(n.path, n.v.entries)
		if err != nil {
			return fail(toErrno(err))
		}
		t.hold(d)
		if fd, err = reopen(d, unix.O_RDONLY|unix.O_DIRECTORY); err != nil {
			return fail(toErrno(err))
		}
		t.hold(fd)
	} else {
		var st unix.Stat_t
		if err := unix.Fstat(n.fd, &st); err != nil {
			return fail(toErrno(err))
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return fail(unix.ENOTDIR)
		}
		if err := unix.Faccessat2(n.fd, "", unix.X_OK, unix.AT_EMPTY_PATH); err != nil {
			return fail(toErrno(err))
		}
		// ADDFD takes no O_PATH descriptor: the directory must be readable.
		var err error
		if fd, err = reopen(n.fd, unix.O_RDONLY|unix.O_DIRECTORY); err != nil {
			return fail(toErrno(err))
		}
		t.hold(fd)
	}
	if err := t.addReserved(fd, s.cwdFD, false); err != nil {
		return fail(toErrno(err))
	}
	return ok(0)
}

func (s *sentry) sysChdir(t *task) result {
	n, err := s.pathNode(t, t.arg(0), unix.AT_FDCWD, 0, true)
	if err != nil {
		return fail(toErrno(err))
	}
	defer n.close()
	return s.setCwd(t, n)
}

func (s *sentry) sysFchdir(t *task) result {
	fd, err := t.getFD(t.argInt(0))
	if err != nil {
		return fail(toErrno(err))
	}
	p, _ := s.fdPath(fd)
	if p == "" {
		return fail(unix.ENOTDIR)
	}
	// A descriptor of one of the Sentry's /proc directories stands for its path.
	if strings.HasPrefix(p, "/proc") {
		n, err := s.resolve(t, p, true, 0)
		if err != nil {
			return fail(toErrno(err))
		}
		defer n.close()
		return s.setCwd(t, n)
	}
	return s.setCwd(t, &node{fd: fd, path: p})
}

func (s *sentry) sysChroot(t *task) result { return fail(unix.EPERM) }

// Names: make, remove, rename, link.

// newName resolves where a name is to be made: its parent directory and the
// name in it. Making "/", "." or ".." is EEXIST, as the kernel answers.
func (s *sentry) newName(t *task, dirfd int, p string) (*node, string, unix.Errno) {
	dir, name, err := s.parent(t, dirfd, p)
	if err != nil {
		if err == unix.EBUSY || err == unix.EINVAL {
			return nil, "", unix.EEXIST
		}
		return nil, "", toErrno(err)
	}
	return dir, name, 0
}

func (s *sentry) mkdir(t *task, dirfd int, addr uint64, mode uint32) result {
	p, err := t.readPath(addr)
	if err != nil {
		return fail(toErrno(err))
	}
	dir, name, e := s.newName(t, dirfd, p)
	if e != 0 {
		return fail(e)
	}
	defer dir.close()
	return orFail(unix.Mkdirat(dir.fd, name, mode&0o7777&^uint32(t.umask())), 0)
}

func (s *sentry) sysMkdir(t *task) result {
	return s.mkdir(t, unix.AT_FDCWD, t.arg(0), uint32(t.arg(1)))
}
func (s *sentry) sysMkdirat(t *task) result {
	return s.mkdir(t, t.argInt(0), t.arg(1), uint32(t.arg(2)))
}

func (s *sentry) mknod(t *task, dirfd int, addr uint64, mode uint32, dev uint64) result {
	switch mode & unix.S_IFMT {
	case 0, unix.S_IFREG, unix.S_IFIFO, unix.S_IFSOCK:
	case unix.S_IFCHR, unix.S_IFBLK:
		return fail(unix.EPERM)
	default:
		return fail(unix.EINVAL)
	}
	p, err := t.readPath(addr)
	if err != nil {
		return fail(toErrno(err))
	}
	dir, name, e := s.newName(t, dirfd, p)
	if e != 0 {
		return fail(e)
	}
	defer dir.close()
	perm := mode & 0o7777 &^ uint32(t.umask())
	return orFail(unix.Mknodat(dir.fd, name, mode&unix.S_IFMT|perm, 0), 0)
}

func (s *sentry) sysMknod(t *task) result {
	return s.mknod(t, unix.AT_FDCWD, t.arg(0), uint32(t.arg(1)), t.arg(2))
}
func (s *sentry) sysMknodat(t *task) result {
	return s.mknod(t, t.argInt(0), t.arg(1), uint32(t.arg(2)), t.arg(3))
}

func (s *sentry) unlink(t *task, dirfd int, addr uint64, flags int) result {
	if flags&^unix.AT_REMOVEDIR != 0 {
		return fail(unix.EINVAL)
	}
	p, err := t.readPath(addr)
	if err != nil {
		return fail(toErrno(err))
	}
	if flags&unix.AT_REMOVEDIR == 0 && strings.HasSuffix(p, "/") {
		// unlink("dir/") is EISDIR or ENOTDIR, never a removal.
		n, err := s.lookup(t, dirfd, p, true)
		if err != nil {
			return fail(toErrno(err))
		}
		n.close()
		return fail(unix.EISDIR)
	}
	dir, name, err := s.parent(t, dirfd, p)
	if err != nil {
		if err == unix.EBUSY {
			return fail(unix.EBUSY)
		}
		return fail(toErrno(err))
	}
	defer dir.close()
	return orFail(unix.Unlinkat(dir.fd, name, flags), 0)
}

func (s *sentry) sysUnlink(t *task) result { return s.unlink(t, unix.AT_FDCWD, t.arg(0), 0) }
func (s *sentry) sysRmdir(t *task) result {
	return s.unlink(t, unix.AT_FDCWD, t.arg(0), unix.AT_REMOVEDIR)
}
func (s *sentry) sysUnlinkat(t *task) result { return s.unlink(t, t.argInt(0), t.arg(1), t.argInt(2)) }

func (s *sentry) rename(t *task, olddir int, oldaddr uint64, newdir int, newaddr uint64, flags uint) result {
	op, err := t.readPath(oldaddr)
	if err != nil {
		return fail(toErrno(err))
	}
	np, err := t.readPath(newaddr)
	if err != nil {
		return fail(toErrno(err))
	}
	od, oname, err := s.parent(t, olddir, op)
	if err != nil {
		return fail(toErrno(err))
	}
	defer od.close()
	nd, nname, err := s.parent(t, newdir, np)
	if err != nil {
		return fail(toErrno(err))
	}
	defer nd.close()
	return orFail(unix.Renameat2(od.fd, oname, nd.fd, nname, flags), 0)
}

func (s *sentry) sysRename(t *task) result {
	return s.rename(t, unix.AT_FDCWD, t.arg(0), unix.AT_FDCWD, t.arg(1), 0)
}
func (s *sentry) sysRenameat(t *task) result {
	return s.rename(t, t.argInt(0), t.arg(1), t.argInt(2), t.arg(3), 0)
}
func (s *sentry) sysRenameat2(t *task) result {
	return s.rename(t, t.argInt(0), t.arg(1), t.argInt(2), t.arg(3), t.argUint(4))
}

func (s *sentry) symlink(t *task, taddr uint64, dirfd int, laddr uint64) result {
	target, err := t.readPath(taddr)
	if err != nil {
		return fail(toErrno(err))
	}
	if target == "" {
		return fail(unix.ENOENT)
	}
	lp, err := t.readPath(laddr)
	if err != nil {
		return fail(toErrno(err))
	}
	dir, name, e := s.newName(t, dirfd, lp)
	if e != 0 {
		return fail(e)
	}
	defer dir.close()
	return orFail(unix.Symlinkat(target, dir.fd, name), 0)
}

func (s *sentry) sysSymlink(t *task) result { return s.symlink(t, t.arg(0), unix.AT_FDCWD, t.arg(1)) }
func (s *sentry) sysSymlinkat(t *task) result {
	return s.symlink(t, t.arg(0), t.argInt(1), t.arg(2))
}

func (s *sentry) link(t *task, olddir int, oldaddr uint64, newdir int, newaddr uint64, flags int) result {
	if flags&^(unix.AT_SYMLINK_FOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return fail(unix.EINVAL)
	}
	op, err := t.readPath(oldaddr)
	if err != nil {
		return fail(toErrno(err))
	}
	np, err := t.readPath(newaddr)
	if err != nil {
		return fail(toErrno(err))
	}
	old, err := s.lookupEmpty(t, olddir, op, flags&unix.AT_EMPTY_PATH, flags&unix.AT_SYMLINK_FOLLOW != 0)
	if err != nil {
		return fail(toErrno(err))
	}
	defer old.close()
	if old.v != nil {
		return fail(unix.EXDEV)
	}
	nd, nname, e := s.newName(t, newdir, np)
	if e != 0 {
		return fail(e)
	}
	defer nd.close()
	var st unix.Stat_t
	if err := unix.Fstat(old.fd, &st); err != nil {
		return fail(toErrno(err))
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return fail(unix.EPERM)
	}
	// Through the Sentry's own magic link to the resolved inode, which
	// linkat follows with AT_SYMLINK_FOLLOW; a symlink itself is linked by
	// its parent and name.
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		od, oname, err := s.parent(t, olddir, op)
		if err != nil {
			return fail(toErrno(err))
		}
		defer od.close()
		return orFail(unix.Linkat(od.fd, oname, nd.fd, nname, 0), 0)
	}
	return orFail(unix.Linkat(unix.AT_FDCWD, fmt.Sprintf("/proc/self/fd/%d", old.fd), nd.fd, nname, unix.AT_SYMLINK_FOLLOW), 0)
}

func (s *sentry) sysLink(t *task) result {
	return s.link(t, unix.AT_FDCWD, t.arg(0), unix.AT_FDCWD, t.arg(1), 0)
}
func (s *sentry) sysLinkat(t *task) result {
	return s.link(t, t.argInt(0), t.arg(1), t.argInt(2), t.arg(3), t.argInt(4))
}

// Attributes.

func (s *sentry) chmod(t *task, dirfd int, addr uint64, mode uint32, flags int) result {
	n, err := s.pathNode(t, addr, dirfd, flags, flags&unix.AT_SYMLINK_NOFOLLOW == 0)
	if err != nil {
		return fail(toErrno(err))
	}
	defer n.close()
	if n.v != nil {
		return fail(unix.EPERM)
	}
	var st unix.Stat_t
	if err := unix.Fstat(n.fd, &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return fail(unix.EOPNOTSUPP)
	}
	return orFail(unix.Fchmodat(unix.AT_FDCWD, fmt.Sprintf("/proc/self/fd/%d", n.fd), mode&0o7777, 0), 0)
}

func (s *sentry) sysChmod(t *task) result {
	return s.chmod(t, unix.AT_FDCWD, t.arg(0), uint32(t.arg(1)), 0)
}
func (s *sentry) sysFchmodat(t *task) result {
	return s.chmod(t, t.argInt(0), t.arg(1), uint32(t.arg(2)), 0)
}
func (s *sentry) sysFchmodat2(t *task) result {
	return s.chmod(t, t.argInt(0), t.arg(1), uint32(t.arg(2)), t.argInt(3))
}

func (s *sentry) chown(t *task, dirfd int, addr uint64, uid, gid int, flags int) result {
	n, err := s.pathNode(t, addr, dirfd, flags, flags&unix.AT_SYMLINK_NOFOLLOW == 0)
	if err != nil {
		return fail(toErrno(err))
	}
	defer n.close()
	if n.v != nil {
		return fail(unix.EPERM)
	}
	return orFail(unix.Fchownat(n.fd, "", uid, gid, unix.AT_EMPTY_PATH), 0)
}

func (s *sentry) sysChown(t *task) result {
	return s.chown(t, unix.AT_FDCWD, t.arg(0), t.argInt(1), t.argInt(2), 0)
}
func (s *sentry) sysLchown(t *task) result {
	return s.chown(t, unix.AT_FDCWD, t.arg(0), t.argInt(1), t.argInt(2), unix.AT_SYMLINK_NOFOLLOW)
}
func (s *sentry) sysFchownat(t *task) result {
	return s.chown(t, t.argInt(0), t.arg(1), t.argInt(2), t.argInt(3), t.argInt(4))
}

// fchown and fchmod are the Sentry's: in the workload's user namespace
// the host kernel maps no uid, so it refuses any owner (EINVAL) and every
// capability over files the workload does not own (EPERM), where the
// namespace mode's process, and the Sentry, hold them.
func (s *sentry) sysFchown(t *task) result {
	fd, err := t.getFD(t.argInt(0))
	if err != nil {
		return fail(toErrno(err))
	}
	return orFail(unix.Fchown(fd, t.argInt(1), t.argInt(2)), 0)
}

func (s *sentry) sysFchmod(t *task) result {
	fd, err := t.getFD(t.argInt(0))
	if err != nil {
		return fail(toErrno(err))
	}
	return orFail(unix.Fchmod(fd, uint32(t.arg(1))&0o7777), 0)
}

func (s *sentry) sysUtimensat(t *task) result {
	dirfd, addr, tsAddr, flags := t.argInt(0), t.arg(1), t.arg(2), t.argInt(3)
	var ts [2]unix.Timespec
	tsp := uintptr(0)
	if tsAddr != 0 {
		if err := readVal(t, tsAddr, &ts); err != nil {
			return fail(unix.EFAULT)
		}
		tsp = uintptr(unsafe.Pointer(&ts[0]))
	}
	var target int
	if addr == 0 {
		// futimens: the descriptor itself.
		fd, err := t.getFD(dirfd)
		if err != nil {
			return fail(toErrno(err))
		}
		target = fd
	} else {
		n, err := s.pathNode(t, addr, dirfd, flags, flags&unix.AT_SYMLINK_NOFOLLOW == 0)
		if err != nil {
			return fail(toErrno(err))
		}
		defer n.close()
		if n.v != nil {
			return fail(unix.EPERM)
		}
		target = n.fd
	}
	path := []byte(fmt.Sprintf("/proc/self/fd/%d\x00", target))
	cwd := unix.AT_FDCWD
	_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(cwd), uintptr(unsafe.Pointer(&path[0])), tsp, 0, 0, 0)
	if e != 0 {
		return fail(e)
	}
	return ok(0)
}

func (s *sentry) sysTruncate(t *task) result {
	n, err := s.pathNode(t, t.arg(0), unix.AT_FDCWD, 0, true)
	if err != nil {
		return fail(toErrno(err))
	}
	defer n.close()
	if n.v != nil {
		return fail(unix.EACCES)
	}
	fd, err := reopen(n.fd, unix.O_WRONLY)
	if err != nil {
		return fail(toErrno(err))
	}
	defer unix.Close(fd)
	return orFail(unix.Ftruncate(fd, int64(t.arg(1))), 0)
}

// inotify_add_watch: the path is resolved by the Sentry, and the watch is
// added on its copy of the caller's inotify descriptor (the same open file)
// through the resolved file's /proc/self/fd link.
func (s *sentry) sysInotifyAddWatch(t *task) result {
	fd, err := t.getFD(t.argInt(0))
	if err != nil {
		return fail(toErrno(err))
	}
	p, err := t.readPath(t.arg(1))
	if err != nil {
		return fail(toErrno(err))
	}
	mask := uint32(t.arg(2))
	n, err := s.lookup(t, unix.AT_FDCWD, p, mask&unix.IN_DONT_FOLLOW == 0)
	if err != nil {
		return fail(toErrno(err))
	}
	defer n.close()
	if n.v != nil {
		return fail(unix.EACCES) // the Sentry's /proc files do not change
	}
	wd, err := unix.InotifyAddWatch(fd, fmt.Sprintf("/proc/self/fd/%d", n.fd), mask&^unix.IN_DONT_FOLLOW)
	return orFail(err, int64(wd))
}

// isDevTTY tells whether st is /dev/tty's: character device 5, 0.
func isDevTTY(st *unix.Stat_t) bool { return isCharDev(st, unix.Mkdev(5, 0)) }

func isCharDev(st *unix.Stat_t, rdev uint64) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == rdev
}

// openCtty opens the caller's controlling terminal, which is what /dev/tty
// is: the Sentry's own open would look for the Sentry's. The terminal is
// found among the caller's descriptors (stdio first: a session's terminal
// is almost always there) by the device number the kernel reports for the
// caller's session, and reopened through the Sentry's copy of that
// descriptor; none: ENXIO, as for a process without one.
func (s *sentry) openCtty(t *task, flags int) (int, error) {
	tty, err := cttyOf(t.tid)
	if err != nil || tty == 0 {
		return -1, unix.ENXIO
	}
	fds := []int{0, 1, 2}
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", t.tid)); err == nil {
		for _, e := range ents {
			if n, err := strconv.Atoi(e.Name()); err == nil && n > 2 && !s.reserved(n) {
				fds = append(fds, n)
			}
		}
	}
	for _, fd := range fds {
		c, err := t.getFD(fd)
		if err != nil {
			continue
		}
		var st unix.Stat_t
		if unix.Fstat(c, &st) == nil && isCharDev(&st, tty) {
			return reopen(c, flags)
		}
	}
	return -1, unix.ENXIO
}

// cttyOf is the device number of thread tid's controlling terminal (0:
// none), tty_nr in /proc/TID/stat, encoded as stat's st_rdev is.
func cttyOf(tid int) (uint64, error) {
	f, ok := statFields(tid) // state ppid pgrp session tty_nr ...
	if !ok || len(f) < 5 {
		return 0, unix.ESRCH
	}
	v, err := strconv.ParseInt(f[4], 10, 64)
	if err != nil {
		return 0, err
	}
	return uint64(uint32(v)), nil
}
