package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Every bad input must fail with a non-zero exit, an error on stderr that
// names the field or path at fault, and nothing left behind.

func TestBadConfigMissing(t *testing.T) {
	r := newRuntime(t)
	b := newBundle(t)
	if err := os.Remove(b.configPath()); err != nil {
		t.Fatal(err)
	}
	id := newID(t)
	for _, cmd := range []string{"create", "run"} {
		res := r.run(cmd, "--bundle", b.dir, id)
		expectFailure(t, res, "config.json")
		assertNothingLeft(t, r.root, id, b.dir)
	}
}

func TestBadConfigMalformed(t *testing.T) {
	for name, content := range map[string]string{
		"truncated": `{"ociVersion": "1.0.2", "process": {"args": ["sh"`,
		"garbage":   `{"ociVersion": "1.0.2", process: nope}`,
		"empty":     ``,
		"array":     `[1, 2, 3]`,
	} {
		t.Run(name, func(t *testing.T) {
			r := newRuntime(t)
			b := newBundle(t)
			if err := os.WriteFile(b.configPath(), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			id := newID(t)
			res := r.run("create", "--bundle", b.dir, id)
			expectFailure(t, res, "config.json", "json", "EOF", "invalid character", "cannot unmarshal")
			assertNothingLeft(t, r.root, id, b.dir)
		})
	}
}

func TestBadRootfsMissing(t *testing.T) {
	forEachMode(t, "bad-input", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		if err := os.RemoveAll(b.rootfs); err != nil {
			t.Fatal(err)
		}
		id := newID(t)
		res := r.run("create", "--bundle", b.dir, id)
		expectFailure(t, res, "rootfs")
		assertNothingLeft(t, r.root, id, b.dir)

		// an absolute root.path that does not exist
		b.edit(func(s *specs.Spec) { s.Root.Path = filepath.Join(b.dir, "nowhere") })
		res = r.run("create", "--bundle", b.dir, id)
		expectFailure(t, res, "rootfs", "nowhere")
		assertNothingLeft(t, r.root, id, b.dir)
	})
}

func TestBadNoProcessArgs(t *testing.T) {
	forEachMode(t, "bad-input", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		b.edit(func(s *specs.Spec) { s.Process.Args = nil })
		id := newID(t)
		res := r.run("run", "--bundle", b.dir, id)
		expectFailure(t, res, "args")
		assertNothingLeft(t, r.root, id, b.dir)
	})
}

func TestBadIDExists(t *testing.T) {
	forEachMode(t, "bad-input", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		r.ok("create", "--bundle", b.dir, id)
		before := r.state(id)

		other := newBundle(t)
		m.apply(other)
		res := r.run("create", "--bundle", other.dir, id)
		expectFailure(t, res, "exist")
		res = r.run("run", "--bundle", other.dir, id)
		expectFailure(t, res, "exist")

		// the first container is untouched
		after := r.state(id)
		if after.Pid != before.Pid || after.Status != "created" || after.Bundle != b.dir {
			t.Errorf("existing container changed: before %+v, after %+v", before, after)
		}
		assertNothingLeft(t, "", "", other.dir)
	})
}

func TestBadIDFormat(t *testing.T) {
	forEachMode(t, "bad-input", func(t *testing.T, m mode) {
		cases := map[string]string{
			"slash":     "a/b",
			"dotdot":    "../escape",
			"absolute":  "/abs",
			"too-long":  strings.Repeat("x", 1025),
			"empty":     "",
			"space":     "has space",
			"backslash": `a\b`,
		}
		for name, id := range cases {
			t.Run(name, func(t *testing.T) {
				r := newRuntime(t)
				b := newBundle(t)
				m.apply(b)
				res := r.run("create", "--bundle", b.dir, id)
				expectFailure(t, res, "container id", "id format", "invalid id", "too long")
				assertNothingLeft(t, r.root, "", b.dir)
				// nothing at all in the state root, and no escape out of it
				if entries, err := os.ReadDir(r.root); err == nil && len(entries) > 0 {
					t.Errorf("state root not empty after a rejected id: %v", entries)
				}
				if _, err := os.Lstat(filepath.Join(filepath.Dir(r.root), "escape")); err == nil {
					t.Errorf("create with id %q wrote outside the state root", id)
				}
			})
		}
	})
}

func TestBadSignal(t *testing.T) {
	forEachMode(t, "bad-input", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		st := startContainer(r, b, id)
		for _, sig := range []string{"FOO", "SIGFOO", "99999"} {
			res := r.run("kill", id, sig)
			expectFailure(t, res, "signal", sig)
			if sig == "FOO" && !strings.Contains(res.stderr, "FOO") {
				t.Errorf("stderr does not name the signal FOO\n%s", res)
			}
		}
		if got := r.state(id); got.Status != "running" || !processAlive(st.Pid) {
			t.Errorf("container not running after bad kills: %+v", got)
		}
	})
}

func TestBadExecStopped(t *testing.T) {
	forEachMode(t, "bad-input", func(t *testing.T, m mode) {
		m.require(t, "exec")
		r := newRuntime(t)
		b := newBundle(t, "true")
		m.apply(b)
		id := newID(t)
		r.ok("create", "--bundle", b.dir, id)
		r.ok("start", id)
		r.waitStatus(id, "stopped", 10*time.Second)
		res := r.run("exec", id, "echo", "nope")
		expectFailure(t, res, "stopped")
		if res.stdout != "" {
			t.Errorf("exec into a stopped container printed %q", res.stdout)
		}
		if st := r.state(id); st.Status != "stopped" {
			t.Errorf("status = %q, want stopped", st.Status)
		}
	})
}

func TestBadExecMissingContainer(t *testing.T) {
	r := newRuntime(t)
	res := r.run("exec", "rxt-never-created", "true")
	expectFailure(t, res, "not exist", "rxt-never-created")
	for _, cmd := range []string{"start", "state", "delete", "kill", "pause", "resume", "ps"} {
		res := r.run(cmd, "rxt-never-created")
		expectFailure(t, res, "not exist", "rxt-never-created")
	}
}

func TestBadDeleteRunning(t *testing.T) {
	forEachMode(t, "bad-input", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		st := startContainer(r, b, id)
		res := r.run("delete", id)
		expectFailure(t, res, "not stopped")
		if !strings.Contains(res.stderr, id) {
			t.Errorf("stderr does not name the container %s\n%s", id, res)
		}
		if got := r.state(id); got.Status != "running" || got.Pid != st.Pid || !processAlive(st.Pid) {
			t.Errorf("container should still be running after a refused delete: %+v", got)
		}
		// and it can still be used
		if m.applies("exec") {
			r.ok("exec", id, "true")
		}
	})
}

func TestBadRootNotWritable(t *testing.T) {
	forEachMode(t, "bad-input", func(t *testing.T, m mode) {
		t.Run("file-parent", func(t *testing.T) {
			requireRoot(t)
			b := newBundle(t)
			m.apply(b)
			file := filepath.Join(t.TempDir(), "plainfile")
			if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			root := filepath.Join(file, "state")
			id := newID(t)
			res := runCmd(t, runOpts{}, runtimeBin(t), "--root", root, "create", "--bundle", b.dir, id)
			expectFailure(t, res, file)
			if data, _ := os.ReadFile(file); string(data) != "x" {
				t.Errorf("the file in the way was changed: %q", data)
			}
			assertNothingLeft(t, root, id, b.dir)
		})
		t.Run("read-only-mount", func(t *testing.T) {
			requireRoot(t)
			b := newBundle(t)
			m.apply(b)
			ro := t.TempDir()
			if out, err := exec.Command("mount", "--bind", ro, ro).CombinedOutput(); err != nil {
				t.Fatalf("bind mount: %v %s", err, out)
			}
			t.Cleanup(func() { exec.Command("umount", "-l", ro).Run() })
			if out, err := exec.Command("mount", "-o", "remount,bind,ro", ro).CombinedOutput(); err != nil {
				t.Fatalf("remount read-only: %v %s", err, out)
			}
			root := filepath.Join(ro, "state")
			id := newID(t)
			res := runCmd(t, runOpts{}, runtimeBin(t), "--root", root, "create", "--bundle", b.dir, id)
			expectFailure(t, res, root, "read-only")
			assertNothingLeft(t, root, id, b.dir)
			// run fails the same way
			res = runCmd(t, runOpts{}, runtimeBin(t), "--root", root, "run", "--bundle", b.dir, id)
			expectFailure(t, res, root, "read-only")
			assertNothingLeft(t, root, id, b.dir)
		})
	})
}

func TestBadConsoleSocket(t *testing.T) {
	forEachMode(t, "bad-input", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		b.edit(func(s *specs.Spec) { s.Process.Terminal = true })
		id := newID(t)

		notSock := filepath.Join(t.TempDir(), "not-a-socket")
		if err := os.WriteFile(notSock, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		res := r.run("create", "--console-socket", notSock, "--bundle", b.dir, id)
		expectFailure(t, res, notSock)
		assertNothingLeft(t, r.root, id, b.dir)

		missing := filepath.Join(t.TempDir(), "missing.sock")
		res = r.run("create", "--console-socket", missing, "--bundle", b.dir, id)
		expectFailure(t, res, missing)
		assertNothingLeft(t, r.root, id, b.dir)

		// terminal true without any console socket cannot detach
		res = r.run("create", "--bundle", b.dir, id)
		expectFailure(t, res, "console", "socket", "terminal", "tty")
		assertNothingLeft(t, r.root, id, b.dir)
	})
}

func TestBadUnknownCommandAndFlag(t *testing.T) {
	r := newRuntime(t)
	res := r.run("no-such-command")
	if res.code == 0 {
		t.Errorf("unknown command succeeded\n%s", res)
	}
	// runc's words for it, which scripts match.
	if !strings.Contains(r.run("no-such-command", "-h").stderr, "No help topic for 'no-such-command'") {
		t.Errorf("unknown command -h lacks runc's \"No help topic for 'no-such-command'\"")
	}
	res = r.run("list", "--no-such-flag")
	if res.code == 0 {
		t.Errorf("unknown flag succeeded\n%s", res)
	}
	if !strings.Contains(res.stderr+res.stdout, "no-such-flag") {
		t.Errorf("unknown flag not named in the output\n%s", res)
	}
}

// An environment larger than an exec takes fails naming the user's program,
// never a helper of runx's that carries it (the sandbox's Sentry).
func TestBadHugeEnvironment(t *testing.T) {
	forEachMode(t, "bad-input", func(t *testing.T, m mode) {
		if m.name == "unikernel" {
			t.Skip("unikernel: a Solo5 guest has no environment (the tender does not pass process.env)")
		}
		r := newRuntime(t)
		b := newBundle(t, "/bin/echo", "hi")
		m.apply(b)
		b.edit(func(s *specs.Spec) { s.Process.Env = append(s.Process.Env, "BIG="+strings.Repeat("x", 1<<20)) })
		id := newID(t)
		res := r.run("run", "--bundle", b.dir, id)
		expectFailure(t, res, "/bin/echo: argument list too long")
		if strings.Contains(res.stderr, "/dev/.runx") {
			t.Errorf("the error names runx's own helper, not the program\n%s", res)
		}
		r.run("delete", "--force", id)
		assertNothingLeft(t, r.root, id, b.dir)
	})
}
