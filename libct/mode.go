// Package libct is runx's namespace isolation mode: Linux namespaces, cgroups,
// seccomp and capabilities through runc's libcontainer.
package libct

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/moby/sys/userns"
	_ "github.com/opencontainers/cgroups/devices" // device rules for cgroup v1 and v2
	"github.com/opencontainers/cgroups/manager"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/sirupsen/logrus"

	"github.com/runx-dev/runx/isolation"
)

// Name is the isolation mode's name.
const Name = "namespace"

// Mode is the namespace isolation mode.
type Mode struct{}

func init() { isolation.Register(Mode{}) }

// Name implements isolation.Mode.
func (Mode) Name() string { return Name }

// Create implements isolation.Mode. The caller has already chdir'ed into the bundle.
func (Mode) Create(req *isolation.CreateRequest) (int, error) { return Create(req, nil) }

// Extra is what a mode built on this one (unikernel) adds to a container.
type Extra struct {
	// Mode is recorded with the container so later commands reach that mode.
	Mode string
	// Prepared runs once the container's init waits to exec its process,
	// with the init's pid: its namespaces exist, the user's process does not.
	Prepared func(pid int) error
}

// Create makes a libcontainer container for req, with extra's additions.
func Create(req *isolation.CreateRequest, extra *Extra) (int, error) {
	return create(req, extra, nil)
}

// create is Create, or with restore set a container whose process CRIU
// restores from a checkpoint instead of starting it.
func create(req *isolation.CreateRequest, extra *Extra, restore *libcontainer.CriuOpts) (int, error) {
	if extra == nil {
		extra = &Extra{}
	}
	rootlessCg, err := useRootlessCgroups(req.Rootless, req.SystemdCgroup)
	if err != nil {
		return -1, err
	}
	config, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{
		CgroupName:       req.ID,
		UseSystemdCgroup: req.SystemdCgroup,
		NoPivotRoot:      req.NoPivot,
		NoNewKeyring:     req.NoNewKeyring,
		Spec:             req.Spec,
		RootlessEUID:     os.Geteuid() != 0,
		RootlessCgroups:  rootlessCg,
	})
	if err != nil {
		return -1, fmt.Errorf("config.json: %w", err)
	}
	normalize(config)
	hooks := takeLaterHooks(config, req.Spec)
	prestartAsCreated(config)
	c, err := libcontainer.Create(req.Root, req.ID, config)
	if err != nil {
		if errors.Is(err, libcontainer.ErrExist) {
			return -1, fmt.Errorf("container %q: %w", req.ID, err)
		}
		return -1, err
	}
	// Before libcontainer makes the cgroups: delete finds them through this
	// record if runx dies before the state says where they are.
	if err := recordCgroups(req.Root, req.ID, config); err != nil {
		_ = c.Destroy()
		return -1, err
	}
	if err := hooks.save(filepath.Join(req.Root, req.ID)); err != nil {
		_ = c.Destroy()
		return -1, err
	}
	if extra.Mode != "" {
		if err := isolation.Record(req.Root, req.ID, extra.Mode); err != nil {
			_ = c.Destroy()
			return -1, err
		}
	}
	r := &runner{
		container:     c,
		init:          true,
		destroyOnExit: !req.Keep,
		detach:        req.Detach || !req.Run && restore == nil,
		run:           req.Run && restore == nil,
		restore:       restore,
		subreaper:     !req.NoSubreaper,
		pidFile:       req.PidFile,
		consoleSocket: req.ConsoleSocket,
		pidfdSocket:   req.PidfdSocket,
		preserveFDs:   req.PreserveFDs,
		hooks:         hooks,
		prepared:      extra.Prepared,
		orderDevices:  listsAllowRules(req.Spec),
	}
	return r.start(req.Spec.Process)
}

// Load implements isolation.Mode.
func (Mode) Load(root, id string) (isolation.Container, error) { return LoadAs(root, id, Name) }

// LoadAs opens a container made by Create for the mode called mode.
func LoadAs(root, id, mode string) (isolation.Container, error) {
	c, err := libcontainer.Load(root, id)
	if err != nil {
		if errors.Is(err, libcontainer.ErrNotExist) {
			return nil, isolation.ErrNotExist
		}
		return nil, fmt.Errorf("container %s: reading %s: %w (delete --force removes it)", id, filepath.Join(root, id, "state.json"), err)
	}
	return &container{c: c, root: root, mode: mode}, nil
}

// useRootlessCgroups decides, as runc does, whether cgroup permission errors are
// tolerated: --rootless true/false wins; auto means "not real root".
func useRootlessCgroups(flag string, systemd bool) (bool, error) {
	switch flag {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "", "auto":
	default:
		return false, fmt.Errorf("--rootless: invalid value %q (want true, false or auto)", flag)
	}
	if os.Geteuid() != 0 {
		return true, nil
	}
	if !userns.RunningInUserNS() {
		return false, nil
	}
	if systemd {
		logrus.Debug("running as root in a user namespace with systemd cgroups: assuming rootless cgroups")
	}
	return true, nil
}

// recordCgroups saves the cgroup paths libcontainer is about to make for
// config (the same library computes them the same way from this process).
func recordCgroups(root, id string, config *configs.Config) error {
	if config.Cgroups == nil {
		return nil
	}
	m, err := manager.New(config.Cgroups)
	if err != nil {
		return fmt.Errorf("cgroups of %s: %w", id, err)
	}
	return isolation.SaveRemnants(root, id, &isolation.Remnants{Cgroups: m.GetPaths()})
}
