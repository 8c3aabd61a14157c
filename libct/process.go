package libct

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/runx-dev/runx/isolation"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// newProcess turns an OCI process into a libcontainer one.
func newProcess(p *specs.Process) (*libcontainer.Process, error) {
	lp := &libcontainer.Process{
		Args:            p.Args,
		Env:             p.Env,
		UID:             int(p.User.UID),
		GID:             int(p.User.GID),
		Cwd:             p.Cwd,
		Label:           p.SelinuxLabel,
		NoNewPrivileges: &p.NoNewPrivileges,
		AppArmorProfile: p.ApparmorProfile,
		Scheduler:       p.Scheduler,
		IOPriority:      p.IOPriority,
	}
	if p.ConsoleSize != nil {
		lp.ConsoleWidth = uint16(p.ConsoleSize.Width)
		lp.ConsoleHeight = uint16(p.ConsoleSize.Height)
	}
	if c := p.Capabilities; c != nil {
		lp.Capabilities = &configs.Capabilities{
			Bounding:    c.Bounding,
			Effective:   c.Effective,
			Inheritable: c.Inheritable,
			Permitted:   c.Permitted,
			Ambient:     raisableAmbient(c.Ambient, c.Permitted, c.Inheritable),
		}
	}
	for _, g := range p.User.AdditionalGids {
		lp.AdditionalGroups = append(lp.AdditionalGroups, int(g))
	}
	for _, rl := range p.Rlimits {
		t, ok := rlimitTypes[rl.Type]
		if !ok {
			return nil, fmt.Errorf("process.rlimits: unknown rlimit type %q", rl.Type)
		}
		lp.Rlimits = append(lp.Rlimits, configs.Rlimit{Type: t, Hard: rl.Hard, Soft: rl.Soft})
	}
	aff, err := configs.ConvertCPUAffinity(p.ExecCPUAffinity)
	if err != nil {
		return nil, fmt.Errorf("process.execCPUAffinity: %w", err)
	}
	lp.CPUAffinity = aff
	return lp, nil
}

var rlimitTypes = map[string]int{
	"RLIMIT_CPU":        unix.RLIMIT_CPU,
	"RLIMIT_FSIZE":      unix.RLIMIT_FSIZE,
	"RLIMIT_DATA":       unix.RLIMIT_DATA,
	"RLIMIT_STACK":      unix.RLIMIT_STACK,
	"RLIMIT_CORE":       unix.RLIMIT_CORE,
	"RLIMIT_RSS":        unix.RLIMIT_RSS,
	"RLIMIT_NPROC":      unix.RLIMIT_NPROC,
	"RLIMIT_NOFILE":     unix.RLIMIT_NOFILE,
	"RLIMIT_MEMLOCK":    unix.RLIMIT_MEMLOCK,
	"RLIMIT_AS":         unix.RLIMIT_AS,
	"RLIMIT_LOCKS":      unix.RLIMIT_LOCKS,
	"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_MSGQUEUE":   unix.RLIMIT_MSGQUEUE,
	"RLIMIT_NICE":       unix.RLIMIT_NICE,
	"RLIMIT_RTPRIO":     unix.RLIMIT_RTPRIO,
	"RLIMIT_RTTIME":     unix.RLIMIT_RTTIME,
}

// runner starts a process in a container (the init process for create and run,
// another one for exec) and, in the foreground, supervises it.
type runner struct {
	container     *libcontainer.Container
	init          bool
	run           bool // create and start at once
	detach        bool
	destroyOnExit bool
	subreaper     bool
	pidFile       string
	consoleSocket string
	pidfdSocket   string
	preserveFDs   int
	extraFiles    []*os.File // after the preserved fds
	subCgroups    map[string]string
	hooks         *laterHooks // poststart and poststop, run by runx
	prepared      func(pid int) error
	orderDevices  bool                   // config.json lists device rules whose order matters
	restore       *libcontainer.CriuOpts // CRIU restores the process instead of starting it
}

func (r *runner) start(config *specs.Process) (status int, err error) {
	defer func() {
		if err != nil && r.init {
			r.destroy()
		}
	}()
	if err := isolation.CheckTerminal(r.detach, config.Terminal, r.consoleSocket); err != nil {
		return -1, err
	}
	p, err := newProcess(config)
	if err != nil {
		return -1, err
	}
	p.LogLevel = strconv.Itoa(int(logrus.GetLevel()))
	p.Init = r.init
	p.SubCgroupPaths = r.subCgroups
	if err := r.addPreservedFDs(p); err != nil {
		return -1, err
	}
	var sig *forwarder
	if !r.detach {
		// Catch signals before the process exists so that none is lost.
		sig = newForwarder(r.subreaper)
		defer sig.stop()
	}
	t, err := setupIO(p, config.Terminal, r.detach, r.consoleSocket)
	if err != nil {
		return -1, err
	}
	defer t.close()
	if r.pidfdSocket != "" {
		closeSock, err := isolation.DialSocket(r.pidfdSocket, "--pidfd-socket")
		if err != nil {
			return -1, err
		}
		p.PidfdSocket = closeSock
		defer closeSock.Close()
	}
	var deferred []configs.Rlimit
	if r.init && r.restore == nil {
		p.Rlimits, deferred = splitRlimits(p.Rlimits)
	}
	if r.restore != nil {
		// The restored process's limits are its checkpoint's.
		if err := r.container.Restore(p, r.restore); err != nil {
			return -1, err
		}
	} else if err := r.container.Start(p); err != nil {
		return -1, err
	}
	if err := applyRlimits(p, deferred); err != nil {
		terminate(p)
		return -1, err
	}
	if r.init {
		if err := r.orderDeviceRules(); err != nil {
			terminate(p)
			return -1, err
		}
		if r.prepared != nil {
			pid, _ := p.Pid()
			if err := r.prepared(pid); err != nil {
				terminate(p)
				return -1, err
			}
		}
	}
	if r.init && r.run {
		pid, _ := p.Pid()
		if err := r.execInit(pid); err != nil {
			terminate(p)
			return -1, err
		}
	}
	if err := t.waitConsole(); err != nil {
		terminate(p)
		return -1, err
	}
	t.closePostStart()
	if r.pidFile != "" {
		if err := writePidFile(r.pidFile, p); err != nil {
			terminate(p)
			return -1, err
		}
	}
	if r.detach {
		return 0, nil
	}
	status, err = sig.forward(p, t)
	if err != nil {
		terminate(p)
		return -1, err
	}
	t.wait()
	if r.init {
		r.destroy()
	}
	return status, nil
}

// execInit lets the created container's init exec the user's process and
// returns once that process has replaced runx in it and had a moment to start
// (see waitExec): then a signal sent right after start meets the program, not
// runx, and poststart hooks run after the process is executed, as the spec asks.
// In the foreground (run without -d) runx waits for the process anyway and
// only waits for the exec when there are poststart hooks.
func (r *runner) execInit(pid int) error {
	if r.hooks != nil && len(r.hooks.StartContainer) > 0 {
		// The spec: a failing startContainer hook stops the container.
		if err := runStartContainer(r.container, r.hooks); err != nil {
			_ = unix.Kill(pid, unix.SIGKILL)
			return err
		}
	}
	hooks := r.hooks != nil && len(r.hooks.Poststart) > 0
	if r.run && !r.detach && !hooks {
		return r.container.Exec()
	}
	// The state is taken now: the process may be gone by the time hooks run.
	st, err := ociState(r.container, specs.StateRunning)
	if err != nil {
		return err
	}
	before := exeOf(pid)
	if err := r.container.Exec(); err != nil {
		return err
	}
	// Without hooks the wait stays short: engines watch for OOM kills only
	// once start has returned. Poststart hooks wait longer for the program.
	settleFor := 2 * time.Millisecond
	if hooks {
		settleFor = 50 * time.Millisecond
	}
	waitExec(pid, before, settleFor)
	if !hooks {
		return nil
	}
	return r.poststart(pid, st)
}

// poststart runs the poststart hooks. Under runtime-spec 1.2 and later a
// failing hook stops the container and is an error; before, it is a warning.
func (r *runner) poststart(pid int, st *specs.State) error {
	if !r.hooks.PoststartFatal {
		isolation.WarnHooks("poststart", r.hooks.Poststart, st)
		return nil
	}
	if err := isolation.RunHooks("poststart", r.hooks.Poststart, st); err != nil {
		_ = unix.Kill(pid, unix.SIGKILL)
		return err
	}
	return nil
}

func (r *runner) destroy() {
	if r.destroyOnExit {
		destroy(r.container, r.hooks)
	}
}

// destroy removes the container and then runs its poststop hooks.
func destroy(c *libcontainer.Container, hooks *laterHooks) error {
	var st *specs.State
	if hooks != nil && len(hooks.Poststop) > 0 {
		st, _ = ociState(c, specs.StateStopped)
	}
	if err := c.Destroy(); err != nil {
		logrus.Warn(err)
		return err
	}
	if st != nil {
		isolation.WarnHooks("poststop", hooks.Poststop, st)
	}
	return nil
}

// splitRlimits keeps back RLIMIT_AS: a low address-space limit set before the
// container's init has finished (a Go program that maps its heap and loads
// libseccomp) makes the init fail. It is applied once the init waits to exec.
func splitRlimits(in []configs.Rlimit) (now, later []configs.Rlimit) {
	for _, rl := range in {
		if rl.Type == unix.RLIMIT_AS {
			later = append(later, rl)
		} else {
			now = append(now, rl)
		}
	}
	return now, later
}

func applyRlimits(p *libcontainer.Process, limits []configs.Rlimit) error {
	if len(limits) == 0 {
		return nil
	}
	pid, err := p.Pid()
	if err != nil {
		return err
	}
	for _, rl := range limits {
		lim := unix.Rlimit{Cur: rl.Soft, Max: rl.Hard}
		if err := unix.Prlimit(pid, rl.Type, &lim, nil); err != nil {
			return fmt.Errorf("process.rlimits: setting limit %d on the container's init: %w", rl.Type, err)
		}
	}
	return nil
}

// addPreservedFDs passes fds 3 .. 3+N-1 of runx on to the process (--preserve-fds).
func (r *runner) addPreservedFDs(p *libcontainer.Process) error {
	for i := 3; i < 3+r.preserveFDs; i++ {
		if _, err := unix.FcntlInt(uintptr(i), unix.F_GETFD, 0); err != nil {
			return fmt.Errorf("--preserve-fds: fd %d is not open", i)
		}
		p.ExtraFiles = append(p.ExtraFiles, os.NewFile(uintptr(i), "preserved-fd-"+strconv.Itoa(i)))
	}
	p.ExtraFiles = append(p.ExtraFiles, r.extraFiles...)
	return nil
}

func terminate(p *libcontainer.Process) {
	_ = p.Signal(unix.SIGKILL)
	_, _ = p.Wait()
}

func writePidFile(path string, p *libcontainer.Process) error {
	pid, err := p.Pid()
	if err != nil {
		return err
	}
	return isolation.WritePidFile(path, pid)
}

// raisableAmbient keeps the ambient capabilities the kernel lets a process
// raise: those both permitted and inheritable. libcontainer warns ("can't
// raise ambient capability") for each other one and goes on without it;
// runc 1.1 said nothing, and runc's own default spec (ambient without
// inheritable) would warn at every start.
func raisableAmbient(ambient, permitted, inheritable []string) []string {
	var out []string
	for _, a := range ambient {
		if slices.Contains(permitted, a) && slices.Contains(inheritable, a) {
			out = append(out, a)
		}
	}
	return out
}
