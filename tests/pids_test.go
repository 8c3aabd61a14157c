package tests

// linux.resources.pids.limit 0. runtime-spec 1.3 makes the limit optional,
// so a 0 given is a limit, not "unlimited" as runc 1.1 read it: runx honours
// it as today's runc does, with pids.max 1 (systemd cannot say 0, and the
// kernel counts the container's init anyway). The sandbox mode, whose Sentry
// has threads of its own in that cgroup, refuses a limit it cannot run under
// instead of dying in the Go runtime.

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestPidsLimitZero(t *testing.T) {
	zero := int64(0)
	t.Run("namespace", func(t *testing.T) {
		requireRunx(t) // runc 1.1 reads 0 as no limit
		r := newRuntime(t)
		b := newBundle(t)
		b.edit(func(s *specs.Spec) { s.Linux.Resources.Pids = &specs.LinuxPids{Limit: &zero} })
		id := newID(t)
		st := startContainer(r, b, id)
		if got := readTrim(t, cgroupFile(t, st.Pid, "pids", "pids.max", "pids.max")); got != "1" {
			t.Errorf("pids.max = %q for a limit of 0, want 1", got)
		}
		// Nothing can fork in it (a process moved in, as exec's is, is not
		// counted against the limit: the kernel limits forks, not moves).
		if res := r.run("exec", id, "sh", "-c", "true & wait"); res.code == 0 {
			t.Errorf("a fork succeeded in a container limited to its init\n%s", res)
		}
	})
	t.Run("sandbox", func(t *testing.T) {
		requireRunx(t)
		r := newRuntime(t)
		b := newBundle(t)
		b.edit(func(s *specs.Spec) {
			s.Annotations = map[string]string{"dev.runx.isolation": "sandbox"}
			s.Linux.Resources.Pids = &specs.LinuxPids{Limit: &zero}
		})
		id := newID(t)
		res := r.run("run", "-d", "--bundle", b.dir, id)
		expectFailure(t, res, "linux.resources.pids.limit 0")
		assertNothingLeft(t, r.root, id, b.dir)

		b.edit(func(s *specs.Spec) { s.Linux.Resources.Pids = nil })
		st := startContainer(r, b, id)
		expectFailure(t, r.run("update", "--pids-limit", "3", id), "pids limit 3")
		r.ok("update", "--pids-limit", "40", id)
		if got := readTrim(t, cgroupFile(t, st.Pid, "pids", "pids.max", "pids.max")); got != "40" {
			t.Errorf("pids.max = %q after update --pids-limit 40", got)
		}
		r.ok("exec", id, "true")
	})
}
