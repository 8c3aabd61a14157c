package sandbox

import (
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Identities. Every workload process has the credentials of Linux (real,
// effective, saved and filesystem ids, supplementary groups, five capability
// sets, keep-caps), kept by the Sentry: the kernel's own for a workload
// process are those of an unmapped user without capabilities, and never
// change. The set*id, capset and prctl calls change the Sentry's copy by the
// kernel's rules; a call a changed process makes is served on an OS thread
// that takes the process's filesystem ids, groups and effective capabilities
// for the call (all three are per thread in Linux), so that permission
// checks, and the owners of files it creates, are those the namespace mode
// would give.

// creds are one process's credentials. A creds value is never changed once
// stored: a change stores a new one.
type creds struct {
	ruid, euid, suid, fsuid uint32
	rgid, egid, sgid, fsgid uint32
	groups                  []uint32
	eff, prm, inh, bnd, amb uint64
	keepCaps                bool
	secure                  uint32 // securebits: kept and reported, not acted on
	noNewPrivs              bool   // as the workload sees it (the kernel's is always set)
	// nofile is RLIMIT_NOFILE as the process sees it (sys_process.go): not
	// an identity, but kept per process and inherited as credentials are.
	nofile unix.Rlimit
}

// fsCaps are the capabilities the kernel drops from the effective set when
// the filesystem uid leaves 0 (and gives back when it returns).
const fsCaps = 1<<unix.CAP_CHOWN | 1<<unix.CAP_DAC_OVERRIDE | 1<<unix.CAP_DAC_READ_SEARCH |
	1<<unix.CAP_FOWNER | 1<<unix.CAP_FSETID | 1<<unix.CAP_LINUX_IMMUTABLE |
	1<<unix.CAP_MAC_OVERRIDE | 1<<unix.CAP_MKNOD

func (c *creds) clone() *creds {
	n := *c
	return &n
}

func (c *creds) has(capability uint) bool { return c.eff&(1<<capability) != 0 }

// sameThread tells whether a thread with c's credentials and one with d's
// are the same to the kernel: ids it checks, groups, effective capabilities.
func (c *creds) sameThread(d *creds) bool {
	return c.fsuid == d.fsuid && c.fsgid == d.fsgid && c.eff == d.eff && slices.Equal(c.groups, d.groups)
}

// fixUID applies the kernel's capability rules for a uid change
// (cap_emulate_setxuid and the fsuid rule) from old to c.
func (c *creds) fixUID(old *creds) {
	oldRoot := old.ruid == 0 || old.euid == 0 || old.suid == 0
	newRoot := c.ruid == 0 || c.euid == 0 || c.suid == 0
	if oldRoot && !newRoot && !c.keepCaps {
		c.prm, c.eff, c.amb = 0, 0, 0
	}
	if old.euid == 0 && c.euid != 0 {
		c.eff = 0
	}
	if old.euid != 0 && c.euid == 0 {
		c.eff = c.prm
	}
	if old.fsuid == 0 && c.fsuid != 0 {
		c.eff &^= fsCaps
	}
	if old.fsuid != 0 && c.fsuid == 0 {
		c.eff |= c.prm & fsCaps
	}
	c.amb &= c.prm & c.inh
}

// afterExec is what exec makes of c: the kernel's rules for a file without
// capabilities and with its set-id bits ignored (the workload runs with
// no_new_privs).
func (c *creds) afterExec() *creds {
	n := c.clone()
	n.suid, n.fsuid = n.euid, n.euid
	n.sgid, n.fsgid = n.egid, n.egid
	if n.euid == 0 || n.ruid == 0 {
		n.prm = n.bnd | n.inh
	} else {
		n.prm = 0
	}
	n.prm |= n.amb
	if c.noNewPrivs {
		// What the workload set as no_new_privs: exec grants nothing the
		// process was not permitted before (root keeps its permitted set,
		// not its bounding one).
		n.prm &= c.prm
	}
	if n.euid == 0 {
		n.eff = n.prm
	} else {
		n.eff = n.amb
	}
	n.keepCaps = false
	return n
}

// credTable maps workload processes (host pids) to the credentials they
// changed to. A process missing from it has its parent's; the table starts
// empty and stays so for a workload that never changes identity, which
// costs it nothing.
type credTable struct {
	base    *creds
	sentry  int // the Sentry's pid: the parent of the processes it starts
	changed atomic.Bool
	change  sync.Mutex // one identity call at a time
	mu      sync.Mutex
	m       map[int]credEntry
	gen     uint64              // bumped by every change
	cache   map[int]cachedCreds // by thread id, see caller
	// What the Sentry's own threads have: restored after a call.
	thread unixCaps
}

type credEntry struct {
	c     *creds
	start uint64 // the process's start time, against reused pids
}

type unixCaps struct{ eff, prm, inh uint64 }

// capSets are a process's capability sets (--caps, --caps-prm, ...).
type capSets struct{ eff, prm, bnd, inh, amb uint64 }

func newCredTable(o *options) *credTable {
	groups := append([]uint32(nil), o.groups...)
	slices.Sort(groups) // as the kernel keeps them
	// The sets libcontainer gives the process before its exec, then what
	// the exec of the program (no file capabilities) makes of them: a
	// non-root user keeps only its ambient capabilities (which must be
	// permitted and inheritable), root gets its bounding set.
	c := o.caps
	base := (&creds{
		ruid: o.uid, euid: o.uid, suid: o.uid, fsuid: o.uid,
		rgid: o.gid, egid: o.gid, sgid: o.gid, fsgid: o.gid,
		groups: groups, eff: c.eff, prm: c.prm, bnd: c.bnd, inh: c.inh, amb: c.amb & c.prm & c.inh,
		noNewPrivs: o.noNewPrivs,
	}).afterExec()
	ct := &credTable{base: base, sentry: os.Getpid(), m: map[int]credEntry{}, cache: map[int]cachedCreds{}}
	ct.thread, _ = getThreadCaps()
	return ct
}

// of returns the credentials of host process pid.
func (ct *credTable) of(pid int) *creds {
	if !ct.changed.Load() {
		return ct.base
	}
	ct.mu.Lock()
	defer ct.mu.Unlock()
	return ct.lookup(pid)
}

func (ct *credTable) lookup(pid int) *creds {
	for depth := 0; depth < 1024 && pid > 1 && pid != ct.sentry; depth++ {
		ppid, start, ok := procStat(pid)
		if !ok {
			break
		}
		if e, ok := ct.m[pid]; ok {
			if e.start == start {
				return e.c
			}
			delete(ct.m, pid) // a new process with an old number
		}
		pid = ppid
	}
	return ct.base
}

// set records c as pid's credentials. The children pid has not told apart
// yet keep the credentials they were forked with.
func (ct *credTable) set(pid int, c *creds) {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	old := ct.lookup(pid)
	_, start, ok := procStat(pid)
	if !ok {
		return
	}
	for _, child := range childrenOf(pid) {
		if _, known := ct.m[child.pid]; !known {
			ct.m[child.pid] = credEntry{c: old, start: child.start}
		}
	}
	ct.m[pid] = credEntry{c: c, start: start}
	ct.gen++
	ct.changed.Store(true)
	ct.prune()
}

// prune forgets processes that have exited.
func (ct *credTable) prune() {
	if len(ct.m) < 64 {
		return
	}
	for pid, e := range ct.m {
		if _, start, ok := procStat(pid); !ok || start != e.start {
			delete(ct.m, pid)
		}
	}
}

// statFields are the fields of /proc/PID/stat after the name: [0] state,
// [1] ppid, ... [19] start time.
func statFields(pid int) ([]string, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, false
	}
	// The name, in parentheses, may hold spaces: fields count from its end.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return nil, false
	}
	return strings.Fields(string(b[i+1:])), true
}

// procStat reads a process's parent and start time from /proc/PID/stat.
func procStat(pid int) (ppid int, start uint64, ok bool) {
	f, ok := statFields(pid)
	if !ok || len(f) < 20 {
		return 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	start, _ = strconv.ParseUint(f[19], 10, 64)
	return ppid, start, true
}

type childProc struct {
	pid   int
	start uint64
}

// childrenOf lists pid's child processes (this kernel may lack
// /proc/PID/task/TID/children, so it reads every process's stat).
func childrenOf(pid int) []childProc {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []childProc
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil || n == pid {
			continue
		}
		if ppid, start, ok := procStat(n); ok && ppid == pid {
			out = append(out, childProc{n, start})
		}
	}
	return out
}

// caller is the credentials of the calling process. Reading /proc for it
// costs tens of microseconds here, so the answer is kept per thread until
// any identity changes, or for a second at most (a thread id is not
// reused in less: the pid space must wrap first).
func (s *sentry) caller(t *task) *creds {
	ct := s.creds
	if !ct.changed.Load() {
		return ct.base
	}
	ct.mu.Lock()
	e, hit := ct.cache[t.tid]
	gen := ct.gen
	ct.mu.Unlock()
	if hit && e.gen == gen && time.Since(e.at) < time.Second {
		return e.c
	}
	tgid, err := t.getTgid()
	if err != nil {
		return ct.base
	}
	c := ct.of(tgid)
	ct.mu.Lock()
	if len(ct.cache) > 4096 {
		clear(ct.cache)
	}
	ct.cache[t.tid] = cachedCreds{c: c, gen: gen, at: time.Now()}
	ct.mu.Unlock()
	return c
}

type cachedCreds struct {
	c   *creds
	gen uint64
	at  time.Time
}

// asCaller runs serve on this OS thread with the caller's filesystem ids,
// groups and effective capabilities when they differ from the Sentry's.
func (s *sentry) asCaller(t *task, serve func() result) result {
	if callFlagsOf(t.nr())&ownIDs != 0 {
		return serve()
	}
	c := s.caller(t)
	if t.worn != nil {
		return s.asCredsWorn(t.worn, c, serve)
	}
	return s.asCreds(c, serve)
}

// asCredsWorn is asCreds on a listener's own locked thread, which only
// serves calls: it keeps wearing the last caller's credentials (*worn, nil
// for the Sentry's own) and changes them only for a caller with others. A
// workload that drops its privileges once thus pays for the change once.
func (s *sentry) asCredsWorn(worn **creds, c *creds, serve func() result) result {
	base := s.creds.base
	if c == nil || c.sameThread(base) {
		c = nil
	}
	cur := *worn
	if cur == c || cur != nil && c != nil && cur.sameThread(c) {
		return serve()
	}
	if cur != nil {
		if err := s.restoreCreds(cur); err != nil {
			s.identityLost(err)
		}
		*worn = nil
	}
	if c != nil {
		took, err := s.takeOrOwn(c)
		if err != nil {
			s.identityLost(err)
		}
		if took {
			*worn = c
		}
	}
	return serve()
}

// identityLost ends the Sentry: never expected, a thread whose identity is
// unknown must not serve anyone.
func (s *sentry) identityLost(err error) {
	s.logf("cannot restore the Sentry's identity: %v", err)
	os.Exit(127)
}

// takeOrOwn gives this thread c's identity, and tells whether it could.
// The Sentry runs as the container's user, with its capabilities: a process
// whose identity it cannot take (a set-user-id root program in a container
// of another user) is served as that user, never with more than the
// container has. An error means the thread's own identity is not back.
func (s *sentry) takeOrOwn(c *creds) (bool, error) {
	err := s.takeCreds(c)
	if err == nil {
		return true, nil
	}
	s.debugf("cannot act as a workload process's identity (%v): serving it as the container's user", err)
	return false, s.restoreCreds(c)
}

// asCreds runs serve with c's credentials (nil: the Sentry's own).
func (s *sentry) asCreds(c *creds, serve func() result) result {
	base := s.creds.base
	if c == nil || c == base || c.sameThread(base) {
		return serve()
	}
	runtime.LockOSThread()
	restored := false
	defer func() {
		// A thread that could not get its own credentials back dies with
		// this goroutine (Go ends a locked thread whose goroutine exits).
		if restored {
			runtime.UnlockOSThread()
		}
	}()
	defer func() { restored = s.restoreCreds(c) == nil }()
	if _, err := s.takeOrOwn(c); err != nil {
		return fail(unix.EPERM)
	}
	return serve()
}

func (s *sentry) takeCreds(c *creds) error {
	base := s.creds.base
	if !slices.Equal(c.groups, base.groups) {
		if err := setThreadGroups(c.groups); err != nil {
			return err
		}
	}
	if c.fsgid != base.fsgid {
		if err := setThreadFsid(unix.SYS_SETFSGID, c.fsgid); err != nil {
			return err
		}
	}
	if c.fsuid != base.fsuid {
		if err := setThreadFsid(unix.SYS_SETFSUID, c.fsuid); err != nil {
			return err
		}
	}
	th := s.creds.thread
	return setThreadCaps(unixCaps{eff: c.eff & th.prm, prm: th.prm, inh: th.inh})
}

// restoreCreds gives the thread, which took c (or part of it), the
// Sentry's credentials back: the capabilities first (setting ids and groups
// needs some), then what c changed, then the capabilities again when a
// filesystem uid back to 0 raised more than the Sentry's effective set.
func (s *sentry) restoreCreds(c *creds) error {
	base, th := s.creds.base, s.creds.thread
	if err := setThreadCaps(th); err != nil {
		return err
	}
	if c.fsuid != base.fsuid {
		if err := setThreadFsid(unix.SYS_SETFSUID, base.fsuid); err != nil {
			return err
		}
	}
	if c.fsgid != base.fsgid {
		if err := setThreadFsid(unix.SYS_SETFSGID, base.fsgid); err != nil {
			return err
		}
	}
	if !slices.Equal(c.groups, base.groups) {
		if err := setThreadGroups(base.groups); err != nil {
			return err
		}
	}
	if c.fsuid != base.fsuid && th.prm&fsCaps&^th.eff != 0 {
		return setThreadCaps(th)
	}
	return nil
}

// The raw calls below act on the calling thread only (glibc's and Go's
// wrappers would change every thread).

func setThreadGroups(groups []uint32) error {
	var p unsafe.Pointer
	if len(groups) > 0 {
		p = unsafe.Pointer(&groups[0])
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(groups)), uintptr(p), 0); e != 0 {
		return e
	}
	return nil
}

// setThreadFsid calls setfsuid or setfsgid, which report no error: the
// result is checked by asking again.
func setThreadFsid(nr uintptr, id uint32) error {
	unix.RawSyscall(nr, uintptr(id), 0, 0)
	now, _, _ := unix.RawSyscall(nr, ^uintptr(0), 0, 0)
	if uint32(now) != id {
		return unix.EPERM
	}
	return nil
}

func getThreadCaps() (unixCaps, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var d [2]unix.CapUserData
	if err := unix.Capget(&hdr, &d[0]); err != nil {
		return unixCaps{}, err
	}
	join := func(lo, hi uint32) uint64 { return uint64(lo) | uint64(hi)<<32 }
	return unixCaps{
		eff: join(d[0].Effective, d[1].Effective),
		prm: join(d[0].Permitted, d[1].Permitted),
		inh: join(d[0].Inheritable, d[1].Inheritable),
	}, nil
}

func setThreadCaps(c unixCaps) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	d := [2]unix.CapUserData{
		{Effective: uint32(c.eff), Permitted: uint32(c.prm), Inheritable: uint32(c.inh)},
		{Effective: uint32(c.eff >> 32), Permitted: uint32(c.prm >> 32), Inheritable: uint32(c.inh >> 32)},
	}
	return unix.Capset(&hdr, &d[0])
}

// credsAfterExec gives the caller, which has just exec'd prog, what exec
// makes of its credentials: its set-user-id and set-group-id bits (unless
// no_new_privs, as the workload sees it, or a nosuid mount), and the
// capability rules. A process that never changed identity and runs no
// set-id program keeps the container's.
func (s *sentry) credsAfterExec(t *task, prog setID) {
	if !s.creds.changed.Load() && !prog.raises(s.creds.base) {
		return
	}
	tgid, err := t.getTgid()
	if err != nil {
		return
	}
	s.creds.change.Lock()
	defer s.creds.change.Unlock()
	c := s.creds.of(tgid)
	if c == s.creds.base && !prog.raises(c) {
		return
	}
	s.creds.set(tgid, c.exec(prog))
}

// exec is what exec of prog makes of c.
func (c *creds) exec(prog setID) *creds {
	n := c.clone()
	if !c.noNewPrivs && !prog.nosuid {
		if prog.mode&unix.S_ISUID != 0 {
			n.euid = prog.uid
		}
		if prog.mode&unix.S_ISGID != 0 && prog.mode&unix.S_IXGRP != 0 {
			n.egid = prog.gid
		}
	}
	return n.afterExec()
}

// startCreds is the identity a process starting with plan runs with: who
// (nil: the container's), raised by a set-id program; nil when that is the
// container's own.
func (s *sentry) startCreds(who *creds, plan *execPlan) *creds {
	c := who
	if c == nil {
		c = s.creds.base
	}
	if !plan.setID.raises(c) {
		return who
	}
	return c.exec(plan.setID)
}

// setID is what exec takes from the program file: its set-id bits and owner.
type setID struct {
	mode     uint32
	uid, gid uint32
	nosuid   bool // on a nosuid mount
}

func setIDOf(fd int) setID {
	var st unix.Stat_t
	var fs unix.Statfs_t
	if unix.Fstat(fd, &st) != nil || unix.Fstatfs(fd, &fs) != nil {
		return setID{}
	}
	return setID{mode: st.Mode, uid: st.Uid, gid: st.Gid, nosuid: fs.Flags&unix.ST_NOSUID != 0}
}

// raises tells whether the program's set-id bits would change c's ids.
func (p setID) raises(c *creds) bool {
	if c.noNewPrivs || p.nosuid {
		return false
	}
	return p.mode&unix.S_ISUID != 0 && p.uid != c.euid ||
		p.mode&unix.S_ISGID != 0 && p.mode&unix.S_IXGRP != 0 && p.gid != c.egid
}
