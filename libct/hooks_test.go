package libct

import (
	"testing"

	"github.com/opencontainers/runc/libcontainer/configs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestTakeLaterHooksStartContainer(t *testing.T) {
	hook := func(path string, args ...string) configs.Hook {
		return configs.NewCommandHook(&configs.Command{Path: path, Args: args})
	}
	for _, tc := range []struct {
		name  string
		hooks configs.HookList
		moved bool
	}{
		{"no args", configs.HookList{hook("/bin/true")}, true},
		{"args[0] is the path", configs.HookList{hook("/bin/sh", "/bin/sh", "-c", "x")}, true},
		{"args[0] is the path's name", configs.HookList{hook("/bin/sh", "sh", "-c", "x")}, true},
		{"busybox dispatching on args[0]", configs.HookList{hook("/bin/busybox", "true")}, false},
		{"one of two cannot move", configs.HookList{hook("/bin/true"), hook("/bin/busybox", "sh")}, false},
		{"a login shell's -sh", configs.HookList{hook("/bin/sh", "-sh")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config := &configs.Config{Hooks: configs.Hooks{configs.StartContainer: tc.hooks}}
			spec := &specs.Spec{Version: "1.0.2", Process: &specs.Process{Args: []string{"true"}}}
			h := takeLaterHooks(config, spec)
			left := len(config.Hooks[configs.StartContainer])
			if tc.moved && (len(h.StartContainer) != len(tc.hooks) || left != 0 || h.Process != spec.Process) {
				t.Errorf("runx should run them: took %d, libcontainer keeps %d", len(h.StartContainer), left)
			}
			if !tc.moved && (len(h.StartContainer) != 0 || left != len(tc.hooks)) {
				t.Errorf("libcontainer should run them all: took %d, libcontainer keeps %d", len(h.StartContainer), left)
			}
			if h.empty() == tc.moved {
				t.Errorf("empty() = %v with %d startContainer hooks taken", h.empty(), len(h.StartContainer))
			}
		})
	}
}
