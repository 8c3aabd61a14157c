package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runx-dev/runx/isolation"
)

// options are the Sentry's flags (see sentryFlags in mode.go).
type options struct {
	uid, gid    uint32
	groups      []uint32
	caps        capSets // process.capabilities, before the program's exec
	cwd         string
	preserveFDs int
	nofile      uint64 // process.rlimits' RLIMIT_NOFILE soft limit (0: the one found)
	debug       bool
	noNewPrivs  bool     // process.noNewPrivileges: set-id programs do not raise
	profile     *profile // the OCI seccomp profile, compiled (nil: none)
	args        []string
	env         []string // the program's environment (nil: the Sentry's own)
}

func parseOptions(args []string) (*options, error) {
	o := &options{cwd: "/"}
	for i, a := range args {
		if a == "--" {
			o.args = args[i+1:]
			break
		}
		name, val, _ := strings.Cut(a, "=")
		var err error
		switch name {
		case "--uid":
			o.uid, err = parseID(val)
		case "--gid":
			o.gid, err = parseID(val)
		case "--groups":
			for _, g := range strings.Split(val, ",") {
				var id uint32
				if id, err = parseID(g); err != nil {
					break
				}
				o.groups = append(o.groups, id)
			}
		case "--caps":
			o.caps.eff, err = strconv.ParseUint(val, 16, 64)
		case "--caps-prm":
			o.caps.prm, err = strconv.ParseUint(val, 16, 64)
		case "--caps-bnd":
			o.caps.bnd, err = strconv.ParseUint(val, 16, 64)
		case "--caps-inh":
			o.caps.inh, err = strconv.ParseUint(val, 16, 64)
		case "--caps-amb":
			o.caps.amb, err = strconv.ParseUint(val, 16, 64)
		case "--cwd":
			o.cwd = val
		case "--nofile":
			o.nofile, err = strconv.ParseUint(val, 10, 64)
		case "--preserve-fds":
			o.preserveFDs, err = strconv.Atoi(val)
		case "--debug":
			o.debug = true
		case "--no-new-privs":
			o.noNewPrivs = true
		case "--seccomp":
			o.profile, err = decodeProfile(val)
		default:
			return nil, fmt.Errorf("unknown flag %q", a)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	if len(o.args) == 0 {
		return nil, errors.New("no program to run (usage: runx-sentry [flags] -- PROGRAM [ARGS...])")
	}
	return o, nil
}

func parseID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err
}

// sentry is the state of the userspace kernel.
type sentry struct {
	opts *options
	root int // O_PATH descriptor of "/", the container's root: every path resolves under it
	// The workload's two reserved descriptors at the top of its table.
	execFD, cwdFD int
	nofile        unix.Rlimit // the container's RLIMIT_NOFILE (soft capped at 1<<20), the workload's kernel limit
	umask         int         // the Sentry's own umask at start, the workload's first

	pidns         uint64 // inode of the workload's pid namespace
	userNS, pidNS int    // the workload's namespaces, which exec'd processes join

	mu       sync.Mutex
	hostname string
	domain   string
	logged   map[string]bool

	tr *tracer

	creds *credTable // the workload processes' identities

	ownFilters int // seccomp filters of the Sentry's own that workload processes inherit

	peers peerTable // who the Sentry connected or paired unix sockets for

	startedCh chan struct{} // closed once the workload's first program runs

	alone bool // an exec's own Sentry in a created container (runAlone)

	scratch scratchDirs
	mounts  mountKinds // what checkReal learnt of each mount
	names   unixNames  // the unix socket names the Sentry bound, as programs gave them
	held    heldExecs  // programs without a path that processes run (exec_held.go)
}

// Main is the Sentry: runx called as runx-sentry inside the container (after
// pivot_root "/" is the container's root). It never returns.
func Main(args []string) {
	if len(args) > 0 && args[0] == "--join" {
		join(args[1:])
	}
	// Before anything of the container's is read (see isolation.SelfMounts).
	isolation.DropSelfStaging()
	o, err := parseOptions(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "runx-sentry: "+err.Error())
		os.Exit(127)
	}
	status, err := newSentry(o).run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "runx-sentry: "+err.Error())
		os.Exit(127)
	}
	exitLike(status)
}

func newSentry(o *options) *sentry {
	s := &sentry{opts: o, logged: map[string]bool{}, userNS: -1, pidNS: -1}
	s.creds = newCredTable(o)
	s.startedCh = make(chan struct{})
	return s
}

// exitLike exits as the workload did: with its status, or 128+n for a death
// by signal n (the Sentry is the container's pid 1, which no signal it does
// not handle can kill).
func exitLike(ws unix.WaitStatus) {
	switch {
	case ws.Exited():
		os.Exit(ws.ExitStatus())
	case ws.Signaled():
		os.Exit(128 + int(ws.Signal()))
	}
	os.Exit(1)
}

func (s *sentry) run() (unix.WaitStatus, error) {
	var err error
	s.root, err = unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("opening the root: %w", err)
	}
	s.umask = unix.Umask(0) // the Sentry creates files with the workload's umask applied by hand
	var u unix.Utsname
	if err := unix.Uname(&u); err == nil {
		s.hostname = unix.ByteSliceToString(u.Nodename[:])
		s.domain = unix.ByteSliceToString(u.Domainname[:])
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	// Go raised its own soft limit at start (to the hard one, less one),
	// and lowers it again only for the children it execs: the container's
	// is the flag's.
	if o := s.opts.nofile; o > 0 && o < lim.Cur {
		lim.Cur = o
	}
	s.nofile = lim
	if lim.Cur < 64 {
		return 0, fmt.Errorf("RLIMIT_NOFILE of %d is too low for the sandbox (64 at least)", lim.Cur)
	}
	if s.nofile.Cur > 1<<20 {
		s.nofile.Cur = 1 << 20
	}
	s.execFD, s.cwdFD = int(s.nofile.Cur-1), int(s.nofile.Cur-2)
	s.creds.base.nofile = lim // before any workload process exists
	if err := s.scratch.init(); err != nil {
		return 0, err
	}
	// Before any workload process is forked, which inherits it.
	if err := installSelfFilter(); err != nil {
		s.logf("the Sentry runs without its own seccomp filter: %v", err)
	} else {
		s.ownFilters = 1
	}
	s.tr = newTracer(s)
	signal.Notify(s.tr.sigchld, unix.SIGCHLD)
	signal.Ignore(unix.SIGPIPE) // a closed stderr must not end the Sentry
	ctty := releaseTerminal()   // the workload's first process takes it
	s.forwardSignals()

	env := s.opts.env
	if env == nil {
		env = os.Environ()
	}
	plan, err := s.planProgram(s.opts.args, envPath(env), s.opts.cwd)
	if err != nil {
		return 0, err
	}
	defer plan.close()
	cwd, err := s.openDir(s.opts.cwd)
	if err != nil {
		return 0, fmt.Errorf("process.cwd %s: %w", s.opts.cwd, err)
	}
	defer unix.Close(cwd)
	stdio := [3]int{0, 1, 2}
	pid, exited, err := s.spawn(&spawnSpec{plan: plan, cwd: cwd, env: env, stdio: stdio,
		preserve: s.opts.preserveFDs, init: true, ctty: ctty, creds: s.startCreds(nil, plan)})
	if err != nil {
		if exited != nil {
			// The child has failed: its message and status tell why.
			return <-exited, nil
		}
		return 0, err
	}
	go s.markStarted(pid)
	if s.userNS >= 0 && s.pidNS >= 0 && !s.alone {
		s.serveExecs()
	}
	return <-exited, nil
}

// noteNamespaces records the namespaces of the workload's first process,
// before it makes any call.
func (s *sentry) noteNamespaces(pid int) {
	if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid)); err == nil {
		s.pidns = nsInode(ns)
	}
	var err error
	if s.userNS, err = unix.Open(fmt.Sprintf("/proc/%d/ns/user", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
		s.pidNS, err = unix.Open(fmt.Sprintf("/proc/%d/ns/pid", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		s.logf("runx exec will not work: %v", err)
	}
}

// nsInode parses "pid:[4026531836]".
func nsInode(link string) uint64 {
	i, j := strings.IndexByte(link, '['), strings.IndexByte(link, ']')
	if i < 0 || j < i {
		return 0
	}
	n, _ := strconv.ParseUint(link[i+1:j], 10, 64)
	return n
}

// forwardSignals passes the signals the engine sends to the container's
// process (the Sentry) on to the workload's first process.
func (s *sentry) forwardSignals() {
	ch := make(chan os.Signal, 16)
	var sigs []os.Signal
	for n := 1; n <= 64; n++ {
		switch syscall.Signal(n) {
		case unix.SIGKILL, unix.SIGSTOP, unix.SIGCHLD, unix.SIGURG, unix.SIGPIPE,
			unix.SIGSEGV, unix.SIGBUS, unix.SIGFPE, unix.SIGILL, unix.SIGTRAP, unix.SIGSYS, unix.SIGPROF:
			continue
		}
		if n == 32 || n == 33 { // glibc's internal signals, unused by Go but reserved
			continue
		}
		sigs = append(sigs, syscall.Signal(n))
	}
	signal.Notify(ch, sigs...)
	go func() {
		started := s.startedCh
		var early []syscall.Signal
		var poll <-chan time.Time
		// deliver sends the kept signals the program now handles or
		// blocks (a pid 1 keeps a blocked signal pending), or all of them.
		deliver := func(all bool) {
			pid := s.tr.initPID()
			var caught, blocked uint64
			if st, err := procStatus(pid); err == nil {
				caught, _ = strconv.ParseUint(st["SigCgt"], 16, 64)
				blocked, _ = strconv.ParseUint(st["SigBlk"], 16, 64)
			}
			kept := early[:0]
			for _, sig := range early {
				if all || (caught|blocked)&(1<<(uint(sig)-1)) != 0 {
					_ = unix.Kill(pid, sig)
				} else {
					kept = append(kept, sig)
				}
			}
			early = kept
		}
		for {
			select {
			case sig := <-ch:
				if pid := s.tr.initPID(); pid > 0 && started == nil {
					_ = unix.Kill(pid, sig.(syscall.Signal))
				} else if len(early) < 64 {
					// Before the workload's program has settled: kept
					// until it handles the signal, or has settled.
					early = append(early, sig.(syscall.Signal))
					if poll == nil {
						poll = time.Tick(time.Millisecond)
					}
				}
			case <-poll:
				if s.tr.initPID() > 0 {
					deliver(false)
				}
			case <-started:
				deliver(true)
				started, poll = nil, nil // nil channels: these cases are done
			}
		}
	}()
}

// StartedFile, in the Sentry's scratch directory, appears once the
// workload's first program runs: runx start waits for it (mode.go).
const startedFile = scratchPath + "/started"

// markStarted waits, for a bounded time, until the first process has
// replaced the loader with the workload's program, and writes startedFile:
// runx start returns then, as the namespace mode's does once the program
// runs (an engine watches for OOM kills from then on). Signals that come
// before the program has settled, that is run until it first sleeps in a
// call the host kernel serves (the namespace mode's start waits for that,
// and a program makes its first calls there in microseconds, where here
// each call is a round trip), are kept and delivered then: a program does
// not lose a SIGTERM sent right after start to its not yet installed
// handler (a pid 1 ignores a signal it does not handle).
func (s *sentry) markStarted(pid int) {
	defer close(s.startedCh)
	self, _ := os.Readlink("/proc/self/exe")
	deadline := time.Now().Add(2 * time.Second)
	for wait := 50 * time.Microsecond; time.Now().Before(deadline); wait = min(wait*2, 2*time.Millisecond) {
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err != nil || exe != self {
			break
		}
		time.Sleep(wait)
	}
	if !s.alone {
		_ = os.WriteFile(startedFile, nil, 0o600)
	}
	calm := 0
	const tick = 100 * time.Microsecond
	// A program that has not settled by then (busy, or waiting in a call
	// the Sentry serves) is let go: a loaded machine makes start-up slow.
	for settle := time.Now().Add(time.Second); time.Now().Before(settle); time.Sleep(tick) {
		asleep, alive := asleepOnHost(pid)
		if !alive {
			return
		}
		if !asleep {
			calm = 0
		} else if calm++; calm == 3 {
			return
		}
	}
}

// asleepOnHost tells whether thread tid sleeps by its own choice ('S', not
// 'D' for a page read) in a call the host kernel serves, and whether it is
// still there. Its wchan names where it sleeps: a call trapped for the
// Sentry waits in the seccomp notification code whether or not the Sentry
// has received it yet (on a loaded machine that can take milliseconds), and
// a running thread, or one whose wchan cannot be read, shows "0".
func asleepOnHost(tid int) (asleep, alive bool) {
	f, ok := statFields(tid)
	if !ok || len(f) == 0 {
		return false, false
	}
	if f[0] != "S" {
		return false, true
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/wchan")
	if err != nil {
		return false, true
	}
	w := strings.TrimSpace(string(b))
	return w != "" && w != "0" && !strings.HasPrefix(w, "seccomp_"), true
}

// logf writes to the container's stderr, where the engine collects the
// container's output.
func (s *sentry) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "runx-sentry: "+format+"\n", args...)
}

func (s *sentry) debugf(format string, args ...any) {
	if s.opts.debug {
		s.logf(format, args...)
	}
}

// logOnce logs a message once per key.
func (s *sentry) logOnce(key, format string, args ...any) {
	s.mu.Lock()
	seen := s.logged[key]
	s.logged[key] = true
	s.mu.Unlock()
	if !seen {
		s.logf(format, args...)
	}
}
