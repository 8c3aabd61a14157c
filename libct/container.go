package libct

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/utils"
	"github.com/opencontainers/runc/types"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/runx-dev/runx/isolation"
)

// container is a namespace-mode container loaded from its state directory.
type container struct {
	c    *libcontainer.Container
	root string
	mode string
}

func (c *container) ID() string   { return c.c.ID() }
func (c *container) Mode() string { return c.mode }

func (c *container) State() (*isolation.State, error) {
	status, err := c.c.Status()
	if err != nil {
		return nil, err
	}
	st, err := c.c.State()
	if err != nil {
		return nil, err
	}
	pid := st.BaseState.InitProcessPid
	if status == libcontainer.Stopped {
		pid = 0
	}
	bundle, annotations := utils.Annotations(st.Config.Labels)
	return &isolation.State{
		OCIVersion:  st.BaseState.Config.Version,
		ID:          st.BaseState.ID,
		Pid:         pid,
		Status:      status.String(),
		Bundle:      bundle,
		Rootfs:      st.BaseState.Config.Rootfs,
		Created:     st.BaseState.Created,
		Annotations: annotations,
	}, nil
}

func (c *container) Start() error {
	status, err := c.c.Status()
	if err != nil {
		return err
	}
	switch status {
	case libcontainer.Created:
		hooks, err := c.hooks()
		if err != nil {
			return err
		}
		st, err := c.c.State()
		if err != nil {
			return err
		}
		return (&runner{container: c.c, hooks: hooks}).execInit(st.InitProcessPid)
	case libcontainer.Stopped:
		return errors.New("cannot start a container that has stopped")
	case libcontainer.Running:
		return errors.New("cannot start an already running container")
	default:
		return fmt.Errorf("cannot start a container in the %s state", status)
	}
}

func (c *container) Signal(sig syscall.Signal, all bool) error {
	if !all {
		err := c.c.Signal(sig)
		if errors.Is(err, libcontainer.ErrNotRunning) {
			return isolation.ErrNotRunning
		}
		return err
	}
	pids, err := c.c.Processes()
	if err != nil {
		return err
	}
	if len(pids) == 0 {
		// As runc: --all on a container with no process left is no error
		// (the runc shim sends it whenever a shared-pid-namespace init exits).
		return nil
	}
	for _, pid := range pids {
		if err := unix.Kill(pid, sig); err != nil && err != unix.ESRCH {
			return fmt.Errorf("signal %d to pid %d: %w", sig, pid, err)
		}
	}
	if sig == unix.SIGKILL {
		// A frozen cgroup v1 task only dies once thawed.
		if st, _ := c.c.Status(); st == libcontainer.Paused {
			_ = c.c.Resume()
		}
	}
	return nil
}

func (c *container) Delete(force bool) error {
	status, err := c.c.Status()
	if err != nil {
		return err
	}
	switch {
	case status == libcontainer.Stopped:
		return c.destroy()
	case force:
		return c.kill()
	default:
		return fmt.Errorf("cannot delete container %s that is not stopped: %s", c.c.ID(), status)
	}
}

// kill sends SIGKILL and destroys the container once its init is gone.
func (c *container) kill() error {
	_ = c.c.Signal(unix.SIGKILL)
	deadline := time.Now().Add(10 * time.Second)
	for wait := time.Millisecond; time.Now().Before(deadline); wait = min(wait*2, 100*time.Millisecond) {
		if err := c.c.Signal(unix.Signal(0)); err != nil {
			return c.destroy()
		}
		time.Sleep(wait)
	}
	return errors.New("container init still running")
}

func (c *container) hooks() (*laterHooks, error) {
	return loadLaterHooks(filepath.Join(c.root, c.c.ID()))
}

// destroy removes the container and runs its poststop hooks.
func (c *container) destroy() error {
	hooks, err := c.hooks()
	if err != nil {
		logrus.Warnf("reading the container's hooks: %v", err)
	}
	return destroy(c.c, hooks)
}

func (c *container) Exec(req *isolation.ExecRequest) (int, error) {
	status, err := c.c.Status()
	if err != nil {
		return -1, err
	}
	if status == libcontainer.Stopped {
		return -1, errors.New("cannot exec in a stopped container")
	}
	if status == libcontainer.Paused && !req.IgnorePaused {
		return -1, errors.New("cannot exec in a paused container (use --ignore-paused to override)")
	}
	r := &runner{
		container:     c.c,
		detach:        req.Detach,
		subreaper:     false,
		pidFile:       req.PidFile,
		consoleSocket: req.ConsoleSocket,
		pidfdSocket:   req.PidfdSocket,
		preserveFDs:   req.PreserveFDs,
		extraFiles:    req.ExtraFiles,
		subCgroups:    req.SubCgroup,
	}
	return r.start(req.Process)
}

func (c *container) Pause() error {
	status, err := c.c.Status()
	if err != nil {
		return err
	}
	if status != libcontainer.Running && status != libcontainer.Created {
		return isolation.ErrNotRunning
	}
	// libcontainer tells a paused container by its frozen cgroup: once
	// frozen here, it is paused.
	if cgroups.IsCgroup2UnifiedMode() {
		if st, err := c.c.State(); err == nil && st.CgroupPaths[""] != "" {
			return freezeV2(st.CgroupPaths[""])
		}
	}
	return c.c.Pause()
}

// freezeV2 freezes a cgroup v2, thawing it and trying again while it does
// not settle frozen, and never leaves it freezing. A task in a killable
// wait cannot freeze: in the sandbox mode a workload thread waits so for
// the Sentry's reply to a call, and the Sentry, in the same cgroup, may be
// frozen before it sends it; libcontainer would wait 10 s and leave the
// cgroup half frozen (its cgroup v1 freezer thaws and retries; this is the
// same for v2).
func freezeV2(dir string) error {
	events := filepath.Join(dir, "cgroup.events")
	frozen := func() bool {
		b, _ := os.ReadFile(events)
		return slices.Contains(strings.Split(string(b), "\n"), "frozen 1")
	}
	write := func(v string) error {
		return os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte(v), 0o644)
	}
	deadline := time.Now().Add(10 * time.Second)
	for wait := 20 * time.Millisecond; ; wait = min(wait*2, 200*time.Millisecond) {
		if err := write("1"); err != nil {
			return fmt.Errorf("freezing %s: %w", dir, err)
		}
		for settle := time.Now().Add(wait); time.Now().Before(settle); time.Sleep(time.Millisecond) {
			if frozen() {
				return nil
			}
		}
		if err := write("0"); err != nil {
			return fmt.Errorf("thawing %s: %w", dir, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not freeze within 10 s (a task in an uninterruptible wait)", dir)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (c *container) Resume() error {
	err := c.c.Resume()
	if errors.Is(err, libcontainer.ErrNotPaused) {
		return isolation.ErrNotPaused
	}
	return err
}

func (c *container) Processes() ([]int, error) { return c.c.Processes() }

func (c *container) OOMNotify() (<-chan struct{}, error) { return c.c.NotifyOOM() }

// Update applies new resource limits to the running container's cgroup.
func (c *container) Update(r *specs.LinuxResources) error {
	config := c.c.Config()
	if config.Cgroups.Resources == nil {
		config.Cgroups.Resources = &cgroups.Resources{}
	}
	if err := applyResources(config.Cgroups.Resources, r); err != nil {
		return err
	}
	return c.c.Set(config)
}

func (c *container) Stats() (*types.Stats, error) {
	st, err := c.c.Stats()
	if err != nil {
		return nil, err
	}
	return convertStats(st), nil
}

var _ isolation.Container = (*container)(nil)
