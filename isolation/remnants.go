package isolation

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"
)

// A runx killed between making a container's cgroups and writing its state
// (or a state file damaged later) would leave cgroups, and the processes in
// them, that nothing names. So a mode records them in the state directory
// before it makes them, and delete finds them there when the state cannot
// be read.
const remnantsFile = "runx-remnants.json"

// Remnants are what a container holds on the host beyond its state directory.
type Remnants struct {
	// Cgroups maps a controller ("" on cgroup v2) to the container's cgroup.
	Cgroups map[string]string `json:"cgroups,omitempty"`
}

// SaveRemnants records r in container id's state directory.
func SaveRemnants(root, id string, r *Remnants) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(filepath.Join(root, id, remnantsFile), data, 0o600); err != nil {
		return fmt.Errorf("recording the container's cgroups: %w", err)
	}
	return nil
}

// ForceRemove removes container id when its state cannot be read: the
// processes in its recorded cgroups are killed, the cgroups and the state
// directory removed. A container with nothing recorded loses its directory.
func ForceRemove(root, id string) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	dir := filepath.Join(root, id)
	var r Remnants
	if data, err := os.ReadFile(filepath.Join(dir, remnantsFile)); err == nil {
		if err := json.Unmarshal(data, &r); err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(dir, remnantsFile), err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	var errs []error
	paths := cgroupPaths(r.Cgroups)
	for _, path := range paths {
		if err := emptyCgroup(path); err != nil {
			errs = append(errs, err)
		}
	}
	for _, path := range paths {
		if err := cgroups.RemovePath(path); err != nil {
			errs = append(errs, fmt.Errorf("removing cgroup %s: %w", path, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err // the state directory stays: it names what is left
	}
	return os.RemoveAll(dir)
}

// cgroupPaths are the distinct cgroup directories of m, made safe: only
// directories below /sys/fs/cgroup are touched.
func cgroupPaths(m map[string]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range m {
		p = filepath.Clean(p)
		if !strings.HasPrefix(p, "/sys/fs/cgroup/") || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// emptyCgroup kills every process in the cgroup at path and below, thawing
// it first (a frozen process dies only once thawed).
func emptyCgroup(path string) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if strings.HasPrefix(path, "/sys/fs/cgroup/freezer/") {
		_ = cgroups.WriteFile(path, "freezer.state", "THAWED")
	}
	if _, err := os.Stat(filepath.Join(path, "cgroup.freeze")); err == nil {
		_ = cgroups.WriteFile(path, "cgroup.freeze", "0")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids, err := cgroups.GetAllPids(path)
		if err != nil || len(pids) == 0 {
			return nil // gone, or empty
		}
		for _, pid := range pids {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup %s: processes %v still there after SIGKILL", path, pids)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
