package sandbox

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// exec. The Sentry opens what the workload names, in the sandbox's root,
// and decides what runs: a static ELF runs as it is; a dynamic ELF runs its
// interpreter (which then opens the program through the Sentry) since the
// kernel would look the interpreter up by a path the file names; a #!
// script runs its interpreter with the script's path. The chosen file goes
// into the reserved descriptor execFD, and the calling thread is made to
// call execveat(execFD, "", argv, envp, AT_EMPTY_PATH), the one exec its
// filter allows (tracer.redirect). The host kernel never execs a path.

// execPlan is what an exec will run.
type execPlan struct {
	fd      int
	argv    []string
	changed bool // argv is not the caller's
	path    string
	setID   setID // the ELF program's (not a script's, as Linux does)
	held    int   // a program without a path its interpreter opens as heldExecPath, or -1
}

func (p *execPlan) close() {
	if p != nil && p.fd >= 0 {
		unix.Close(p.fd)
		p.fd = -1
	}
	if p != nil && p.held >= 0 {
		unix.Close(p.held)
		p.held = -1
	}
}

const maxInterpDepth = 4

// An exec's arguments and environment within Linux's limits: a string of at
// most MAX_ARG_STRLEN, and all of them (with their pointers) within a quarter
// of the default 8 MiB stack.
const (
	maxArgStrlen = 128 << 10
	maxArgTotal  = 2 << 20
)

// argsFit is E2BIG when the strings would not fit an exec, as Linux says.
func argsFit(lists ...[]string) error {
	total := 0
	for _, l := range lists {
		for _, s := range l {
			if len(s)+1 > maxArgStrlen {
				return unix.E2BIG
			}
			total += len(s) + 1 + 8
		}
	}
	if total > maxArgTotal {
		return unix.E2BIG
	}
	return nil
}

// planExec resolves the program and its interpreters.
func (s *sentry) planExec(t *task, dirfd int, p string, argv []string, flags int) (*execPlan, error) {
	var n *node
	var err error
	display := p
	if p == "" && flags&unix.AT_EMPTY_PATH != 0 {
		n, err = s.lookupEmpty(t, dirfd, p, flags, true)
		display = "/dev/fd/" + itoa(dirfd)
	} else {
		n, err = s.lookup(t, dirfd, p, flags&unix.AT_SYMLINK_NOFOLLOW == 0)
	}
	if err != nil {
		return nil, err
	}
	plan := &execPlan{fd: -1, argv: argv, held: -1}
	for depth := 0; ; depth++ {
		if depth > maxInterpDepth {
			n.close()
			return nil, unix.ELOOP
		}
		if err := checkExecutable(n); err != nil {
			n.close()
			return nil, err
		}
		hdr, f := readHead(n.fd)
		switch {
		case f == nil:
			// Executable but not readable: the kernel loads it; it can only be
			// a static ELF, since nothing resolves an interpreter for it.
			plan.fd, plan.path, plan.setID = n.fd, n.where(), setIDOf(n.fd)
			return plan, nil
		case bytes.HasPrefix(hdr, []byte("#!")):
			f.Close()
			interp, arg, err := parseShebang(hdr)
			if err != nil {
				n.close()
				return nil, err
			}
			next := []string{interp}
			if arg != "" {
				next = append(next, arg)
			}
			next = append(next, display)
			if len(argv) > 1 {
				next = append(next, argv[1:]...)
			}
			argv, plan.argv, plan.changed = next, next, true
			display = interp
			n.close()
			n, err = s.lookup(t, unix.AT_FDCWD, interp, true)
			if err != nil {
				return nil, err
			}
			continue
		case bytes.HasPrefix(hdr, []byte(elf.ELFMAG)):
			interp, err := elfInterp(f)
			f.Close()
			if err != nil {
				n.close()
				return nil, err
			}
			plan.setID = setIDOf(n.fd)
			if interp == "" {
				plan.fd, plan.path = n.fd, n.where()
				return plan, nil
			}
			in, err := s.lookup(t, unix.AT_FDCWD, interp, true)
			if err != nil {
				n.close()
				if err == unix.ENOENT {
					return nil, unix.ENOENT
				}
				return nil, unix.ELIBBAD
			}
			if err := checkInterp(in); err != nil {
				n.close()
				in.close()
				return nil, err
			}
			next := []string{interp}
			argv0 := n.where()
			if len(argv) > 0 {
				argv0 = argv[0]
			}
			if supportsArgv0(in.fd) {
				next = append(next, "--argv0", argv0)
			}
			prog := n.where()
			var st unix.Stat_t
			if unix.Fstat(n.fd, &st) == nil && st.Nlink == 0 {
				// No path leads to it (a memfd, a deleted file).
				prog = heldExecPath
			}
			next = append(next, prog)
			if len(argv) > 1 {
				next = append(next, argv[1:]...)
			}
			plan.fd, plan.path, plan.argv, plan.changed = in.fd, n.where(), next, true
			if prog == heldExecPath {
				plan.held, n.fd = n.fd, -1
			}
			n.close()
			return plan, nil
		default:
			f.Close()
			n.close()
			return nil, unix.ENOEXEC
		}
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// checkExecutable: a regular file the Sentry's credentials (the workload's)
// may execute.
func checkExecutable(n *node) error {
	if n.v != nil {
		return unix.EACCES
	}
	var st unix.Stat_t
	if err := unix.Fstat(n.fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return unix.EACCES
	}
	return unix.Faccessat2(n.fd, "", unix.X_OK, unix.AT_EMPTY_PATH|unix.AT_EACCESS)
}

// readHead opens the file for reading and returns its first bytes, or a
// nil file when it cannot be read.
func readHead(fd int) ([]byte, *os.File) {
	rfd, err := reopen(fd, unix.O_RDONLY)
	if err != nil {
		return nil, nil
	}
	f := os.NewFile(uintptr(rfd), "exec")
	hdr := make([]byte, 256)
	n, _ := f.ReadAt(hdr, 0)
	return hdr[:n], f
}

// parseShebang reads "#!interp [arg]" as the kernel does: one optional
// argument, the rest of the line with its outer blanks trimmed.
func parseShebang(hdr []byte) (string, string, error) {
	line := hdr[2:]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	} else if len(hdr) == 256 {
		// The kernel takes a truncated line when the interpreter's name fits.
		if j := bytes.IndexAny(bytes.TrimLeft(line, " \t"), " \t"); j < 0 {
			return "", "", unix.ENOEXEC
		}
	}
	s := strings.Trim(string(line), " \t")
	if s == "" {
		return "", "", unix.ENOEXEC
	}
	interp, arg, _ := strings.Cut(s, " ")
	if i := strings.IndexByte(interp, '\t'); i >= 0 {
		interp, arg = interp[:i], interp[i+1:]+" "+arg
	}
	return interp, strings.Trim(arg, " \t"), nil
}

// elfInterp checks a 64-bit x86 ELF and returns its PT_INTERP, if any.
func elfInterp(f io.ReaderAt) (string, error) {
	ef, err := elf.NewFile(f)
	if err != nil {
		return "", unix.ENOEXEC
	}
	if ef.Class != elf.ELFCLASS64 || ef.Machine != elf.EM_X86_64 || (ef.Type != elf.ET_EXEC && ef.Type != elf.ET_DYN) {
		return "", unix.ENOEXEC
	}
	for _, p := range ef.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		if p.Filesz == 0 || p.Filesz > unix.PathMax {
			return "", unix.ENOEXEC
		}
		b := make([]byte, p.Filesz)
		if _, err := io.ReadFull(p.Open(), b); err != nil {
			return "", unix.ENOEXEC
		}
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		return string(b), nil
	}
	return "", nil
}

// checkInterp: an ELF interpreter must itself be a static ELF.
func checkInterp(n *node) error {
	if err := checkExecutable(n); err != nil {
		if err == unix.EACCES {
			return err
		}
		return unix.ELIBBAD
	}
	hdr, f := readHead(n.fd)
	if f == nil {
		return unix.EACCES
	}
	defer f.Close()
	if !bytes.HasPrefix(hdr, []byte(elf.ELFMAG)) {
		return unix.ELIBBAD
	}
	interp, err := elfInterp(f)
	if err != nil || interp != "" {
		return unix.ELIBBAD
	}
	return nil
}

var argv0Cache sync.Map // device and inode -> bool

// supportsArgv0 tells whether an interpreter takes --argv0 (glibc's ld.so
// since 2.33), so that the program keeps its argv[0].
func supportsArgv0(fd int) bool {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return false
	}
	key := [3]int64{int64(st.Dev), int64(st.Ino), st.Mtim.Nano()}
	if v, ok := argv0Cache.Load(key); ok {
		return v.(bool)
	}
	yes := false
	if rfd, err := reopen(fd, unix.O_RDONLY); err == nil {
		f := os.NewFile(uintptr(rfd), "interp")
		b, _ := io.ReadAll(io.LimitReader(f, 16<<20))
		f.Close()
		yes = bytes.Contains(b, []byte("--argv0\x00"))
	}
	argv0Cache.Store(key, yes)
	return yes
}

// execve serves execve and execveat.
func (s *sentry) execve(t *task, dirfd int, pathAddr, argvAddr, envpAddr uint64, flags int) result {
	if flags&^(unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW) != 0 {
		return fail(unix.EINVAL)
	}
	p, err := t.readPath(pathAddr)
	if err != nil {
		return fail(toErrno(err))
	}
	argv, err := t.readStrings(argvAddr)
	if err != nil {
		return fail(toErrno(err))
	}
	plan, err := s.planExec(t, dirfd, p, argv, flags)
	if err != nil {
		s.debugf("[%d] execve(%q) = %v", t.tid, p, err)
		return fail(toErrno(err))
	}
	defer plan.close()
	s.debugf("[%d] execve(%q) runs %s as %q", t.tid, p, plan.path, plan.argv)
	// ADDFD passes no O_PATH descriptor: the program must be readable too.
	rfd, err := reopen(plan.fd, unix.O_RDONLY)
	if err != nil {
		return fail(toErrno(err))
	}
	defer unix.Close(rfd)
	// Not close-on-exec: after the exec the number stays taken, so the
	// kernel never gives it to the workload (the file is the one it runs).
	if err := t.addReserved(rfd, s.execFD, false); err != nil {
		return fail(toErrno(err))
	}
	tgid := 0
	if plan.held >= 0 {
		// Held before the exec, which its interpreter's first open may follow
		// before redirect returns.
		if tgid, err = t.getTgid(); err == nil {
			err = s.held.put(tgid, plan.held, plan.path)
			plan.held = -1
		}
		if err != nil {
			return fail(toErrno(err))
		}
	}
	wake := func() { t.respond(0, -errnoRestartSys, 0) }
	err = s.tr.redirect(t.tid, t.nr(), t.n.Data.IP, t.n.Data.Args, wake, func(r *unix.PtraceRegs) bool {
		pathPtr, argvPtr := pathAddr+uint64(len(p)), argvAddr // the path's own NUL is an empty path
		if plan.changed {
			var err error
			pathPtr, argvPtr, err = writeArgs(t, r.Rsp, plan.argv)
			if err != nil {
				r.Rax = uint64(-int64(toErrno(err)))
				return false
			}
		}
		r.Rax = unix.SYS_EXECVEAT
		r.Rdi = uint64(s.execFD)
		r.Rsi = pathPtr
		r.Rdx = argvPtr
		r.R10 = envpAddr
		r.R8 = unix.AT_EMPTY_PATH
		return true
	})
	if err != nil && tgid > 0 {
		s.held.drop(tgid)
	}
	if err != nil && err != errRetry {
		s.logOnce("exec-redirect", "exec: %v", err)
		return fail(unix.ENOSYS)
	}
	if err == nil {
		s.credsAfterExec(t, plan.setID)
	}
	return done()
}

// writeArgs writes a new argv, and an empty string for the path, on the
// caller's stack, well below its red zone so that a signal frame pushed
// before the exec does not reach it.
func writeArgs(t *task, sp uint64, argv []string) (pathPtr, argvPtr uint64, err error) {
	var strs bytes.Buffer
	offs := make([]int, len(argv))
	for i, a := range argv {
		offs[i] = strs.Len()
		strs.WriteString(a)
		strs.WriteByte(0)
	}
	empty := strs.Len()
	strs.WriteByte(0)
	for strs.Len()%8 != 0 {
		strs.WriteByte(0)
	}
	ptrs := strs.Len()
	size := ptrs + 8*(len(argv)+1)
	for _, gap := range []uint64{16 << 10, 0} {
		base := (sp - 128 - gap - uint64(size)) &^ 15
		block := make([]byte, size)
		copy(block, strs.Bytes())
		for i, o := range offs {
			binary.LittleEndian.PutUint64(block[ptrs+8*i:], base+uint64(o))
		}
		if t.write(base, block) == nil {
			return base + uint64(empty), base + uint64(ptrs), nil
		}
	}
	return 0, 0, unix.EFAULT
}

func (s *sentry) sysExecve(t *task) result {
	return s.execve(t, unix.AT_FDCWD, t.arg(0), t.arg(1), t.arg(2), 0)
}

func (s *sentry) sysExecveat(t *task) result {
	return s.execve(t, t.argInt(0), t.arg(1), t.arg(2), t.arg(3), t.argInt(4))
}
