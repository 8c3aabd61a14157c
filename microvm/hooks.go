package microvm

import (
	"encoding/json"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runx-dev/runx/isolation"
)

// Hooks of config.json run on the host, as Kata runs them, with the
// container's state (its pid is the monitor's, whose network namespace is
// the VM's: a hook that sets up networking there sets it up for the VM):
// prestart, createRuntime and createContainer when create has made the
// container in the guest, poststart once it runs, poststop once it is
// deleted. startContainer hooks run in the guest, in the container, where
// runc runs them (their program is the container's).

const hooksFile = "hooks.json"

// laterHooks are the hooks that run after create, kept in the state
// directory.
type laterHooks struct {
	OCIVersion string       `json:"ociVersion"`
	Poststart  []specs.Hook `json:"poststart,omitempty"`
	Poststop   []specs.Hook `json:"poststop,omitempty"`
}

// createHooks runs the hooks of create, in runc's order.
func createHooks(spec *specs.Spec, st *specs.State) error {
	h := spec.Hooks
	if h == nil {
		return nil
	}
	for _, k := range []struct {
		name  string
		hooks []specs.Hook
	}{{"prestart", h.Prestart}, {"createRuntime", h.CreateRuntime}, {"createContainer", h.CreateContainer}} { //nolint:staticcheck // prestart is deprecated, still run
		if err := isolation.RunHooks(k.name, isolation.CommandHooks(k.hooks), st); err != nil {
			return err
		}
	}
	return nil
}

func saveLaterHooks(dir string, spec *specs.Spec) error {
	if spec.Hooks == nil || len(spec.Hooks.Poststart) == 0 && len(spec.Hooks.Poststop) == 0 {
		return nil
	}
	return writeJSON(filepath.Join(dir, hooksFile), laterHooks{OCIVersion: spec.Version,
		Poststart: spec.Hooks.Poststart, Poststop: spec.Hooks.Poststop})
}

func loadLaterHooks(dir string) *laterHooks {
	var h laterHooks
	b, err := os.ReadFile(filepath.Join(dir, hooksFile))
	if err != nil || json.Unmarshal(b, &h) != nil {
		return nil
	}
	return &h
}

// poststart runs the poststart hooks: from runtime-spec 1.2 a failure is an
// error that stops the container, before a warning (as the namespace mode).
func (h *laterHooks) poststart(st *specs.State) error {
	if h == nil || len(h.Poststart) == 0 {
		return nil
	}
	hooks := isolation.CommandHooks(h.Poststart)
	if !isolation.VersionAtLeast(h.OCIVersion, 1, 2) {
		isolation.WarnHooks("poststart", hooks, st)
		return nil
	}
	return isolation.RunHooks("poststart", hooks, st)
}

func (h *laterHooks) poststop(st *specs.State) {
	if h != nil && len(h.Poststop) > 0 {
		isolation.WarnHooks("poststop", isolation.CommandHooks(h.Poststop), st)
	}
}
