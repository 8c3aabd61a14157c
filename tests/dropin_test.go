package tests

// runc's command line as people and tools type it: flags after the container
// id, exec's own failures told from the program's status by 255, signal 0,
// an events stream that ends with its container, update --memory -1, and the
// words tools match in runc's errors.

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestFlagsAfterID(t *testing.T) {
	forEachMode(t, "update", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		st := startContainer(r, b, id)
		pids := limitOf(t, r, m, id, st.Pid, "pids")
		r.ok("update", id, "--pids-limit", "42")
		if got := pids(); got != "42" {
			t.Errorf("pids limit = %q after \"update ID --pids-limit 42\", want 42", got)
		}
		r.ok("update", id, "--pids-limit=43")
		if got := pids(); got != "43" {
			t.Errorf("pids limit = %q after \"update ID --pids-limit=43\", want 43", got)
		}
		// An argument that looks like a flag but is none of the command's
		// stays an argument.
		expectFailure(t, r.run("kill", id, "-9"), "signal")
		r.ok("delete", id, "--force")
		expectFailure(t, r.run("state", id), "does not exist")
	})
}

func TestExecFailureStatus(t *testing.T) {
	forEachMode(t, "exec", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		startContainer(r, b, id)

		// The program's own status passes through, whatever it is.
		if res := r.run("exec", id, "sh", "-c", "exit 255"); res.code != 255 {
			t.Errorf("exec of a program exiting 255: status %d\n%s", res.code, res)
		}
		if res := r.run("exec", id, "sh", "-c", "exit 7"); res.code != 7 {
			t.Errorf("exec of a program exiting 7: status %d\n%s", res.code, res)
		}
		// exec's own failures: 255, with the reason.
		for _, tc := range []struct {
			name string
			args []string
			want string
		}{
			{"missing program", []string{"exec", id, "/no/such/program"}, "/no/such/program"},
			{"missing container", []string{"exec", id + "-nope", "true"}, "does not exist"},
			{"pid file in a missing directory", []string{"exec", "--pid-file", t.TempDir() + "/no/dir/pid", id, "true"}, "/no/dir"},
		} {
			res := r.run(tc.args...)
			if res.code != 255 {
				t.Errorf("exec with a %s: status %d, want 255\n%s", tc.name, res.code, res)
			}
			expectFailure(t, res, tc.want)
		}
		// Too large an environment: the error names the user's program, not
		// a helper of runx's that runs it.
		p := specs.Process{Args: []string{"/bin/echo", "hi"}, Cwd: "/",
			Env: []string{"PATH=/bin", "BIG=" + strings.Repeat("x", 1<<20)}}
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "process.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		res := r.run("exec", "--process", path, id)
		if res.code != 255 {
			t.Errorf("exec with a 1 MiB environment variable: status %d, want 255\n%s", res.code, res)
		}
		expectFailure(t, res, "/bin/echo")
		if strings.Contains(res.stderr, "runx") && strings.Contains(res.stderr, "/dev/.runx") {
			t.Errorf("the error names runx's own helper, not the program\n%s", res)
		}
		if m.applies("pause") {
			r.ok("pause", id)
			res := r.run("exec", id, "true")
			if res.code != 255 {
				t.Errorf("exec into a paused container: status %d, want 255\n%s", res.code, res)
			}
			expectFailure(t, res, "paused")
			r.ok("resume", id)
		}
		// A usage error stays 1, as runc's.
		if res := r.run("exec"); res.code != 1 {
			t.Errorf("exec without arguments: status %d, want 1\n%s", res.code, res)
		}
	})
}

func TestKillSignalZero(t *testing.T) {
	forEachMode(t, "signals", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		startContainer(r, b, id)
		r.ok("kill", id, "0")
		if m.applies("kill-all") {
			r.ok("kill", "--all", id, "0")
		}
		if st := r.state(id); st.Status != "running" {
			t.Fatalf("status after signal 0 = %q, want running (the signal delivers nothing)", st.Status)
		}
		r.ok("kill", id, "KILL")
		r.waitStatus(id, "stopped", 20*time.Second)
		expectFailure(t, r.run("kill", id, "0"), "not running")
	})
}

func TestEventsEndWithContainer(t *testing.T) {
	forEachMode(t, "events", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		startContainer(r, b, id)

		cmd := exec.Command(runtimeBin(t), append([]string{"--root", r.root}, "events", "--interval", "200ms", id)...)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill() //nolint:errcheck
		lines := bufio.NewScanner(out)
		if !lines.Scan() || !strings.Contains(lines.Text(), `"type":"stats"`) {
			t.Fatalf("events: first line %q, want a stats event", lines.Text())
		}
		r.ok("delete", "--force", id)
		for lines.Scan() {
		}
		ended := make(chan error, 1)
		go func() { ended <- cmd.Wait() }()
		select {
		case err := <-ended:
			if err != nil {
				t.Errorf("events ended with %v after its container was deleted, want status 0", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("events still runs 30 s after its container was deleted")
		}
	})
}

func TestUpdateMemoryUnlimited(t *testing.T) {
	forEachMode(t, "update", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		st := startContainer(r, b, id)
		// A swap limit first: unlimited memory alone would be below it,
		// which the kernel refuses unless swap goes unlimited too.
		r.ok("update", "--memory", "64M", "--memory-swap", "128M", id)
		mem := limitOf(t, r, m, id, st.Pid, "memory")
		if got := mem(); got != "67108864" {
			t.Fatalf("memory limit = %q, want 67108864", got)
		}
		r.ok("update", "--memory", "-1", id)
		if got := mem(); got == "67108864" || got == "0" {
			t.Errorf("memory limit = %q after --memory -1, want unlimited", got)
		}
	})
}

func TestExecSubCgroupOutside(t *testing.T) {
	requireRoot(t)
	r := newRuntime(t)
	b := newBundle(t)
	id := newID(t)
	startContainer(r, b, id)
	for _, arg := range []string{"..", "/../x", "memory:a/../.."} {
		res := r.run("exec", "--cgroup", arg, id, "true")
		expectFailure(t, res, "is not a sub cgroup path")
	}
	r.ok("exec", "--cgroup", "/", id, "true")
}

func TestHookFailureWording(t *testing.T) {
	forEachMode(t, "hooks", func(t *testing.T, m mode) {
		for _, kind := range []string{"createRuntime", "prestart", "poststart"} {
			r := newRuntime(t)
			b := newBundle(t)
			m.apply(b)
			b.edit(func(s *specs.Spec) {
				hooks := []specs.Hook{{Path: "/bin/true"}, {Path: "/bin/false"}}
				s.Hooks = &specs.Hooks{}
				switch kind {
				case "createRuntime":
					s.Hooks.CreateRuntime = hooks
				case "prestart":
					s.Hooks.Prestart = hooks //nolint:staticcheck // still in the spec, still run
				case "poststart":
					s.Hooks.Poststart = hooks
				}
			})
			id := newID(t)
			res := r.run("run", "-d", "--bundle", b.dir, id)
			// runc 1.1 says "error running hook", today's runc "error
			// running <kind> hook #1:"; tools match either, runx says both.
			expectFailure(t, res, "error running hook")
			if isRunx(t) {
				expectFailure(t, res, "error running "+kind+" hook #1:")
			}
			r.run("delete", "--force", id)
		}
	})
}
