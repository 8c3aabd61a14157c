package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// trapScript handles TERM (pid 1 only receives signals it handles), writes
// the fact to a file in the rootfs, and exits.
const trapScript = `trap "echo term > /tmp/got; exit 0" TERM; touch /tmp/ready; while true; do sleep 0.05; done`

func TestKillSignals(t *testing.T) {
	cases := []struct {
		sig     string
		handled bool // the container traps it (TERM) rather than dying (KILL)
	}{
		{"KILL", false},
		{"SIGKILL", false},
		{"9", false},
		{"TERM", true},
		{"SIGTERM", true},
		{"15", true},
	}
	forEachMode(t, "signals", func(t *testing.T, m mode) {
		for _, c := range cases {
			t.Run(c.sig, func(t *testing.T) {
				r := newRuntime(t)
				var b *bundle
				if c.handled {
					m.require(t, "signal-handler")
					b = newBundle(t, "sh", "-c", trapScript)
					m.apply(b)
					b.edit(func(s *specs.Spec) { s.Root.Readonly = false })
				} else {
					b = newBundle(t, "sleep", "1000")
					m.apply(b)
				}
				id := newID(t)
				st := startContainer(r, b, id)
				if c.handled {
					waitFile(t, filepath.Join(b.rootfs, "tmp", "ready"), 10*time.Second)
				}
				r.ok("kill", id, c.sig)
				r.waitStatus(id, "stopped", 10*time.Second)
				waitGone(t, st.Pid, 5*time.Second)
				if c.handled {
					data, err := os.ReadFile(filepath.Join(b.rootfs, "tmp", "got"))
					if err != nil || strings.TrimSpace(string(data)) != "term" {
						t.Errorf("the container's TERM handler did not run (file: %q, %v)", data, err)
					}
				}
				r.ok("delete", id)
				assertNothingLeft(t, r.root, id, b.dir)
			})
		}
	})
}

func TestKillDefaultIsTERM(t *testing.T) {
	forEachMode(t, "signal-handler", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t, "sh", "-c", trapScript)
		m.apply(b)
		b.edit(func(s *specs.Spec) { s.Root.Readonly = false })
		id := newID(t)
		startContainer(r, b, id)
		waitFile(t, filepath.Join(b.rootfs, "tmp", "ready"), 10*time.Second)
		r.ok("kill", id)
		r.waitStatus(id, "stopped", 10*time.Second)
		if _, err := os.Stat(filepath.Join(b.rootfs, "tmp", "got")); err != nil {
			t.Errorf("kill without a signal did not deliver TERM: %v", err)
		}
	})
}

func TestKillAll(t *testing.T) {
	forEachMode(t, "kill-all", func(t *testing.T, m mode) {
		m.require(t, "exec-detach") // the second process is an exec's
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		st := startContainer(r, b, id)
		pidFile := filepath.Join(t.TempDir(), "extra.pid")
		r.ok("exec", "-d", "--pid-file", pidFile, id, "sleep", "1002")
		extra := readPidFile(t, pidFile)
		if !processAlive(extra) {
			t.Fatalf("exec'd process %d not running", extra)
		}
		r.ok("kill", "--all", id, "KILL")
		waitGone(t, st.Pid, 5*time.Second)
		waitGone(t, extra, 5*time.Second)
		r.waitStatus(id, "stopped", 10*time.Second)
		r.ok("delete", id)
		assertNothingLeft(t, r.root, id, b.dir)
	})
}

func TestKillCreated(t *testing.T) {
	// A created container can be killed; it then reads as stopped.
	forEachMode(t, "signals", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		r.ok("create", "--bundle", b.dir, id)
		pid := r.state(id).Pid
		r.ok("kill", id, "KILL")
		waitGone(t, pid, 5*time.Second)
		r.waitStatus(id, "stopped", 10*time.Second)
		r.ok("delete", id)
		assertNothingLeft(t, r.root, id, b.dir)
	})
}
