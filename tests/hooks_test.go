package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestHooks: each hook of config.json runs once, at its moment, with the
// container's state on its stdin; startContainer in the container.
func TestHooks(t *testing.T) {
	forEachMode(t, "hooks", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		out := t.TempDir()
		host := func(name string) specs.Hook {
			return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "cat > " + filepath.Join(out, name)}}
		}
		b.edit(func(s *specs.Spec) {
			s.Root.Readonly = false // for startContainer's file
			s.Hooks = &specs.Hooks{
				Prestart:        []specs.Hook{host("prestart")}, //nolint:staticcheck // deprecated, still run
				CreateRuntime:   []specs.Hook{host("createRuntime")},
				CreateContainer: []specs.Hook{host("createContainer")},
				StartContainer:  []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "echo in-the-container > /hook-startContainer"}}},
				Poststart:       []specs.Hook{host("poststart")},
				Poststop:        []specs.Hook{host("poststop")},
			}
		})
		id := newID(t)
		state := func(name string) *specs.State {
			t.Helper()
			data, err := os.ReadFile(filepath.Join(out, name))
			if err != nil {
				t.Errorf("the %s hook did not run: %v", name, err)
				return nil
			}
			var st specs.State
			if err := json.Unmarshal(data, &st); err != nil {
				t.Errorf("the %s hook's stdin is not the state: %v\n%s", name, err, data)
				return nil
			}
			if st.ID != id {
				t.Errorf("the %s hook got id %q, want %q", name, st.ID, id)
			}
			return &st
		}
		r.ok("create", "--bundle", b.dir, id)
		pid := r.state(id).Pid
		state("createContainer") // runc gives it the pid in the container's pid namespace
		for _, name := range []string{"prestart", "createRuntime"} {
			if st := state(name); st != nil && st.Pid != pid {
				t.Errorf("the %s hook got pid %d, want the container's %d", name, st.Pid, pid)
			}
		}
		if _, err := os.Stat(filepath.Join(out, "poststart")); err == nil {
			t.Errorf("poststart ran at create")
		}
		r.ok("start", id)
		if st := state("poststart"); st != nil && st.Status != specs.StateRunning {
			t.Errorf("poststart saw status %q, want running", st.Status)
		}
		deadline := time.Now().Add(10 * time.Second)
		var got []byte
		for time.Now().Before(deadline) {
			if got, _ = os.ReadFile(filepath.Join(b.rootfs, "hook-startContainer")); len(got) > 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if strings.TrimSpace(string(got)) != "in-the-container" {
			t.Errorf("the startContainer hook did not run in the container: %q", got)
		}
		if _, err := os.Stat(filepath.Join(out, "poststop")); err == nil {
			t.Errorf("poststop ran before delete")
		}
		r.ok("delete", "--force", id)
		state("poststop")
		assertNothingLeft(t, r.root, id, b.dir)
	})
}

// TestBadHookFails: a failing createRuntime hook fails create, in runc's
// words, and leaves nothing behind.
func TestBadHookFails(t *testing.T) {
	forEachMode(t, "hooks", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		b.edit(func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "echo hook says no >&2; exit 3"}}}}
		})
		id := newID(t)
		res := r.run("create", "--bundle", b.dir, id)
		expectFailure(t, res, "error running")
		assertNothingLeft(t, r.root, id, b.dir)
	})
}

// TestStartContainerHookFails: a failing startContainer hook fails run in
// runc's words with the hook's own output, and stops the container before its
// program runs (the runtime spec: "stop the container"); nothing is left.
// runx runs such a hook from start; one whose args[0] is not its path's
// name (busybox's own) stays in libcontainer's init, which only fails the
// container after start (libcontainer's wording).
func TestStartContainerHookFails(t *testing.T) {
	forEachMode(t, "hooks", func(t *testing.T, m mode) {
		say := []string{"-c", "echo hook says no >&2; exit 3"}
		for _, hook := range []specs.Hook{
			{Path: "/bin/sh", Args: append([]string{"sh"}, say...)},
			{Path: "/bin/busybox", Args: append([]string{"sh"}, say...)},
		} {
			fromStart := hook.Path == "/bin/sh" && isRunx(t)
			r := newRuntime(t)
			b := newBundle(t, "sh", "-c", "touch /program-ran; sleep 1000")
			if m.name == "unikernel" {
				b = newBundle(t) // a guest stands for sleep; it writes no file
			}
			m.apply(b)
			b.edit(func(s *specs.Spec) {
				s.Root.Readonly = false
				s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{hook}}
			})
			ran := filepath.Join(b.rootfs, "program-ran")
			id := newID(t)
			res := r.run("run", "--bundle", b.dir, id)
			expectFailure(t, res, "error running")
			if fromStart {
				for _, want := range []string{"error running hook", "error running startContainer hook #0:", "hook says no"} {
					if !strings.Contains(res.stderr, want) {
						t.Errorf("%s: run's error lacks %q\n%s", hook.Path, want, res)
					}
				}
			}
			if _, err := os.Stat(ran); err == nil {
				t.Errorf("%s: the program ran although its startContainer hook failed", hook.Path)
			}
			assertNothingLeft(t, r.root, id, b.dir)

			// create, then start: the start is what fails.
			id = newID(t)
			r.ok("create", "--bundle", b.dir, id)
			res = r.run("start", id)
			if fromStart {
				expectFailure(t, res, "error running hook")
				if st := r.state(id); st.Status != "stopped" {
					t.Errorf("%s: after the failed start the container is %q, want stopped", hook.Path, st.Status)
				}
			} else {
				r.waitStatus(id, "stopped", 10*time.Second)
			}
			if _, err := os.Stat(ran); err == nil {
				t.Errorf("%s: the program ran although its startContainer hook failed", hook.Path)
			}
			r.ok("delete", id)
			assertNothingLeft(t, r.root, id, b.dir)
		}
	})
}

// TestStartContainerHookSeccomp: a startContainer hook runs under the
// container's seccomp filter (as in the init), and a hook the filter kills
// fails the run naming the signal.
func TestStartContainerHookSeccomp(t *testing.T) {
	r := newRuntime(t)
	b := newBundle(t, "true")
	b.edit(func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Architectures: []specs.Arch{specs.ArchX86, specs.ArchX32},
			Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActKill}},
		}
		s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "mkdir /dev/shm/hook"}}}}
	})
	id := newID(t)
	res := r.run("run", "--bundle", b.dir, id)
	expectFailure(t, res, "error running hook")
	if !strings.Contains(res.stderr, "bad system call") {
		t.Errorf("the hook's death by the filter is not named\n%s", res)
	}
	assertNothingLeft(t, r.root, id, b.dir)
}
