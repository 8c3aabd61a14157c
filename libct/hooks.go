package libct

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/runx-dev/runx/isolation"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// runx runs the poststart and poststop hooks itself instead of leaving them to
// libcontainer, which runs poststart already at create and fails the delete
// when a poststop hook fails. The runtime spec wants poststart once the user
// process runs, before start returns, and both only to warn when a hook fails.
// The startContainer hooks too, where it can (see takeLaterHooks). They are
// kept beside libcontainer's state, in this file.
const hooksFile = "runx-hooks.json"

type laterHooks struct {
	// StartContainer hooks run from start, each as a process in the created
	// container (runStartContainer); Process is the container's, whose user,
	// capabilities, cwd, rlimits and environment they run with.
	StartContainer []configs.CommandHook `json:"startContainer,omitempty"`
	Process        *specs.Process        `json:"process,omitempty"`
	Poststart      []configs.CommandHook `json:"poststart,omitempty"`
	Poststop       []configs.CommandHook `json:"poststop,omitempty"`
	// PoststartFatal follows the bundle's ociVersion: from runtime-spec 1.2 a
	// failed poststart hook is an error that stops the container; before, a warning.
	PoststartFatal bool `json:"poststartFatal,omitempty"`
}

// takeLaterHooks removes the hooks runx runs itself from config and returns them.
//
// libcontainer runs startContainer hooks inside the container's init, which
// reports a failure on the container's stderr in its own words and exits 255,
// out of runx's reach. runx runs them from start instead, before the init
// may exec the program, with libcontainer's exec (the same namespaces, cgroup,
// credentials, seccomp filter and cwd as the init's). That exec makes argv[0]
// the hook's path, so only hooks whose args[0] names the same program (same
// base name: busybox dispatches on it) move; if one cannot, all stay with
// libcontainer, in order.
func takeLaterHooks(config *configs.Config, spec *specs.Spec) *laterHooks {
	h := &laterHooks{PoststartFatal: isolation.VersionAtLeast(spec.Version, 1, 2)}
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
	if start := config.Hooks[configs.StartContainer]; len(start) > 0 && spec.Process != nil {
		var moved []configs.CommandHook
		for _, hook := range start {
			if ch, ok := hook.(configs.CommandHook); ok && sameProgram(ch.Command) {
				moved = append(moved, ch)
			}
		}
		if len(moved) == len(start) {
			h.StartContainer, h.Process = moved, spec.Process
			delete(config.Hooks, configs.StartContainer)
		}
	}
	return h
}

// sameProgram: the hook's argv[0] may be its path without changing what runs.
func sameProgram(c *configs.Command) bool {
	return len(c.Args) == 0 || filepath.Base(c.Args[0]) == filepath.Base(c.Path)
}

// runStartContainer runs the startContainer hooks in order with the
// container's state on their stdin; the first that fails ends it.
func runStartContainer(c *libcontainer.Container, h *laterHooks) error {
	st, err := ociState(c, specs.StateCreated)
	if err != nil {
		return err
	}
	state, err := json.Marshal(st)
	if err != nil {
		return err
	}
	for i, hook := range h.StartContainer {
		if err := runInContainer(c, h.Process, hook.Command, state); err != nil {
			return isolation.HookError("startContainer", i, hook.Path, err)
		}
	}
	return nil
}

// runInContainer runs one hook in the container as libcontainer's
// configs.Command.Run runs one on the host: its output kept for the error,
// killed at its timeout.
func runInContainer(c *libcontainer.Container, proc *specs.Process, h *configs.Command, state []byte) error {
	p, err := newProcess(proc)
	if err != nil {
		return err
	}
	p.Args = []string{h.Path}
	if len(h.Args) > 1 {
		p.Args = append(p.Args, h.Args[1:]...)
	}
	if len(h.Env) > 0 {
		p.Env = h.Env
	}
	p.LogLevel = strconv.Itoa(int(logrus.GetLevel()))
	var stdout, stderr bytes.Buffer
	p.Stdin, p.Stdout, p.Stderr = bytes.NewReader(state), &stdout, &stderr
	if err := c.Start(p); err != nil {
		return err
	}
	var late atomic.Bool
	if h.Timeout != nil {
		t := time.AfterFunc(*h.Timeout, func() {
			late.Store(true)
			_ = p.Signal(unix.SIGKILL)
		})
		defer t.Stop()
	}
	_, err = p.Wait()
	if late.Load() {
		return fmt.Errorf("hook ran past specified timeout of %.1fs", h.Timeout.Seconds())
	}
	if err != nil {
		return fmt.Errorf("%w, stdout: %s, stderr: %s", err, stdout.String(), stderr.String())
	}
	return nil
}

func (h *laterHooks) empty() bool {
	return len(h.StartContainer) == 0 && len(h.Poststart) == 0 && len(h.Poststop) == 0
}

func (h *laterHooks) save(stateDir string) error {
	if h.empty() {
		return nil
	}
	data, err := json.Marshal(h)
	if err != nil {
		return err
	}
	return isolation.WriteFileAtomic(filepath.Join(stateDir, hooksFile), data, 0o600)
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

// prestartAsCreated makes the prestart hooks see the container as "created",
// as the spec's state for them says, where libcontainer reports "creating". The
// wrapper removes itself once run: only command hooks can be saved in state.json.
func prestartAsCreated(config *configs.Config) {
	orig := config.Hooks[configs.Prestart]
	if len(orig) == 0 {
		return
	}
	// libcontainer warns each time it serializes the config with the wrapper
	// in it (the copy it sends to the container's init): that warning is ours.
	logrus.SetFormatter(quietWrapper{logrus.StandardLogger().Formatter})
	// One wrapper per hook, so that libcontainer's error names the hook's own
	// index. The list libcontainer runs was taken before the first removes it.
	list := make(configs.HookList, len(orig))
	for i, h := range orig {
		list[i] = configs.NewFunctionHook(func(s *specs.State) error {
			delete(config.Hooks, configs.Prestart)
			st := *s
			st.Status = specs.StateCreated
			return h.Run(&st)
		})
	}
	config.Hooks[configs.Prestart] = list
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
// runx with the user's program: poststart hooks run after that, as the spec
// asks. It then lets the program settle for at most settleFor.
func waitExec(pid int, before string, settleFor time.Duration) {
	deadline := time.Now().Add(2 * time.Second)
	for wait := 50 * time.Microsecond; time.Now().Before(deadline); wait = min(wait*2, 5*time.Millisecond) {
		if now := exeOf(pid); now != before {
			settle(pid, settleFor)
			return
		}
		time.Sleep(wait)
	}
}

// settle gives the freshly executed program a moment to run until it first
// sleeps or exits, so that poststart hooks and signals sent right after start
// do not race its first steps.
func settle(pid int, max time.Duration) {
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return
		}
		// The state follows the command name, which ends with the last ')'.
		// 'D' is a page of the program being read in (a cold cache): still
		// starting, not yet asleep by its own choice.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 || i+2 >= len(b) || b[i+2] != 'R' && b[i+2] != 'D' {
			return
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// quietWrapper drops libcontainer's warning about the prestart wrapper above.
type quietWrapper struct{ logrus.Formatter }

func (q quietWrapper) Format(e *logrus.Entry) ([]byte, error) {
	if strings.HasPrefix(e.Message, "cannot serialize hook of type configs.FuncHook") {
		return nil, nil
	}
	return q.Formatter.Format(e)
}
