package libct

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
)

// runx runs the poststart and poststop hooks itself instead of leaving them to
// libcontainer, which runs poststart already at create and fails the delete
// when a poststop hook fails. The runtime spec wants poststart once the user
// process runs, before start returns, and both only to warn when a hook fails.
// They are kept beside libcontainer's state, in this file.
const hooksFile = "runx-hooks.json"

type laterHooks struct {
	Poststart []configs.CommandHook `json:"poststart,omitempty"`
	Poststop  []configs.CommandHook `json:"poststop,omitempty"`
}

// takeLaterHooks removes poststart and poststop from config and returns them.
func takeLaterHooks(config *configs.Config) *laterHooks {
	h := &laterHooks{}
	for _, hook := range config.Hooks[configs.Poststart] {
		if ch, ok := hook.(configs.CommandHook); ok {
			h.Poststart = append(h.Poststart, ch)
		}
	}
	for _, hook := range config.Hooks[configs.Poststop] {
		if ch, ok := hook.(configs.CommandHook); ok {
			h.Poststop = append(h.Poststop, ch)
		}
	}
	delete(config.Hooks, configs.Poststart)
	delete(config.Hooks, configs.Poststop)
	return h
}

func (h *laterHooks) empty() bool { return len(h.Poststart) == 0 && len(h.Poststop) == 0 }

func (h *laterHooks) save(stateDir string) error {
	if h.empty() {
		return nil
	}
	data, err := json.Marshal(h)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(stateDir, hooksFile), data, 0o600)
}

func loadLaterHooks(stateDir string) (*laterHooks, error) {
	h := &laterHooks{}
	data, err := os.ReadFile(filepath.Join(stateDir, hooksFile))
	if errors.Is(err, os.ErrNotExist) {
		return h, nil
	} else if err != nil {
		return nil, err
	}
	return h, json.Unmarshal(data, h)
}

// runWarn runs hooks in order; a failing hook is logged and the rest still run.
func runWarn(kind string, hooks []configs.CommandHook, st *specs.State) {
	for i, hook := range hooks {
		if err := hook.Run(st); err != nil {
			logrus.Warnf("%s hook #%d (%s) failed: %v", kind, i, hook.Path, err)
		}
	}
}

// prestartAsCreated makes the prestart hooks see the container as "created",
// as the spec's state for them says, where libcontainer reports "creating". The
// wrapper removes itself once run: only command hooks can be saved in state.json.
func prestartAsCreated(config *configs.Config) {
	orig := config.Hooks[configs.Prestart]
	if len(orig) == 0 {
		return
	}
	config.Hooks[configs.Prestart] = configs.HookList{configs.NewFunctionHook(func(s *specs.State) error {
		delete(config.Hooks, configs.Prestart)
		st := *s
		st.Status = specs.StateCreated
		for _, h := range orig {
			if err := h.Run(&st); err != nil {
				return err
			}
		}
		return nil
	})}
}

// ociState is the state hooks get on stdin, with the status they should see.
func ociState(c *libcontainer.Container, status specs.ContainerState) (*specs.State, error) {
	st, err := c.OCIState()
	if err != nil {
		return nil, err
	}
	st.Status = status
	return st, nil
}

// exeOf is where /proc/PID/exe points, or "" once the process is gone.
func exeOf(pid int) string {
	p, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	return p
}

// waitExec waits, for a bounded time, until the container's init has replaced
// runx with the user's program: poststart hooks run after that, as the spec asks.
func waitExec(pid int, before string) {
	deadline := time.Now().Add(2 * time.Second)
	for wait := 50 * time.Microsecond; time.Now().Before(deadline); wait = min(wait*2, 5*time.Millisecond) {
		if now := exeOf(pid); now != before {
			return
		}
		time.Sleep(wait)
	}
}
