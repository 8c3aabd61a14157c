package libct

import (
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// orderDeviceRules rewrites a cgroup v1 device list so that the kernel holds
// the container's rules in the order config.json lists them. libcontainer
// writes the smallest set of changes, sorted, which grants the same access but
// loses the order the runtime spec asks runtimes to apply entries in. The
// container's init is still waiting to exec its process, so the moment with no
// rule at all is never seen by the workload.
func (r *runner) orderDeviceRules() error {
	if !r.orderDevices {
		return nil
	}
	c := r.container
	st, err := c.State()
	if err != nil {
		return err
	}
	cfg := c.Config()
	if cfg.Cgroups == nil || cfg.Cgroups.Resources == nil || cfg.Cgroups.Systemd || cfg.RootlessCgroups ||
		cfg.Cgroups.Resources.SkipDevices || len(cfg.Cgroups.Resources.Devices) == 0 {
		return nil
	}
	dir, ok := st.CgroupPaths["devices"]
	if !ok {
		return nil // cgroup v2: devices are an eBPF program, order is kept
	}
	if _, err := os.Stat(filepath.Join(dir, "devices.list")); err != nil {
		return nil
	}
	write := func(file, rule string) error {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(rule), 0); err != nil {
			return fmt.Errorf("cgroup %s: writing %q to %s: %w", dir, rule, file, err)
		}
		return nil
	}
	if err := write("devices.deny", "a"); err != nil {
		return err
	}
	for _, r := range cfg.Cgroups.Resources.Devices {
		file := "devices.deny"
		if r.Allow {
			file = "devices.allow"
		}
		if err := write(file, r.CgroupString()); err != nil {
			return err
		}
	}
	return nil
}

// listsAllowRules tells whether config.json grants devices itself: only then
// can the kernel's order differ from the listed one in a way anyone sees (a
// lone "deny all" comes first either way).
func listsAllowRules(spec *specs.Spec) bool {
	if spec.Linux == nil || spec.Linux.Resources == nil {
		return false
	}
	for _, d := range spec.Linux.Resources.Devices {
		if d.Allow {
			return true
		}
	}
	return false
}
