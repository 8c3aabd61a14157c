package sandbox

import (
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Processes: pids, waits, clone, groups and sessions, scheduling, limits,
// prctl. Signals pass through the filter. Pids are the workload's own pid
// namespace's: the Sentry maps them to its namespace to act, and checks
// every pid a call names against the workload's processes before the call
// may reach the kernel.

// getpid, gettid, getppid and the signals pass through the filter: the
// kernel answers and resolves them in the sandbox's own pid namespace.

// procInfo is a workload process as the Sentry finds it.
type procInfo struct {
	host, vpid, vpgid int
}

// workload lists the workload's processes.
func (s *sentry) workload() []procInfo {
	var out []procInfo
	for _, h := range hostPids() {
		v, ok := s.inWorkload(h)
		if !ok {
			continue
		}
		st, err := procStatus(h)
		if err != nil {
			continue
		}
		out = append(out, procInfo{host: h, vpid: v, vpgid: lastField(st["NSpgid"])})
	}
	return out
}

func signalProcess(host, sig int) error {
	fd, err := unix.PidfdOpen(host, 0)
	if err != nil {
		return unix.ESRCH
	}
	defer unix.Close(fd)
	if sig == 0 {
		return nil
	}
	return unix.PidfdSendSignal(fd, unix.Signal(sig), nil, 0)
}

// thread finds a workload thread by its sandbox tid (and process, when tgid > 0).
func (s *sentry) thread(tgid, tid int) (procInfo, int, bool) {
	for _, p := range s.workload() {
		if tgid > 0 && p.vpid != tgid {
			continue
		}
		for _, th := range s.threads(p.host) {
			if th[1] == tid {
				return p, th[0], true
			}
		}
	}
	return procInfo{}, 0, false
}

// Waiting: the caller can only wait for its own children, which the kernel
// finds; the Sentry checks that a pid or group it names is one of them.

func (s *sentry) isChild(t *task, vpid int) bool {
	tgid, err := t.getTgid()
	if err != nil {
		return false
	}
	for _, p := range s.workload() {
		if p.vpid == vpid {
			st, err := procStatus(p.host)
			return err == nil && st["PPid"] == strconv.Itoa(tgid)
		}
	}
	return false
}

func (s *sentry) groupExists(pgid int) bool {
	for _, p := range s.workload() {
		if p.vpgid == pgid {
			return true
		}
	}
	return false
}

func (s *sentry) sysWait4(t *task) result {
	pid := t.argInt(0)
	switch {
	case pid == -1 || pid == 0:
	case pid > 0:
		if !s.isChild(t, pid) {
			return fail(unix.ECHILD)
		}
	case pid < -1:
		if !s.groupExists(-pid) {
			return fail(unix.ECHILD)
		}
	}
	return contin()
}

func (s *sentry) sysWaitid(t *task) result {
	id := t.argInt(1)
	switch t.argInt(0) {
	case unix.P_ALL:
	case unix.P_PID:
		if id <= 0 || !s.isChild(t, id) {
			return fail(unix.ECHILD)
		}
	case unix.P_PGID:
		if id < 0 || id > 0 && !s.groupExists(id) {
			return fail(unix.ECHILD)
		}
	case unix.P_PIDFD:
		// A pidfd names a sandbox process, and the kernel waits only for
		// the caller's children.
	default:
		return fail(unix.EINVAL)
	}
	return contin()
}

// Creating processes and threads: the flags are in registers, where they
// cannot change once the Sentry has read them.

const cloneRefused = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWUSER |
	unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP | unix.CLONE_PTRACE

func (s *sentry) sysClone(t *task) result {
	flags := t.arg(0)
	if flags&cloneRefused != 0 {
		return fail(unix.EPERM)
	}
	return contin()
}

// pidfdThread is PIDFD_THREAD (Linux 6.9): a pidfd of one thread.
const pidfdThread = unix.O_EXCL

// sysPidfdOpen opens a pidfd of a sandbox process on its host pid and hands
// it over. A pidfd acts on that process only: the kernel lets
// pidfd_send_signal reach processes of the caller's pid namespace alone,
// and waitid(P_PIDFD) the caller's children.
func (s *sentry) sysPidfdOpen(t *task) result {
	pid, flags := t.argInt(0), t.arg(1)
	if flags&^uint64(unix.PIDFD_NONBLOCK|pidfdThread) != 0 || pid <= 0 {
		return fail(unix.EINVAL)
	}
	host := s.hostPid(pid)
	if host == 0 {
		_, h, ok := s.thread(0, pid)
		switch {
		case !ok:
			return fail(unix.ESRCH)
		case flags&pidfdThread == 0:
			return fail(unix.EINVAL) // a thread, not a process
		}
		host = h
	}
	fd, err := unix.PidfdOpen(host, int(flags))
	return s.installFD(t, fd, err, true) // a pidfd is always close-on-exec
}

// Process groups and sessions.

func (s *sentry) sysSetpgid(t *task) result {
	pid, pgid := t.argInt(0), t.argInt(1)
	if pid < 0 || pgid < 0 {
		return fail(unix.EINVAL)
	}
	if pid > 0 && s.hostPid(pid) == 0 {
		return fail(unix.ESRCH)
	}
	if pgid > 0 && pgid != pid && !s.groupExists(pgid) {
		me, _ := t.ids()
		if !(pid == 0 && pgid == me.vpid) {
			return fail(unix.EPERM)
		}
	}
	return contin()
}

// byPid serves a call whose first argument is a pid (or tid), 0 for the
// caller: the caller's own passes to the kernel, any other is done by the
// Sentry on the host's number for that sandbox thread.
func (s *sentry) byPid(t *task, do func(host int) result) result {
	pid := t.argInt(0)
	switch {
	case pid == 0:
		return contin()
	case pid < 0:
		return fail(unix.ESRCH) // no such process, as find_task_by_vpid says
	}
	_, host, ok := s.thread(0, pid)
	if !ok {
		return fail(unix.ESRCH)
	}
	return do(host)
}

// ioprio_get and ioprio_set name a process or a group by its sandbox
// number; 0 (the caller) passes.
func (s *sentry) sysIoprio(t *task) result {
	const whoProcess, whoPgrp = 1, 2
	which, who := t.argInt(0), t.argInt(1)
	if who == 0 {
		return contin()
	}
	host := 0
	switch which {
	case whoProcess:
		_, host, _ = s.thread(0, who)
	case whoPgrp:
		host = s.hostPgid(who)
	default:
		return fail(unix.EINVAL) // a user's processes: not emulated
	}
	if host == 0 {
		return fail(unix.ESRCH)
	}
	if t.nr() == unix.SYS_IOPRIO_SET {
		return raw(unix.SYS_IOPRIO_SET, uintptr(which), uintptr(host), uintptr(t.argInt(2)))
	}
	return raw(unix.SYS_IOPRIO_GET, uintptr(which), uintptr(host))
}

// raw makes a system call for the workload on host pids.
func raw(nr uintptr, args ...uintptr) result {
	var a [6]uintptr
	copy(a[:], args)
	r, _, e := unix.Syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5])
	if e != 0 {
		return fail(e)
	}
	return ok(int64(r))
}

// nsField is a process's number on a status line (NSpgid, NSsid) in the
// sandbox's namespace, 0 when outside it.
func (s *sentry) nsField(host int, key string) result {
	st, err := procStatus(host)
	if err != nil {
		return fail(unix.ESRCH)
	}
	f := strings.Fields(st[key])
	if len(f) == len(strings.Fields(st["NSpid"])) && len(f) >= 2 {
		n, _ := strconv.Atoi(f[len(f)-1])
		return ok(int64(n))
	}
	return ok(0)
}

func (s *sentry) sysGetpgid(t *task) result {
	return s.byPid(t, func(h int) result { return s.nsField(h, "NSpgid") })
}

func (s *sentry) sysGetsid(t *task) result {
	return s.byPid(t, func(h int) result { return s.nsField(h, "NSsid") })
}

// inBuf reads n bytes (at most max) of an input argument.
func (t *task) inBuf(addr uint64, n, max int) ([]byte, result, bool) {
	if n < 0 || n > max {
		return nil, fail(unix.EINVAL), false
	}
	b, err := t.read(addr, n)
	if err != nil {
		return nil, fail(unix.EFAULT), false
	}
	if len(b) == 0 {
		b = make([]byte, 1)
	}
	return b, result{}, true
}

// outCall makes a call that fills a buffer of n bytes, and copies out as
// much as the call says it wrote (all when it returns 0).
func (t *task) outCall(addr uint64, n int, call func(p uintptr) result) result {
	if n < 0 || n > 1<<16 {
		return fail(unix.EINVAL)
	}
	b := make([]byte, n+1)
	r := call(uintptr(unsafe.Pointer(&b[0])))
	if r.errno != 0 {
		return r
	}
	out := n
	if r.val > 0 && int(r.val) < n {
		out = int(r.val)
	}
	if err := t.write(addr, b[:out]); err != nil {
		return fail(unix.EFAULT)
	}
	return r
}

// bySchedPid is byPid for the scheduler calls that refuse a negative pid
// before looking it up (EINVAL), as the kernel's do; not the affinity ones.
func (s *sentry) bySchedPid(t *task, do func(host int) result) result {
	if t.argInt(0) < 0 {
		return fail(unix.EINVAL)
	}
	return s.byPid(t, do)
}

func (s *sentry) sysSchedGetaffinity(t *task) result {
	return s.byPid(t, func(h int) result {
		return t.outCall(t.arg(2), int(t.arg(1)), func(p uintptr) result {
			return raw(unix.SYS_SCHED_GETAFFINITY, uintptr(h), uintptr(t.arg(1)), p)
		})
	})
}

func (s *sentry) sysSchedSetaffinity(t *task) result {
	return s.byPid(t, func(h int) result {
		b, r, ok := t.inBuf(t.arg(2), int(t.arg(1)), 1<<16)
		if !ok {
			return r
		}
		return raw(unix.SYS_SCHED_SETAFFINITY, uintptr(h), uintptr(t.arg(1)), uintptr(unsafe.Pointer(&b[0])))
	})
}

func (s *sentry) sysSchedGetscheduler(t *task) result {
	return s.bySchedPid(t, func(h int) result { return raw(unix.SYS_SCHED_GETSCHEDULER, uintptr(h)) })
}

func (s *sentry) sysSchedGetparam(t *task) result {
	return s.bySchedPid(t, func(h int) result {
		return t.outCall(t.arg(1), 4, func(p uintptr) result { return raw(unix.SYS_SCHED_GETPARAM, uintptr(h), p) })
	})
}

func (s *sentry) sysSchedSetparam(t *task) result {
	return s.bySchedPid(t, func(h int) result {
		b, r, ok := t.inBuf(t.arg(1), 4, 4)
		if !ok {
			return r
		}
		return raw(unix.SYS_SCHED_SETPARAM, uintptr(h), uintptr(unsafe.Pointer(&b[0])))
	})
}

func (s *sentry) sysSchedSetscheduler(t *task) result {
	return s.bySchedPid(t, func(h int) result {
		b, r, ok := t.inBuf(t.arg(2), 4, 4)
		if !ok {
			return r
		}
		return raw(unix.SYS_SCHED_SETSCHEDULER, uintptr(h), uintptr(t.argInt(1)), uintptr(unsafe.Pointer(&b[0])))
	})
}

func (s *sentry) sysSchedGetattr(t *task) result {
	return s.bySchedPid(t, func(h int) result {
		n := int(t.argUint(2))
		return t.outCall(t.arg(1), n, func(p uintptr) result {
			return raw(unix.SYS_SCHED_GETATTR, uintptr(h), p, uintptr(n), uintptr(t.argUint(3)))
		})
	})
}

func (s *sentry) sysSchedSetattr(t *task) result {
	return s.bySchedPid(t, func(h int) result {
		var size uint32
		if err := readVal(t, t.arg(1), &size); err != nil {
			return fail(unix.EFAULT)
		}
		if size == 0 {
			size = 48 // SCHED_ATTR_SIZE_VER0
		}
		b, r, ok := t.inBuf(t.arg(1), int(size), 4096)
		if !ok {
			return r
		}
		return raw(unix.SYS_SCHED_SETATTR, uintptr(h), uintptr(unsafe.Pointer(&b[0])), uintptr(t.argUint(2)))
	})
}

func (s *sentry) sysSchedRRGetInterval(t *task) result {
	return s.bySchedPid(t, func(h int) result {
		return t.outCall(t.arg(1), 16, func(p uintptr) result { return raw(unix.SYS_SCHED_RR_GET_INTERVAL, uintptr(h), p) })
	})
}

// hostPgid maps a sandbox process group to the host's number.
func (s *sentry) hostPgid(pgid int) int {
	for _, p := range s.workload() {
		if p.vpgid != pgid {
			continue
		}
		if f, ok := statFields(p.host); ok && len(f) > 2 {
			if n, err := strconv.Atoi(f[2]); err == nil {
				return n
			}
		}
	}
	return 0
}

// getpriority and setpriority name a process, a group or a user: the
// Sentry does it on the host's numbers, a user's meaning the sandbox's
// processes only.
func (s *sentry) sysPriority(t *task) result {
	which, who := t.argInt(0), t.argInt(1)
	set := t.nr() == unix.SYS_SETPRIORITY
	if who == 0 && which != unix.PRIO_USER {
		return contin()
	}
	call := func(w, id int) result {
		if set {
			return raw(unix.SYS_SETPRIORITY, uintptr(w), uintptr(id), uintptr(t.argInt(2)))
		}
		return raw(unix.SYS_GETPRIORITY, uintptr(w), uintptr(id))
	}
	switch which {
	case unix.PRIO_PROCESS:
		_, host, ok := s.thread(0, who)
		if !ok {
			return fail(unix.ESRCH)
		}
		return call(unix.PRIO_PROCESS, host)
	case unix.PRIO_PGRP:
		host := s.hostPgid(who)
		if host == 0 {
			return fail(unix.ESRCH)
		}
		return call(unix.PRIO_PGRP, host)
	case unix.PRIO_USER:
		if who == 0 {
			who = int(s.opts.uid)
		}
		if uint32(who) != s.opts.uid {
			return fail(unix.ESRCH) // the sandbox has one user
		}
		// Every sandbox process, the best priority of all for get.
		best := result{errno: unix.ESRCH}
		for _, p := range s.workload() {
			r := call(unix.PRIO_PROCESS, p.host)
			if r.errno == 0 && (best.errno != 0 || r.val > best.val) {
				best = r
			} else if set && r.errno != 0 {
				return r
			}
		}
		return best
	}
	return fail(unix.EINVAL)
}

// RLIMIT_NOFILE. The reserved descriptors sit at N-2 and N-1, N the
// container's soft limit. Each process sees, and sets, its own limits
// (kept with its credentials and inherited the same way). The kernel has
// the process's own soft limit, so that every descriptor allocation (the
// kernel's, and ADDFD's at the lowest free number) stops there, and a hard
// limit of at least N, so that the Sentry can raise the soft one for the
// moment it places a reserved descriptor (addReserved); a lower hard limit
// is the Sentry's to enforce (setNofile).

// nofileOf is host process pid's RLIMIT_NOFILE as it sees it.
func (s *sentry) nofileOf(pid int) unix.Rlimit {
	return s.creds.of(pid).nofile
}

// setNofile sets host process pid's limits to lim, as caller c may.
func (s *sentry) setNofile(c *creds, pid int, lim unix.Rlimit) unix.Errno {
	if lim.Cur > lim.Max {
		return unix.EINVAL
	}
	s.creds.change.Lock()
	defer s.creds.change.Unlock()
	old := s.creds.of(pid)
	if lim.Max > old.nofile.Max && !c.has(unix.CAP_SYS_RESOURCE) {
		return unix.EPERM
	}
	// The kernel's own checks (fs.nr_open, its hard limit) apply too.
	kernel := unix.Rlimit{Cur: lim.Cur, Max: max(lim.Max, s.nofile.Cur)}
	if r := raw(unix.SYS_PRLIMIT64, uintptr(pid), unix.RLIMIT_NOFILE, uintptr(unsafe.Pointer(&kernel)), 0); r.errno != 0 {
		return r.errno
	}
	n := old.clone()
	n.nofile = lim
	s.creds.set(pid, n)
	return 0
}

// addReserved installs fd at a reserved number (cwdFD, execFD). ADDFD
// places a descriptor only under the caller's soft limit, which may be
// under N when the process lowered it: the Sentry raises it to N for that
// moment (a thread of the process could open more meanwhile).
func (t *task) addReserved(fd, at int, cloexec bool) error {
	_, err := t.addFD(fd, at, cloexec)
	if err != unix.EBADF && err != unix.EMFILE {
		return err
	}
	pid, terr := t.getTgid()
	if terr != nil {
		return err
	}
	s := t.s
	s.creds.change.Lock()
	defer s.creds.change.Unlock()
	var old unix.Rlimit
	if unix.Prlimit(pid, unix.RLIMIT_NOFILE, nil, &old) != nil || old.Cur > uint64(at) {
		return err
	}
	room := unix.Rlimit{Cur: max(old.Cur, min(uint64(at)+1, old.Max)), Max: old.Max}
	if unix.Prlimit(pid, unix.RLIMIT_NOFILE, &room, nil) != nil {
		return err
	}
	_, err = t.addFD(fd, at, cloexec)
	_ = unix.Prlimit(pid, unix.RLIMIT_NOFILE, &old, nil)
	return err
}

// mayPrlimit is the kernel's check for prlimit on another process: the
// caller's real ids are all of the target's, or it has CAP_SYS_RESOURCE.
func mayPrlimit(c, target *creds) bool {
	return c.ruid == target.ruid && c.ruid == target.euid && c.ruid == target.suid &&
		c.rgid == target.rgid && c.rgid == target.egid && c.rgid == target.sgid || c.has(unix.CAP_SYS_RESOURCE)
}

// nofileCall is getrlimit, setrlimit and prlimit for RLIMIT_NOFILE of host
// process pid: the old limits to oldAddr, the new ones from newAddr.
func (s *sentry) nofileCall(t *task, pid int, newAddr, oldAddr uint64) result {
	target := s.creds.of(pid)
	old := target.nofile
	if newAddr != 0 {
		var lim unix.Rlimit
		if err := readVal(t, newAddr, &lim); err != nil {
			return fail(unix.EFAULT)
		}
		c := s.caller(t)
		if tgid, _ := t.getTgid(); tgid != pid && !mayPrlimit(c, target) {
			return fail(unix.EPERM)
		}
		if e := s.setNofile(c, pid, lim); e != 0 {
			return fail(e)
		}
	}
	if oldAddr != 0 {
		if err := writeVal(t, oldAddr, &old); err != nil {
			return fail(unix.EFAULT)
		}
	}
	return ok(0)
}

func (s *sentry) sysPrlimit64(t *task) result {
	pid, res := t.argInt(0), t.argInt(1)
	if res != unix.RLIMIT_NOFILE && pid != 0 {
		// Another process's limits: the Sentry's call, on its host pid.
		return s.byPid(t, func(h int) result {
			var newp uintptr
			var lim unix.Rlimit
			if t.arg(2) != 0 {
				if err := readVal(t, t.arg(2), &lim); err != nil {
					return fail(unix.EFAULT)
				}
				newp = uintptr(unsafe.Pointer(&lim))
			}
			var old unix.Rlimit
			r := raw(unix.SYS_PRLIMIT64, uintptr(h), uintptr(res), newp, uintptr(unsafe.Pointer(&old)))
			if r.errno == 0 && t.arg(3) != 0 {
				if err := writeVal(t, t.arg(3), &old); err != nil {
					return fail(unix.EFAULT)
				}
			}
			return r
		})
	}
	if res != unix.RLIMIT_NOFILE {
		if pid != 0 && s.hostPid(pid) == 0 {
			return fail(unix.ESRCH)
		}
		return contin()
	}
	host, err := t.getTgid()
	if err != nil {
		return fail(unix.ESRCH)
	}
	if pid != 0 {
		if host = s.hostPid(pid); host == 0 {
			return fail(unix.ESRCH)
		}
	}
	return s.nofileCall(t, host, t.arg(2), t.arg(3))
}

func (s *sentry) sysGetrlimit(t *task) result {
	if t.argInt(0) != unix.RLIMIT_NOFILE {
		return contin()
	}
	tgid, err := t.getTgid()
	if err != nil {
		return fail(unix.ESRCH)
	}
	return s.nofileCall(t, tgid, 0, t.arg(1))
}

func (s *sentry) sysSetrlimit(t *task) result {
	if t.argInt(0) != unix.RLIMIT_NOFILE {
		return contin()
	}
	tgid, err := t.getTgid()
	if err != nil {
		return fail(unix.ESRCH)
	}
	return s.nofileCall(t, tgid, t.arg(1), 0)
}

// prctl options beyond the thread name, which the filter lets through.
func (s *sentry) sysPrctl(t *task) result {
	opt := t.argInt(0)
	switch opt {
	case unix.PR_SET_PDEATHSIG, unix.PR_GET_PDEATHSIG, unix.PR_SET_DUMPABLE, unix.PR_GET_DUMPABLE,
		unix.PR_SET_CHILD_SUBREAPER,
		unix.PR_GET_CHILD_SUBREAPER, unix.PR_GET_SECCOMP,
		unix.PR_SET_SECCOMP, unix.PR_SET_TIMERSLACK, unix.PR_GET_TIMERSLACK, unix.PR_GET_TID_ADDRESS,
		unix.PR_SET_THP_DISABLE, unix.PR_GET_THP_DISABLE, unix.PR_SET_VMA, unix.PR_GET_SPECULATION_CTRL,
		unix.PR_SET_TIMING, unix.PR_GET_TIMING, unix.PR_GET_ENDIAN:
		return contin()
	case unix.PR_SET_PTRACER:
		return ok(0) // names a process; nothing traces in the sandbox
	case unix.PR_GET_NAME:
		// The name /proc/PID/comm shows: a dynamic program's, where the
		// kernel's is its interpreter's (ld-linux-x86-64). 16 bytes with
		// NUL padding, as the kernel copies them.
		name, found := shownComm(t.tid)
		if !found {
			return contin()
		}
		var b [16]byte
		copy(b[:15], name)
		if err := t.write(t.arg(1), b[:]); err != nil {
			return fail(unix.EFAULT)
		}
		return ok(0)
	case unix.PR_SET_NO_NEW_PRIVS, unix.PR_GET_NO_NEW_PRIVS, unix.PR_SET_KEEPCAPS, unix.PR_GET_KEEPCAPS, unix.PR_GET_SECUREBITS, unix.PR_SET_SECUREBITS, unix.PR_CAPBSET_READ, unix.PR_CAPBSET_DROP, unix.PR_CAP_AMBIENT:
		return s.prctlCaps(t, opt)
	}
	s.logOnce("prctl-"+strconv.Itoa(opt), "prctl option %d not supported: returning EINVAL", opt)
	return fail(unix.EINVAL)
}

// seccomp: the workload may add filters, but not a listener of its own,
// whose answers would come before the Sentry's.
func (s *sentry) sysSeccomp(t *task) result {
	if t.argUint(0) == unix.SECCOMP_SET_MODE_FILTER && t.arg(1)&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
		return fail(unix.EPERM)
	}
	return contin()
}

// refused are calls a container without privileges gets EPERM for.
func (s *sentry) sysRefused(t *task) result { return fail(unix.EPERM) }

func (s *sentry) sysUnshare(t *task) result {
	if t.arg(0) == 0 {
		return ok(0)
	}
	return fail(unix.EPERM)
}

func (s *sentry) sysContinue(t *task) result { return contin() }
