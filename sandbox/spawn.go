package sandbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/runx-dev/runx/internal/seccompbpf"
)

// spawnSpec is a workload process for the Sentry to start: the container's
// first process, or one runx exec asks for.
type spawnSpec struct {
	plan     *execPlan
	cwd      int // a descriptor of its working directory
	env      []string
	stdio    [3]int
	preserve int    // descriptors 3 .. 3+preserve-1 it inherits
	init     bool   // the first process: new namespaces; else it joins them
	ctty     bool   // its stdin is a terminal to take as controlling terminal
	creds    *creds // its identity when not the container's
}

// spawn starts a workload process under a new filter, serves its listener,
// and returns its pid and a channel that gets its wait status. On an error
// after the fork, exited still tells how the child ended.
func (s *sentry) spawn(sp *spawnSpec) (pid int, exited chan unix.WaitStatus, err error) {
	if err := argsFit(sp.plan.argv, sp.env); err != nil {
		return 0, nil, &os.PathError{Op: "exec", Path: sp.plan.argv[0], Err: err}
	}
	prog, err := seccompbpf.Compile(workloadFilter(s.execFD, s.cwdFD))
	if err != nil {
		return 0, nil, err
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, nil, err
	}
	defer unix.Close(pair[0])
	l := &loader{
		cwdSrc: int32(sp.cwd), cwdDst: int32(s.cwdFD),
		execSrc: int32(sp.plan.fd), execDst: int32(s.execFD),
		syncSrc: int32(pair[1]), syncDst: int32(s.cwdFD - 1),
		void: cstr(voidPath), slash: cstr("/"), empty: cstr(""),
		nofile: s.nofile,
		umask:  uintptr(s.umask),
		prog:   unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]},
		argv:   cstrs(sp.plan.argv),
		envp:   cstrs(sp.env),
		failMsg: []byte("runx-sentry: the workload's process could not start (" +
			"user namespaces, chroot or seccomp refused)\n"),
	}
	if pr := s.opts.profile; pr != nil {
		l.profile = unix.SockFprog{Len: uint16(len(pr.prog)), Filter: &pr.prog[0]}
		l.profileFlags = pr.flags
	}
	for i, fd := range sp.stdio {
		l.stdio[i] = int32(fd)
	}
	l.ctty = sp.ctty
	for fd := 0; fd < 3+sp.preserve; fd++ {
		l.keep = append(l.keep, int32(fd))
	}
	l.keep = append(l.keep, l.syncDst, l.cwdDst, l.execDst)
	sort.Slice(l.keep, func(i, j int) bool { return l.keep[i] < l.keep[j] })
	var pidPipe [2]int
	if !sp.init {
		if err := unix.Pipe2(pidPipe[:], unix.O_CLOEXEC); err != nil {
			unix.Close(pair[1])
			return 0, nil, err
		}
		defer unix.Close(pidPipe[0])
		l.join, l.userNS, l.pidNS, l.pidPipe = true, int32(s.userNS), int32(s.pidNS), int32(pidPipe[1])
	}
	exited = make(chan unix.WaitStatus, 1)
	// The fork, and the waiter for its exit, on the tracer thread: its
	// reaping cannot run in between.
	s.tr.do(func() {
		pid, err = l.start()
		if err != nil {
			return
		}
		if !sp.init {
			unix.Close(pidPipe[1])
			pidPipe[1] = -1
			var b [4]byte
			if n, rerr := io.ReadFull(fdReader(pidPipe[0]), b[:]); rerr != nil || n != 4 {
				err = errors.New("the exec'd process could not join the sandbox's namespaces")
				return
			}
			pid = int(*(*int32)(unsafe.Pointer(&b[0])))
		}
		s.tr.wait(pid, exited, sp.init)
	})
	if pidPipe[1] > 0 {
		unix.Close(pidPipe[1])
	}
	unix.Close(pair[1])
	runtime.KeepAlive(prog)
	runtime.KeepAlive(l)
	if err != nil {
		return 0, nil, err
	}
	if sp.creds != nil {
		s.creds.set(pid, sp.creds) // before it runs
	}
	// The namespaces are read once the child has made itself dumpable
	// (loader.go), before it is released to make calls: right after the
	// fork it may still have the Sentry's undumpable memory, which a
	// Sentry without CAP_SYS_PTRACE cannot look into (/proc/PID/ns).
	listener, err := handshake(pid, pair[0], func() {
		if sp.init {
			s.noteNamespaces(pid)
		}
	})
	if err != nil {
		return 0, exited, err
	}
	s.debugf("workload pid %d (host) started: %q", pid, sp.plan.argv)
	go s.serve(listener)
	return pid, exited, nil
}

// fdReader reads a descriptor without taking it over.
type fdReader int

func (r fdReader) Read(b []byte) (int, error) {
	for {
		n, err := unix.Read(int(r), b)
		if err == unix.EINTR {
			continue
		}
		if n == 0 && err == nil {
			return 0, io.EOF
		}
		return n, err
	}
}

// planProgram finds args[0] as runc does (in $PATH when it has no slash,
// relative to cwd otherwise) and plans its exec.
func (s *sentry) planProgram(args []string, pathEnv, cwd string) (*execPlan, error) {
	name := args[0]
	under := func(p string) string {
		if strings.HasPrefix(p, "/") {
			return p
		}
		return strings.TrimRight(cwd, "/") + "/" + p
	}
	if strings.Contains(name, "/") {
		plan, err := s.planExec(nil, unix.AT_FDCWD, under(name), args, 0)
		if err != nil {
			return nil, &os.PathError{Op: "exec", Path: name, Err: err}
		}
		return plan, nil
	}
	if pathEnv == "" {
		pathEnv = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	for _, dir := range strings.Split(pathEnv, ":") {
		if dir == "" {
			dir = "."
		}
		plan, err := s.planExec(nil, unix.AT_FDCWD, under(dir+"/"+name), args, 0)
		if err == nil {
			return plan, nil
		}
	}
	return nil, &os.PathError{Op: "exec", Path: name, Err: errNotInPath}
}

type notInPath struct{}

func (notInPath) Error() string { return "executable file not found in $PATH" }

var errNotInPath = notInPath{}

// runx exec. libcontainer starts, in the container, runx-sentry --join with
// the process to run; that client hands its request and its stdio to the
// Sentry over a unix socket on the Sentry's private tmpfs (which the
// workload cannot name), and the Sentry starts the process in the
// workload's namespaces under a filter of its own. The client relays the
// signals it gets and ends with the process's status.

const execSocket = scratchPath + "/exec.sock"

// execRequest is the client's first message.
type execRequest struct {
	Args   []string `json:"args"`
	Env    []string `json:"env"`
	Cwd    string   `json:"cwd"`
	UID    uint32   `json:"uid"`
	GID    uint32   `json:"gid"`
	Groups []uint32 `json:"groups,omitempty"`
	TTY    bool     `json:"tty"` // stdin is a terminal the client let go
}

// execMessage is every later message, both ways.
type execMessage struct {
	Error  string `json:"error,omitempty"`
	Pid    int    `json:"pid,omitempty"`
	Signal int    `json:"signal,omitempty"`
	Status *int   `json:"status,omitempty"`
}

// serveExecs listens for runx exec's clients.
func (s *sentry) serveExecs() {
	_ = os.Remove(execSocket)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: execSocket, Net: "unix"})
	if err != nil {
		s.logf("runx exec will not work: %v", err)
		return
	}
	// The client runs as the exec's user, which must reach the socket.
	_ = os.Chmod(scratchPath, 0o711)
	_ = os.Chmod(execSocket, 0o666)
	go func() {
		for {
			c, err := ln.AcceptUnix()
			if err != nil {
				return
			}
			go s.serveExec(c)
		}
	}()
}

func (s *sentry) serveExec(c *net.UnixConn) {
	defer c.Close()
	enc := json.NewEncoder(c)
	req, fds, rest, err := readExecRequest(c)
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	reply := func(err error) { _ = enc.Encode(execMessage{Error: err.Error()}) }
	if err != nil {
		reply(err)
		return
	}
	if len(fds) != 3 || len(req.Args) == 0 {
		reply(errors.New("malformed exec request"))
		return
	}
	who, err := s.execCreds(req)
	if err != nil {
		reply(err)
		return
	}
	var plan *execPlan
	s.asCreds(who, func() result {
		plan, err = s.planProgram(req.Args, envPath(req.Env), req.Cwd)
		return result{}
	})
	if err != nil {
		reply(err)
		return
	}
	defer plan.close()
	var cwd int
	s.asCreds(who, func() result {
		cwd, err = s.openDir(req.Cwd)
		return result{}
	})
	if err != nil {
		reply(fmt.Errorf("cwd %s: %w", req.Cwd, err))
		return
	}
	defer unix.Close(cwd)
	pid, exited, err := s.spawn(&spawnSpec{plan: plan, cwd: cwd, env: req.Env, stdio: [3]int{fds[0], fds[1], fds[2]}, ctty: req.TTY, creds: s.startCreds(who, plan)})
	if err != nil {
		reply(err)
		return
	}
	for _, fd := range fds {
		unix.Close(fd)
	}
	fds = nil
	vpid := s.virtualPid(pid)
	_ = enc.Encode(execMessage{Pid: vpid})
	// Signals from the client, until it goes. A client that goes before its
	// process ends was killed (an engine's exec timeout kills the process
	// it started, which is the client): the process goes with it.
	finished := make(chan struct{})
	go func() {
		dec := json.NewDecoder(io.MultiReader(bytes.NewReader(rest), c))
		for {
			var m execMessage
			if dec.Decode(&m) != nil {
				select {
				case <-finished:
				default:
					_ = signalProcess(pid, int(unix.SIGKILL))
				}
				return
			}
			if m.Signal > 0 && m.Signal <= 64 {
				_ = signalProcess(pid, m.Signal)
			}
		}
	}()
	ws := <-exited
	close(finished)
	status := 1
	switch {
	case ws.Exited():
		status = ws.ExitStatus()
	case ws.Signaled():
		status = 128 + int(ws.Signal())
	}
	_ = enc.Encode(execMessage{Status: &status})
}

// envPath is the value of PATH in env: the first, as getenv finds it.
func envPath(env []string) string {
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			return v
		}
	}
	return ""
}

// readExecRequest reads the first line, which carries the stdio descriptors.
func readExecRequest(c *net.UnixConn) (*execRequest, []int, []byte, error) {
	var data []byte
	var fds []int
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(4*3))
	for !bytes.Contains(data, []byte{'\n'}) {
		// Above what any execve takes (a quarter of an 8 MiB stack limit,
		// 128 KiB a string), so that the program's exec gives the error.
		if len(data) > 16<<20 {
			return nil, fds, nil, errors.New("exec request too large")
		}
		n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		if oobn > 0 {
			msgs, perr := unix.ParseSocketControlMessage(oob[:oobn])
			if perr == nil {
				for _, m := range msgs {
					if got, err := unix.ParseUnixRights(&m); err == nil {
						for _, fd := range got {
							unix.CloseOnExec(fd)
						}
						fds = append(fds, got...)
					}
				}
			}
		}
		if n == 0 && err != nil {
			return nil, fds, nil, err
		}
		data = append(data, buf[:n]...)
	}
	line, rest, _ := bytes.Cut(data, []byte{'\n'})
	var req execRequest
	if err := json.Unmarshal(line, &req); err != nil {
		return nil, fds, nil, err
	}
	return &req, fds, rest, nil
}

// joinInput is the program runx exec asks the Sentry to start, passed to the
// client in a file: a large environment is the program's to fit, not the
// client's execve's.
type joinInput struct {
	Args []string `json:"args"`
	Env  []string `json:"env"`
}

// joinInputFile is p's arguments and environment in a sealed memfd.
func joinInputFile(p *specs.Process) (*os.File, error) {
	data, err := json.Marshal(joinInput{Args: p.Args, Env: p.Env})
	if err != nil {
		return nil, err
	}
	fd, err := unix.MemfdCreate("runx-exec", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("exec: memfd: %w", err)
	}
	f := os.NewFile(uintptr(fd), "runx-exec")
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, fmt.Errorf("exec: writing the request: %w", err)
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_WRITE|unix.F_SEAL_GROW|unix.F_SEAL_SHRINK|unix.F_SEAL_SEAL); err != nil {
		f.Close()
		return nil, fmt.Errorf("exec: sealing the request: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// join is runx-sentry --join: the client side of runx exec.
func join(args []string) {
	if len(args) == 0 || len(args) == 1 && args[0] == "--" {
		fmt.Fprintln(os.Stderr, "runx-sentry: --join needs a program to run")
		os.Exit(127)
	}
	// --report-fd=N: where runx exec on the host reads this client's own
	// failure, which is then exec's error rather than a status.
	// --input-fd=N: the program's arguments and environment (joinInput).
	// --alone FLAGS...: the container may be created, not started, so that
	// no Sentry answers yet: this client then becomes the Sentry of its
	// process, with these flags (the container's profile) and its own
	// identity (runAlone). Its flags come last, up to "--".
	var report, input *os.File
	var alone []string
	for len(args) > 0 && strings.HasPrefix(args[0], "--") && args[0] != "--" {
		if args[0] == "--alone" {
			alone = []string{}
			for args = args[1:]; len(args) > 0 && args[0] != "--"; args = args[1:] {
				alone = append(alone, args[0])
			}
			break
		}
		name, fd, _ := strings.Cut(args[0], "=")
		n, err := strconv.Atoi(fd)
		if err != nil || n < 3 {
			fmt.Fprintf(os.Stderr, "runx-sentry: --join: bad %s\n", args[0])
			os.Exit(127)
		}
		unix.CloseOnExec(n)
		switch name {
		case "--report-fd":
			report = os.NewFile(uintptr(n), "report")
		case "--input-fd":
			input = os.NewFile(uintptr(n), "input")
		}
		args = args[1:]
	}
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	fail := func(err error) {
		if report != nil {
			if _, werr := report.WriteString(err.Error() + "\n"); werr == nil {
				os.Exit(127)
			}
		}
		fmt.Fprintln(os.Stderr, "runx-sentry: exec: "+err.Error())
		os.Exit(127)
	}
	env := os.Environ()
	if input != nil {
		var in joinInput
		if err := json.NewDecoder(input).Decode(&in); err != nil {
			fail(fmt.Errorf("reading the program to run: %w", err))
		}
		input.Close()
		args, env = in.Args, in.Env
		// HOME as libcontainer sets it for the process it starts (this client).
		if h := os.Getenv("HOME"); h != "" && !slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, "HOME=") }) {
			env = append(env, "HOME="+h)
		}
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "runx-sentry: --join needs a program to run")
		os.Exit(127)
	}
	// Before the Sentry starts there is no socket, and its directory is
	// the container user's alone (EACCES for another user).
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: execSocket, Net: "unix"})
	if err != nil && alone != nil && (errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ECONNREFUSED) || errors.Is(err, unix.EACCES)) {
		runAlone(alone, args, env, fail)
	}
	if err != nil {
		fail(fmt.Errorf("the Sentry does not answer: %w", err))
	}
	cwd, err := os.Getwd()
	if err != nil {
		cwd = "/"
	}
	req, _ := json.Marshal(execRequest{Args: args, Env: env, Cwd: cwd,
		UID: uint32(os.Getuid()), GID: uint32(os.Getgid()), Groups: ownGroups(), TTY: releaseTerminal()})
	msg := append(req, '\n')
	n, _, err := c.WriteMsgUnix(msg, unix.UnixRights(0, 1, 2), nil)
	if err == nil && n < len(msg) {
		// A stream socket takes a large request in parts.
		_, err = c.Write(msg[n:])
	}
	if err != nil {
		fail(err)
	}
	sigs := make(chan os.Signal, 16)
	var forward []os.Signal
	for n := 1; n <= 64; n++ {
		switch syscall.Signal(n) {
		case unix.SIGKILL, unix.SIGSTOP, unix.SIGCHLD, unix.SIGURG, unix.SIGPIPE, unix.SIGSEGV,
			unix.SIGBUS, unix.SIGFPE, unix.SIGILL, unix.SIGTRAP, unix.SIGSYS, unix.SIGPROF:
			continue
		}
		if n != 32 && n != 33 {
			forward = append(forward, syscall.Signal(n))
		}
	}
	signal.Notify(sigs, forward...)
	enc := json.NewEncoder(c)
	go func() {
		for sig := range sigs {
			_ = enc.Encode(execMessage{Signal: int(sig.(syscall.Signal))})
		}
	}()
	dec := json.NewDecoder(bufio.NewReader(c))
	for {
		var m execMessage
		if err := dec.Decode(&m); err != nil {
			fail(fmt.Errorf("the Sentry went away: %w", err))
		}
		switch {
		case m.Error != "":
			fail(errors.New(m.Error))
		case m.Status != nil:
			os.Exit(*m.Status)
		}
	}
}

// runAlone is the exec client become a Sentry: a process run in a created
// container, whose Sentry has not started. It serves the process as the
// container's Sentry would, in namespaces of its own (there is no workload
// yet whose namespaces to join), with the container's profile (flags) and
// this client's identity, which libcontainer gave it as the exec's: user,
// groups, capabilities, no_new_privs, cwd. It never returns.
func runAlone(flags, args, env []string, fail func(error)) {
	st, err := procStatus(os.Getpid())
	if err != nil {
		fail(err)
	}
	cwd, err := os.Getwd()
	if err != nil {
		cwd = "/"
	}
	flags = append(flags, "--uid="+strconv.Itoa(os.Getuid()), "--gid="+strconv.Itoa(os.Getgid()),
		"--caps="+st["CapEff"], "--caps-prm="+st["CapPrm"], "--caps-bnd="+st["CapBnd"],
		"--caps-inh="+st["CapInh"], "--caps-amb="+st["CapAmb"], "--cwd="+cwd)
	var groups []string
	for _, g := range ownGroups() {
		groups = append(groups, strconv.FormatUint(uint64(g), 10))
	}
	if len(groups) > 0 {
		flags = append(flags, "--groups="+strings.Join(groups, ","))
	}
	if st["NoNewPrivs"] == "1" {
		flags = append(flags, "--no-new-privs")
	}
	o, err := parseOptions(append(append(flags, "--"), args...))
	if err != nil {
		fail(err)
	}
	o.env = env
	s := newSentry(o)
	s.alone = true
	status, err := s.run()
	if err != nil {
		fail(err)
	}
	exitLike(status)
}

// releaseTerminal gives up the controlling terminal on stdin, if this
// process's session has it, so that the workload process can take it.
// The SIGHUP and SIGCONT this sends the session's foreground group (this
// very process) are ignored, hence discarded: the caller's signal.Notify
// for them comes after.
func releaseTerminal() bool {
	sid, err := unix.IoctlGetInt(0, unix.TIOCGSID)
	if err != nil || sid != unix.Getpid() {
		return false
	}
	signal.Ignore(unix.SIGHUP, unix.SIGCONT)
	_, err = unix.IoctlRetInt(0, unix.TIOCNOTTY)
	return err == nil
}

func ownGroups() []uint32 {
	gs, _ := os.Getgroups()
	out := make([]uint32, len(gs))
	for i, g := range gs {
		out[i] = uint32(g)
	}
	return out
}

// execCreds is the identity of a process runx exec starts as another user
// than the container's (nil for the container's): that user's ids and
// groups, with the container's capabilities for root and none for another
// user, as runc's exec gives (no ambient capabilities).
func (s *sentry) execCreds(req *execRequest) (*creds, error) {
	base := s.creds.base
	groups := append([]uint32(nil), req.Groups...)
	slices.Sort(groups)
	if req.UID == base.ruid && req.GID == base.rgid && slices.Equal(groups, base.groups) {
		return nil, nil
	}
	th := s.creds.thread
	if th.prm&(1<<unix.CAP_SETUID) == 0 || th.prm&(1<<unix.CAP_SETGID) == 0 {
		return nil, fmt.Errorf("exec as uid %d gid %d: the container's user (uid %d gid %d) lacks CAP_SETUID or CAP_SETGID to act as another",
			req.UID, req.GID, base.ruid, base.rgid)
	}
	c := &creds{
		ruid: req.UID, euid: req.UID, suid: req.UID, fsuid: req.UID,
		rgid: req.GID, egid: req.GID, sgid: req.GID, fsgid: req.GID,
		groups: groups, bnd: base.bnd,
	}
	if req.UID == 0 {
		c.eff, c.prm = base.eff, base.prm
	}
	return c, nil
}
