package sandbox

import (
	"fmt"
	"os"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The Sentry's /proc. The container's real procfs shows the Sentry and the
// container's pid numbers; the workload sees instead its own processes by
// their pids in its pid namespace, with what the Sentry emulates (ids,
// capabilities, hostname) in place of the host's, and nothing of runx.

const (
	vFile = iota
	vDir
	vLink
	vFD // a /proc/PID/fd/N link: the workload's open file
)

type dirent struct {
	name string
	kind int
}

// vnode is a file of the Sentry's /proc.
type vnode struct {
	kind    int
	data    []byte
	target  string
	entries []dirent
	fd      int    // vFD: the Sentry's copy of the descriptor
	fdPath  string // vFD: where it leads
	writeTo string // vFile: the host file a write-open opens instead
	ns      bool   // vFD: a /proc/PID/ns link, lrwxrwxrwx as the kernel shows it
}

// procFiles are the host files shown as they are.
var procFiles = []string{"cpuinfo", "meminfo", "uptime", "loadavg", "version", "stat", "filesystems", "swaps", "cgroups", "diskstats", "vmstat",
	"cmdline", "consoles", "crypto", "devices", "execdomains", "interrupts", "softirqs", "misc", "partitions",
	"buddyinfo", "zoneinfo", "pagetypeinfo"}

// pidFiles are a process's files copied from the host's procfs.
// (Not sched, which names the host pid.)
var pidFiles = []string{"cmdline", "comm", "environ", "statm", "limits", "maps", "smaps", "smaps_rollup", "io",
	"oom_score_adj", "oom_score", "oom_adj", "wchan", "cgroup", "personality", "schedstat", "timerslack_ns",
	"uid_map", "gid_map", "setgroups", "loginuid", "sessionid", "coredump_filter", "auxv"}

// userNSFiles are pidFiles read from the Sentry's own: the workload's
// identities are the container's (the Sentry keeps them), not those of the
// user namespace it runs in, which maps none.
var userNSFiles = map[string]bool{"uid_map": true, "gid_map": true, "setgroups": true}

// writablePidFiles are pidFiles a write-open opens on the host: the kernel
// checks the write against the writer, the workload's thread (raising
// oom_score_adj needs nothing, lowering it CAP_SYS_RESOURCE, which it lacks).
var writablePidFiles = map[string]bool{"oom_score_adj": true, "oom_adj": true, "coredump_filter": true,
	"timerslack_ns": true, "comm": true}

// nsNames are the entries of /proc/PID/ns.
var nsNames = []string{"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children", "user", "uts"}

// procResolve walks comps under /proc: ".." goes up (out of /proc at its
// top), a link goes on from its target.
func (s *sentry) procResolve(t *task, comps []string, follow bool, depth int) (*node, error) {
	var pos []string
	for i := 0; ; i++ {
		last := i >= len(comps)
		if !last && comps[i] == ".." {
			if len(pos) == 0 {
				return s.resolve(t, "/"+strings.Join(comps[i+1:], "/"), follow, depth+1)
			}
			pos = pos[:len(pos)-1]
			continue
		}
		if !last {
			pos = append(pos, comps[i])
		}
		v, err := s.procNode(t, pos)
		if err != nil {
			return nil, err
		}
		final := last || i == len(comps)-1
		here := "/proc"
		if len(pos) > 0 {
			here += "/" + strings.Join(pos, "/")
		}
		tail := ""
		if !final {
			tail = "/" + strings.Join(comps[i+1:], "/")
		}
		switch v.kind {
		case vLink:
			if final && !follow {
				return &node{fd: -1, path: here, v: v}, nil
			}
			next := v.target
			if !strings.HasPrefix(next, "/") {
				next = "/proc/" + strings.Join(pos[:len(pos)-1], "/") + "/" + next
			}
			return s.resolve(t, next+tail, follow, depth+1)
		case vFD:
			if final && !follow {
				return &node{fd: -1, path: here, v: v}, nil
			}
			if !final {
				if !strings.HasPrefix(v.fdPath, "/") {
					return nil, unix.ENOTDIR // a namespace, a pipe, a socket
				}
				return s.resolve(t, v.fdPath+tail, follow, depth+1)
			}
			c, err := unix.Dup(v.fd)
			if err != nil {
				return nil, err
			}
			unix.CloseOnExec(c)
			return &node{fd: c, path: v.fdPath}, nil
		case vFile:
			if !final {
				return nil, unix.ENOTDIR
			}
			return &node{fd: -1, path: here, v: v}, nil
		case vDir:
			if final {
				return &node{fd: -1, path: here, v: v}, nil
			}
		}
		if last {
			return nil, unix.ENOENT
		}
	}
}

// procNode builds the node at /proc/comps...
func (s *sentry) procNode(t *task, comps []string) (*vnode, error) {
	if len(comps) == 0 {
		return s.procRoot(), nil
	}
	switch c := comps[0]; {
	case c == "self" && len(comps) == 1:
		if t == nil {
			return nil, unix.ENOENT
		}
		id, err := t.ids()
		if err != nil {
			return nil, err
		}
		return &vnode{kind: vLink, target: strconv.Itoa(id.vpid)}, nil
	case c == "thread-self" && len(comps) == 1:
		if t == nil {
			return nil, unix.ENOENT
		}
		id, err := t.ids()
		if err != nil {
			return nil, err
		}
		return &vnode{kind: vLink, target: fmt.Sprintf("%d/task/%d", id.vpid, id.vtid)}, nil
	case c == "mounts" && len(comps) == 1:
		return &vnode{kind: vLink, target: "self/mounts"}, nil
	case c == "sys":
		return s.procSys(comps[1:])
	case c == "sysvipc":
		return s.procSysvipc(comps[1:])
	case c == "net":
		return s.procNet(comps[1:])
	case c == "locks" && len(comps) == 1:
		return s.procLocks()
	case c == "pressure":
		return mirrorProc("pressure", comps[1:], nil) // the host's or the container's, as procfs shows it
	case isNumber(c):
		vpid, _ := procNumber(c)
		host := s.hostPid(vpid)
		if host <= 0 {
			return nil, unix.ENOENT
		}
		return s.procPid(t, host, vpid, comps[1:], true)
	}
	if len(comps) == 1 {
		for _, f := range procFiles {
			if comps[0] == f {
				b, err := os.ReadFile("/proc/" + f)
				if err != nil {
					return nil, unix.ENOENT
				}
				return &vnode{kind: vFile, data: b}, nil
			}
		}
	}
	return nil, unix.ENOENT
}

func (s *sentry) procRoot() *vnode {
	v := &vnode{kind: vDir}
	for _, vpid := range s.workloadPids() {
		v.entries = append(v.entries, dirent{strconv.Itoa(vpid), vDir})
	}
	for _, f := range procFiles {
		if _, err := os.Stat("/proc/" + f); err == nil {
			v.entries = append(v.entries, dirent{f, vFile})
		}
	}
	v.entries = append(v.entries, dirent{"locks", vFile}, dirent{"self", vLink}, dirent{"thread-self", vLink},
		dirent{"mounts", vLink}, dirent{"sys", vDir}, dirent{"sysvipc", vDir}, dirent{"net", vDir})
	if _, err := os.Stat("/proc/pressure"); err == nil {
		v.entries = append(v.entries, dirent{"pressure", vDir})
	}
	return v
}

// procLocks is /proc/locks as the kernel shows it in a pid namespace: the
// workload's locks, by their sandbox pids (the kernel leaves out the locks
// of processes the reader cannot name).
func (s *sentry) procLocks() (*vnode, error) {
	b, err := os.ReadFile("/proc/locks")
	if err != nil {
		return nil, unix.ENOENT
	}
	var out []string
	for _, line := range strings.SplitAfter(string(b), "\n") {
		f := strings.Fields(line)
		col := 4 // "1: POSIX  ADVISORY  WRITE PID ..."; a waiter's has "->" after the number
		if len(f) > 1 && f[1] == "->" {
			col = 5
		}
		if len(f) <= col {
			continue
		}
		keep := false
		line = replaceColumn(line, col, func(v string) string {
			pid, _ := strconv.Atoi(v)
			vp := s.virtualPid(pid)
			keep = vp > 0
			return strconv.Itoa(vp)
		})
		if keep {
			out = append(out, line)
		}
	}
	return &vnode{kind: vFile, data: []byte(strings.Join(out, ""))}, nil
}

// sysvipcPidColumns are the columns of /proc/sysvipc/* that hold pids (from 0).
var sysvipcPidColumns = map[string][]int{"shm": {4, 5}, "msg": {5, 6}}

// procSysvipc is the container's /proc/sysvipc (the IPC namespace the
// workload shares with the Sentry), owners as the container sees them and
// pids as the sandbox numbers them.
func (s *sentry) procSysvipc(comps []string) (*vnode, error) {
	return mirrorProc("sysvipc", comps, func(p string, b []byte) []byte {
		lines := strings.Split(string(b), "\n")
		for i := 1; i < len(lines); i++ {
			for _, c := range sysvipcPidColumns[path.Base(p)] {
				lines[i] = replaceColumn(lines[i], c, func(v string) string {
					pid, err := strconv.Atoi(v)
					if err != nil || pid <= 0 {
						return v
					}
					return strconv.Itoa(s.virtualPid(pid))
				})
			}
		}
		return []byte(strings.Join(lines, "\n"))
	})
}

// replaceColumn rewrites the n-th (from 0) blank-separated field of a
// right-aligned table row, keeping the row's width.
func replaceColumn(line string, n int, f func(string) string) string {
	start, field := -1, -1
	for i := 0; i <= len(line); i++ {
		blank := i == len(line) || line[i] == ' ' || line[i] == '\t'
		switch {
		case !blank && start < 0:
			start = i
			field++
		case blank && start >= 0:
			if field == n {
				v := f(line[start:i])
				pad := ""
				if d := i - start - len(v); d > 0 {
					pad = strings.Repeat(" ", d)
				}
				return line[:start] + pad + v + line[i:]
			}
			start = -1
		}
	}
	return line
}

func (s *sentry) procSys(comps []string) (*vnode, error) {
	files := map[string]func() string{
		"kernel/hostname":   func() string { s.mu.Lock(); defer s.mu.Unlock(); return s.hostname },
		"kernel/domainname": func() string { s.mu.Lock(); defer s.mu.Unlock(); return s.domain },
		"kernel/ostype":     func() string { return "Linux" },
		"kernel/osrelease":  func() string { u := hostUname(); return unix.ByteSliceToString(u.Release[:]) },
		"kernel/version":    func() string { u := hostUname(); return unix.ByteSliceToString(u.Version[:]) },
		"kernel/pid_max":    func() string { return "4194304" },
		"kernel/ngroups_max": func() string {
			return "65536"
		},
	}
	p := strings.Join(comps, "/")
	if f, ok := files[p]; ok {
		return &vnode{kind: vFile, data: []byte(f() + "\n")}, nil
	}
	dirs := map[string][]dirent{"": {{"kernel", vDir}}, "kernel": nil}
	for k := range files {
		dirs["kernel"] = append(dirs["kernel"], dirent{strings.TrimPrefix(k, "kernel/"), vFile})
	}
	if es, ok := dirs[p]; ok {
		// The rest of the Sentry's own /proc/sys (the container's values),
		// read-only.
		if m, err := mirrorProc("sys", comps, nil); err == nil && m.kind == vDir {
			have := map[string]bool{}
			for _, e := range es {
				have[e.name] = true
			}
			for _, e := range m.entries {
				if !have[e.name] {
					es = append(es, e)
				}
			}
		}
		sort.Slice(es, func(i, j int) bool { return es[i].name < es[j].name })
		return &vnode{kind: vDir, entries: es}, nil
	}
	return mirrorProc("sys", comps, nil)
}

// mirrorProc is the Sentry's own /proc/BASE/comps... as a read-only copy:
// a directory with the same entries, or a file with the same content
// (edited by edit when not nil). The Sentry is in the container's network,
// IPC and UTS namespaces, so these are the container's.
func mirrorProc(base string, comps []string, edit func(p string, b []byte) []byte) (*vnode, error) {
	for _, c := range comps {
		if c == "" || c == "." || c == ".." || strings.ContainsRune(c, '/') {
			return nil, unix.ENOENT
		}
	}
	p := "/proc/" + strings.Join(append([]string{base}, comps...), "/")
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil { // /proc/net is a link to self/net
		return nil, unix.ENOENT
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, unix.EACCES
		}
		v := &vnode{kind: vDir}
		for _, e := range ents {
			kind := vFile
			switch {
			case e.IsDir():
				kind = vDir
			case e.Type()&os.ModeSymlink != 0:
				continue // none the workload needs; they would lead outside
			}
			v.entries = append(v.entries, dirent{e.Name(), kind})
		}
		return v, nil
	case unix.S_IFREG:
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, toErrno(err)
		}
		if edit != nil {
			b = edit(p, b)
		}
		return &vnode{kind: vFile, data: b}, nil
	}
	return nil, unix.ENOENT
}

// procNet is /proc/net: the container's network namespace, without the
// Sentry's own unix socket, and with the names the Sentry bound as the
// programs gave them (unixNames).
func (s *sentry) procNet(comps []string) (*vnode, error) {
	return mirrorProc("net", comps, func(p string, b []byte) []byte {
		if !strings.HasSuffix(p, "/unix") {
			return b
		}
		var out []string
		for _, line := range strings.SplitAfter(string(b), "\n") {
			if strings.Contains(line, "/dev/.runx") {
				continue
			}
			body := strings.TrimSuffix(line, "\n")
			if i := strings.Index(body, " /proc/self/fd/"); i >= 0 {
				if prog, ok := s.names.pathOf(body[i+1:]); ok {
					line = body[:i+1] + prog + line[len(body):]
				}
			}
			out = append(out, line)
		}
		return []byte(strings.Join(out, ""))
	})
}

// procPid builds /proc/VPID/comps... for the host process (or thread) host.
func (s *sentry) procPid(t *task, host, vpid int, comps []string, process bool) (*vnode, error) {
	if len(comps) == 0 {
		v := &vnode{kind: vDir}
		for _, f := range pidFiles {
			v.entries = append(v.entries, dirent{f, vFile})
		}
		v.entries = append(v.entries, dirent{"status", vFile}, dirent{"stat", vFile}, dirent{"mounts", vFile}, dirent{"mountinfo", vFile},
			dirent{"root", vLink}, dirent{"cwd", vLink}, dirent{"exe", vLink}, dirent{"fd", vDir}, dirent{"fdinfo", vDir},
			dirent{"ns", vDir})
		if process {
			v.entries = append(v.entries, dirent{"task", vDir})
		}
		return v, nil
	}
	name := comps[0]
	switch {
	case name == "root" && len(comps) == 1:
		return &vnode{kind: vLink, target: "/"}, nil
	case name == "cwd" && len(comps) == 1:
		p, err := s.cwdOf(host)
		if err != nil {
			return nil, err
		}
		return &vnode{kind: vLink, target: p}, nil
	case name == "exe" && len(comps) == 1:
		p, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", host))
		if err != nil {
			return nil, unix.ENOENT
		}
		if inv, ok := interpreted(host); ok {
			p = inv.prog
			if p == heldExecPath {
				if v, ok := s.heldExe(t, host); ok {
					return v, nil
				}
				return nil, unix.ENOENT
			}
		}
		return &vnode{kind: vLink, target: p}, nil
	case name == "comm" && len(comps) == 1:
		c, ok := shownComm(host)
		if !ok {
			return nil, unix.ENOENT
		}
		return &vnode{kind: vFile, data: []byte(c + "\n"), writeTo: fmt.Sprintf("/proc/%d/comm", host)}, nil
	case name == "cmdline" && len(comps) == 1:
		inv, ok := interpreted(host)
		if !ok {
			break
		}
		return &vnode{kind: vFile, data: []byte(strings.Join(inv.argv, "\x00") + "\x00")}, nil
	case name == "fd":
		return s.procFD(t, host, comps[1:])
	case name == "fdinfo":
		return s.procFDInfo(t, host, comps[1:])
	case name == "ns":
		return s.procNS(t, host, comps[1:])
	case name == "task" && process:
		if len(comps) == 1 {
			v := &vnode{kind: vDir}
			for _, vt := range s.threads(host) {
				v.entries = append(v.entries, dirent{strconv.Itoa(vt[1]), vDir})
			}
			return v, nil
		}
		vtid, ok := procNumber(comps[1])
		if !ok {
			return nil, unix.ENOENT
		}
		for _, vt := range s.threads(host) {
			if vt[1] == vtid {
				return s.procPid(t, vt[0], vtid, comps[2:], false)
			}
		}
		return nil, unix.ENOENT
	case len(comps) > 1:
		return nil, unix.ENOTDIR
	case name == "status":
		return s.procStatusFile(host, t != nil && host == t.tid)
	case name == "stat":
		return s.procStatFile(host, t != nil && host == t.tid)
	case name == "mounts":
		return s.procMounts()
	case name == "mountinfo":
		return s.procMountinfo()
	}
	for _, f := range pidFiles {
		if name == f {
			from := strconv.Itoa(host)
			if userNSFiles[f] {
				from = "self"
			}
			b, err := os.ReadFile("/proc/" + from + "/" + f)
			if err != nil {
				return nil, unix.ENOENT
			}
			if f == "limits" {
				b = s.limitsFile(host, b)
			}
			v := &vnode{kind: vFile, data: b}
			if writablePidFiles[f] {
				v.writeTo = "/proc/" + from + "/" + f
			}
			return v, nil
		}
	}
	return nil, unix.ENOENT
}

// limitsFile is /proc/PID/limits with the RLIMIT_NOFILE the process sees
// (sys_process.go), in the kernel's layout.
func (s *sentry) limitsFile(host int, b []byte) []byte {
	lim := s.nofileOf(hostTgid(host))
	val := func(v uint64) string {
		if v == unix.RLIM_INFINITY {
			return "unlimited"
		}
		return strconv.FormatUint(v, 10)
	}
	lines := strings.SplitAfter(string(b), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "Max open files ") {
			lines[i] = fmt.Sprintf("%-25s %-20s %-20s %-10s\n", "Max open files", val(lim.Cur), val(lim.Max), "files")
		}
	}
	return []byte(strings.Join(lines, ""))
}

// invocation is a dynamic program as the Sentry started it: its ELF
// interpreter with the program as argument (sys_exec.go).
type invocation struct {
	prog string
	argv []string
}

// interpreted recognizes a process that runs an ELF interpreter the Sentry
// invoked for a dynamic program, to show the program instead.
func interpreted(host int) (invocation, bool) {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", host))
	if err != nil || !strings.HasPrefix(exe[strings.LastIndexByte(exe, '/')+1:], "ld-") {
		return invocation{}, false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", host))
	if err != nil {
		return invocation{}, false
	}
	args := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
	switch {
	case len(args) >= 4 && args[1] == "--argv0":
		return invocation{prog: args[3], argv: append([]string{args[2]}, args[4:]...)}, true
	case len(args) >= 2 && strings.HasPrefix(args[1], "/"):
		return invocation{prog: args[1], argv: args[1:]}, true
	}
	return invocation{}, false
}

// shownComm is a process's name as the kernel would have set it had it
// exec'ed the path: an exec through a descriptor names the process after
// the file itself (busybox for sh), so while the name is still that one
// the Sentry shows argv[0]'s base name instead, and for a dynamic program
// the program's rather than its interpreter's.
func shownComm(host int) (string, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", host))
	if err != nil {
		return "", false
	}
	comm := strings.TrimSuffix(string(b), "\n")
	if inv, ok := interpreted(host); ok {
		// The kernel named it after the interpreter: another name is the
		// program's own (prctl(PR_SET_NAME)).
		if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", host)); err == nil && progComm(exe) != comm {
			return comm, true
		}
		if len(inv.argv) > 0 && inv.argv[0] != "" {
			return progComm(inv.argv[0]), true
		}
		return progComm(inv.prog), true
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", host))
	if err != nil || progComm(exe) != comm {
		return comm, true // renamed by the program itself
	}
	cl, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", host))
	if err != nil {
		return comm, true
	}
	if argv0, _, _ := strings.Cut(string(cl), "\x00"); argv0 != "" {
		return progComm(argv0), true
	}
	return comm, true
}

// progComm is the kernel's name for a program: its base name, 15 bytes.
func progComm(prog string) string {
	c := prog[strings.LastIndexByte(prog, '/')+1:]
	if len(c) > 15 {
		c = c[:15]
	}
	return c
}

// procFD is /proc/PID/fd and its links, without the reserved descriptors.
func (s *sentry) procFD(t *task, host int, comps []string) (*vnode, error) {
	if len(comps) > 1 {
		return nil, unix.ENOTDIR
	}
	if len(comps) == 0 {
		return s.fdDir(t, host, vLink), nil
	}
	fd, ok := procNumber(comps[0])
	if !ok || s.reserved(fd) {
		return nil, unix.ENOENT
	}
	pfd, err := unix.PidfdOpen(host, 0)
	if err != nil {
		return nil, unix.ENOENT
	}
	defer unix.Close(pfd)
	c, err := unix.PidfdGetfd(pfd, fd, 0)
	if err != nil {
		return nil, unix.ENOENT
	}
	return s.fdVnode(t, c, "")
}

// fdVnode is a link leading to the Sentry's descriptor c (held for the call
// t), named path, or where c leads when path is "".
func (s *sentry) fdVnode(t *task, c int, path string) (*vnode, error) {
	if t != nil {
		t.hold(c)
	}
	if path == "" {
		p, err := s.fdPath(c)
		if err != nil {
			return nil, unix.ENOENT
		}
		path = p
	}
	return &vnode{kind: vFD, fd: c, fdPath: path}, nil
}

// procNS is /proc/PID/ns: links named as the kernel names them
// ("net:[4026531840]"), which lead to the namespace itself (stat -L tells
// two processes' namespaces apart). The user namespace is the container's,
// the Sentry's own, as uid_map is.
func (s *sentry) procNS(t *task, host int, comps []string) (*vnode, error) {
	if len(comps) == 0 {
		v := &vnode{kind: vDir}
		for _, n := range nsNames {
			if _, err := os.Lstat("/proc/self/ns/" + n); err == nil {
				v.entries = append(v.entries, dirent{n, vLink})
			}
		}
		return v, nil
	}
	if len(comps) > 1 {
		return nil, unix.ENOTDIR
	}
	if !slices.Contains(nsNames, comps[0]) {
		return nil, unix.ENOENT
	}
	from := strconv.Itoa(host)
	if comps[0] == "user" {
		from = "self"
	}
	c, err := unix.Open("/proc/"+from+"/ns/"+comps[0], unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, unix.ENOENT
	}
	v, err := s.fdVnode(t, c, "")
	if err == nil {
		v.ns = true
	}
	return v, err
}

// fdDir lists host's descriptors as /proc/PID/fd and fdinfo do, each entry
// of kind.
func (s *sentry) fdDir(t *task, host int, kind int) *vnode {
	v := &vnode{kind: vDir}
	fds := s.openFDs(host)
	// A process that opens its own fd/ lists the descriptor it is
	// opening, as it would with the kernel's, which lists the
	// directory when it is read: the lowest free number.
	if t != nil {
		if tgid, err := t.getTgid(); err == nil && tgid == host {
			used := map[int]bool{}
			for _, fd := range fds {
				used[fd] = true
			}
			free := 0
			for used[free] || s.reserved(free) {
				free++
			}
			fds = append(fds, free)
			sort.Ints(fds)
		}
	}
	for _, fd := range fds {
		v.entries = append(v.entries, dirent{strconv.Itoa(fd), kind})
	}
	return v
}

// procFDInfo is /proc/PID/fdinfo: the kernel's own lines for the
// workload's descriptors (position, flags, mount, inode and what the
// descriptor's kind adds), none for the Sentry's reserved ones.
func (s *sentry) procFDInfo(t *task, host int, comps []string) (*vnode, error) {
	if len(comps) > 1 {
		return nil, unix.ENOTDIR
	}
	if len(comps) == 0 {
		return s.fdDir(t, host, vFile), nil
	}
	fd, ok := procNumber(comps[0])
	if !ok || s.reserved(fd) {
		return nil, unix.ENOENT
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%d", host, fd))
	if err != nil {
		return nil, unix.ENOENT
	}
	return &vnode{kind: vFile, data: b}, nil
}

// openFDs lists a process's descriptors below the reserved ones.
func (s *sentry) openFDs(host int) []int {
	es, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", host))
	if err != nil {
		return nil
	}
	var fds []int
	for _, e := range es {
		if n, err := strconv.Atoi(e.Name()); err == nil && !s.reserved(n) {
			fds = append(fds, n)
		}
	}
	sort.Ints(fds)
	return fds
}

// cwdOf is the working directory of a workload process.
func (s *sentry) cwdOf(host int) (string, error) {
	pfd, err := unix.PidfdOpen(host, 0)
	if err != nil {
		return "", unix.ENOENT
	}
	defer unix.Close(pfd)
	c, err := unix.PidfdGetfd(pfd, s.cwdFD, 0)
	if err != nil {
		return "/", nil
	}
	defer unix.Close(c)
	return s.fdPath(c)
}

// procStatusFile is /proc/PID/status with the sandbox's pids and identity.
// self is true when the thread that opens it is host: the kernel would show
// it running (it is, reading its own status), where the host's file shows
// it asleep, waiting for the Sentry.
func (s *sentry) procStatusFile(host int, self bool) (*vnode, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", host))
	if err != nil {
		return nil, unix.ENOENT
	}
	levels := 0
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "NSpid:"); ok {
			levels = len(strings.Fields(v))
		}
	}
	virt := func(v string) string {
		f := strings.Fields(v)
		if len(f) == levels && levels >= 2 {
			return f[len(f)-1]
		}
		return "0"
	}
	tgid, _ := strconv.Atoi(strings.TrimSpace(statusField(string(b), "Tgid")))
	c := s.creds.of(tgid)
	ids4 := func(r, e, sv, fs uint32) string { return fmt.Sprintf("%d\t%d\t%d\t%d", r, e, sv, fs) }
	var out strings.Builder
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		k, v, _ := strings.Cut(line, ":")
		switch k {
		case "Name":
			if c, ok := shownComm(host); ok {
				line = "Name:\t" + c
			}
		case "NStgid", "NSpid", "NSpgid", "NSsid":
			line = k + ":\t" + virt(v)
		case "Tgid", "Pid":
			ns := "NStgid"
			if k == "Pid" {
				ns = "NSpid"
			}
			line = k + ":\t" + virt(statusField(string(b), ns))
		case "PPid":
			pp, _ := strconv.Atoi(strings.TrimSpace(v))
			line = "PPid:\t" + strconv.Itoa(s.virtualPid(pp))
		case "State":
			if self {
				line = "State:\tR (running)"
			}
		case "NoNewPrivs":
			line = "NoNewPrivs:\t0"
			if c.noNewPrivs {
				line = "NoNewPrivs:\t1"
			}
		case "TracerPid":
			line = "TracerPid:\t0"
		case "Seccomp", "Seccomp_filters":
			// The Sentry's filters (its own and the one that sends it
			// the calls) are not the workload's.
			n, _ := strconv.Atoi(strings.TrimSpace(statusField(string(b), "Seccomp_filters")))
			n -= 1 + s.ownFilters
			switch {
			case k == "Seccomp_filters":
				line = fmt.Sprintf("Seccomp_filters:\t%d", max(n, 0))
			case n <= 0:
				line = "Seccomp:\t0"
			}
		case "Uid":
			line = "Uid:\t" + ids4(c.ruid, c.euid, c.suid, c.fsuid)
		case "Gid":
			line = "Gid:\t" + ids4(c.rgid, c.egid, c.sgid, c.fsgid)
		case "Groups":
			gs := make([]string, len(c.groups))
			for i, g := range c.groups {
				gs[i] = strconv.FormatUint(uint64(g), 10)
			}
			line = "Groups:\t" + strings.Join(gs, " ") + " " // the kernel's trailing space
		case "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb":
			v := map[string]uint64{"CapInh": c.inh, "CapPrm": c.prm, "CapEff": c.eff, "CapBnd": c.bnd, "CapAmb": c.amb}[k]
			line = fmt.Sprintf("%s:\t%016x", k, v)
		}
		out.WriteString(line + "\n")
	}
	return &vnode{kind: vFile, data: []byte(out.String())}, nil
}

// statusField is the value of the line "key:\tvalue" of a status file.
func statusField(status, key string) string {
	for len(status) > 0 {
		line, rest, _ := strings.Cut(status, "\n")
		if v, ok := strings.CutPrefix(line, key); ok && strings.HasPrefix(v, ":") {
			return v[1:]
		}
		status = rest
	}
	return ""
}

// procStatFile is /proc/PID/stat with the sandbox's pids (self: as in
// procStatusFile).
func (s *sentry) procStatFile(host int, self bool) (*vnode, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", host))
	if err != nil {
		return nil, unix.ENOENT
	}
	st, err := procStatus(host)
	if err != nil {
		return nil, unix.ENOENT
	}
	line := strings.TrimRight(string(b), "\n")
	i := strings.LastIndexByte(line, ')')
	j := strings.IndexByte(line, '(')
	if i < 0 || j < 0 {
		return nil, unix.ENOENT
	}
	levels := len(strings.Fields(st["NSpid"]))
	virt := func(v string) string {
		f := strings.Fields(v)
		if len(f) == levels && levels >= 2 {
			return f[len(f)-1]
		}
		return "0"
	}
	rest := strings.Fields(line[i+1:])
	// rest[0] state, [1] ppid, [2] pgrp, [3] session, [4] tty_nr, [5] tpgid
	if len(rest) > 5 {
		if self {
			rest[0] = "R"
		}
		pp, _ := strconv.Atoi(rest[1])
		rest[1] = strconv.Itoa(s.virtualPid(pp))
		rest[2] = virt(st["NSpgid"])
		rest[3] = virt(st["NSsid"])
		if tp, _ := strconv.Atoi(rest[5]); tp > 0 {
			rest[5] = strconv.Itoa(s.virtualPid(tp))
		}
	}
	comm := line[j : i+1]
	if c, ok := shownComm(host); ok {
		comm = "(" + c + ")"
	}
	out := virt(st["NSpid"]) + " " + comm + " " + strings.Join(rest, " ") + "\n"
	return &vnode{kind: vFile, data: []byte(out)}, nil
}

// procMounts is the container's mount table without runx's mounts.
func (s *sentry) procMounts() (*vnode, error) {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return nil, unix.ENOENT
	}
	var out strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || hidden(f[1]) {
			continue
		}
		out.WriteString(line + "\n")
	}
	return &vnode{kind: vFile, data: []byte(out.String())}, nil
}

// procMountinfo is the container's mountinfo without runx's mounts (the
// mount point is the fifth field).
func (s *sentry) procMountinfo() (*vnode, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, unix.ENOENT
	}
	var out strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || hidden(f[4]) {
			continue
		}
		out.WriteString(line + "\n")
	}
	return &vnode{kind: vFile, data: []byte(out.String())}, nil
}

// Pids.

// procNumber reads a /proc name that is a number as the kernel does
// (name_to_int): decimal digits, no leading zero ("03" names nothing), and
// small enough for an int.
func procNumber(s string) (int, bool) {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' || n >= (1<<32-1-9)/10 {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func isNumber(s string) bool {
	_, ok := procNumber(s)
	return ok
}

// inWorkload tells whether host process h lives in the workload's pid
// namespace, and returns its pid there.
func (s *sentry) inWorkload(h int) (int, bool) {
	link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", h))
	if err != nil || nsInode(link) != s.pidns || s.pidns == 0 {
		return 0, false
	}
	st, err := procStatus(h)
	if err != nil {
		return 0, false
	}
	return lastField(st["NStgid"]), true
}

// virtualPid maps a pid of the Sentry's namespace to the workload's, 0 for
// a process outside the workload (the Sentry itself).
func (s *sentry) virtualPid(h int) int {
	if h <= 0 {
		return 0
	}
	if v, ok := s.inWorkload(h); ok {
		return v
	}
	return 0
}

// workloadPids lists the workload's processes by their sandbox pids.
func (s *sentry) workloadPids() []int {
	var out []int
	for _, h := range hostPids() {
		if v, ok := s.inWorkload(h); ok && v > 0 {
			out = append(out, v)
		}
	}
	sort.Ints(out)
	return out
}

// hostPid maps a sandbox pid to the Sentry's namespace, 0 when no workload
// process has it.
func (s *sentry) hostPid(vpid int) int {
	if vpid <= 0 {
		return 0
	}
	for _, h := range hostPids() {
		if v, ok := s.inWorkload(h); ok && v == vpid {
			return h
		}
	}
	return 0
}

func hostPids() []int {
	es, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range es {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// threads lists a process's threads as [host tid, sandbox tid] pairs.
func (s *sentry) threads(host int) [][2]int {
	es, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", host))
	if err != nil {
		return nil
	}
	var out [][2]int
	for _, e := range es {
		h, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := procStatus(h)
		if err != nil {
			continue
		}
		out = append(out, [2]int{h, lastField(st["NSpid"])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][1] < out[j][1] })
	return out
}

func hostUname() unix.Utsname {
	var u unix.Utsname
	_ = unix.Uname(&u)
	return u
}
