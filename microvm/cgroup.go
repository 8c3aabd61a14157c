package microvm

import (
	"fmt"
	"time"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/manager"
	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The VM's host cgroup: the container's cgroup path (linux.cgroupsPath, or
// the id as runc names it), holding the monitor, the hypervisor and its
// daemons, as Kata's sandbox cgroup holds its VM. The container's own
// limits apply in the guest, to its processes; here the VM is accounted and
// every process of it is found and killed by the cgroup.

// hostCgroup is the cgroup config for the container's VM.
func hostCgroup(id string, spec *specs.Spec, systemd bool) (*cgroups.Cgroup, error) {
	cg, err := specconv.CreateCgroupConfig(&specconv.CreateOpts{CgroupName: id, UseSystemdCgroup: systemd, Spec: spec}, nil)
	if err != nil {
		return nil, fmt.Errorf("config.json: linux.cgroupsPath: %w", err)
	}
	// The guest applies the container's limits (its memory is the VM's).
	cg.Resources = &cgroups.Resources{SkipDevices: true}
	return cg, nil
}

// newManager is the cgroup's manager (Resources do not travel in JSON).
func newManager(cg *cgroups.Cgroup) (cgroups.Manager, error) {
	if cg.Resources == nil {
		cg.Resources = &cgroups.Resources{SkipDevices: true}
	}
	return manager.New(cg)
}

// joinCgroup makes the cgroup and moves pid into it.
func joinCgroup(cg *cgroups.Cgroup, pid int) (cgroups.Manager, error) {
	m, err := newManager(cg)
	if err != nil {
		return nil, fmt.Errorf("the VM's cgroup: %w", err)
	}
	if err := m.Apply(pid); err != nil {
		_ = m.Destroy()
		return nil, fmt.Errorf("the VM's cgroup: %w", err)
	}
	return m, nil
}

// removeCgroup kills what is left in the cgroup and removes it.
func removeCgroup(cg *cgroups.Cgroup) error {
	if cg == nil {
		return nil
	}
	m, err := newManager(cg)
	if err != nil {
		return err
	}
	_ = m.Freeze(cgroups.Frozen)
	for _, p := range cgroupPids(m) {
		_ = killPid(p)
	}
	_ = m.Freeze(cgroups.Thawed)
	// Killed processes leave the cgroup only once they have exited (QEMU
	// takes a while to free guest memory); one forked meanwhile is killed
	// too. The cgroup cannot be removed before.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		pids := cgroupPids(m)
		if len(pids) == 0 {
			break
		}
		for _, p := range pids {
			_ = killPid(p)
		}
	}
	return m.Destroy()
}

// cgroupPids lists the processes in the VM's cgroup. The manager's own
// GetAllPids reads the v1 devices hierarchy, which the VM's cgroup skips
// (SkipDevices): any hierarchy holds every process.
func cgroupPids(m cgroups.Manager) []int {
	paths := m.GetPaths()
	for _, name := range []string{"", "pids", "freezer", "cpu", "memory"} {
		if p, ok := paths[name]; ok {
			if pids, err := cgroups.GetAllPids(p); err == nil {
				return pids
			}
		}
	}
	return nil
}

// freeze freezes or thaws every process of the VM: pause and resume.
func freeze(cg *cgroups.Cgroup, state cgroups.FreezerState) error {
	m, err := newManager(cg)
	if err != nil {
		return err
	}
	return m.Freeze(state)
}

// frozen tells whether the VM's cgroup is frozen.
func frozen(cg *cgroups.Cgroup) bool {
	m, err := newManager(cg)
	if err != nil {
		return false
	}
	st, err := m.GetFreezerState()
	return err == nil && st == cgroups.Frozen
}
