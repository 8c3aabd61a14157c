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

func TestExec(t *testing.T) {
	forEachMode(t, "exec", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		startContainer(r, b, id)
		// userID is the container the execs as another user run in.
		userID := id
		if m.name == "sandbox" {
			// In the sandbox an exec as another user needs CAP_SETUID and
			// CAP_SETGID in the container (sandbox/README.md, Identities),
			// which runc's spec does not give: those execs are refused in
			// id (checked below) and run in a container that has them.
			ub := newBundle(t)
			m.apply(ub)
			ub.edit(func(s *specs.Spec) {
				c := s.Process.Capabilities
				for _, cp := range []string{"CAP_SETUID", "CAP_SETGID"} {
					c.Bounding = append(c.Bounding, cp)
					c.Effective = append(c.Effective, cp)
					c.Permitted = append(c.Permitted, cp)
				}
			})
			userID = newID(t)
			startContainer(r, ub, userID)
		}
		// userExec runs exec FLAGS CONTAINER ARGS in userID, after checking
		// that the sandbox refuses it in id.
		userExec := func(t *testing.T, flags []string, args ...string) result {
			t.Helper()
			cmd := func(cid string) []string {
				return append(append(append([]string{"exec"}, flags...), cid), args...)
			}
			if userID != id {
				expectFailure(t, r.run(cmd(id)...), "CAP_SETUID")
			}
			return r.run(cmd(userID)...)
		}

		t.Run("inline", func(t *testing.T) {
			res := r.ok("exec", id, "echo", "hello", "exec")
			if res.stdout != "hello exec\n" {
				t.Errorf("stdout = %q, want %q", res.stdout, "hello exec\n")
			}
		})

		t.Run("exit-code", func(t *testing.T) {
			for _, code := range []int{1, 7, 42} {
				res := r.run("exec", id, "sh", "-c", "exit "+itoa(code))
				if res.code != code {
					t.Errorf("exec exit code = %d, want %d\n%s", res.code, code, res)
				}
			}
		})

		t.Run("stderr", func(t *testing.T) {
			res := r.ok("exec", id, "sh", "-c", "echo to-stderr >&2")
			if !strings.Contains(res.stderr, "to-stderr") {
				t.Errorf("the process's stderr did not reach exec's stderr\n%s", res)
			}
		})

		t.Run("stdin", func(t *testing.T) {
			res := r.okOpt(runOpts{stdin: strings.NewReader("piped in\n")}, "exec", id, "cat")
			if res.stdout != "piped in\n" {
				t.Errorf("stdout = %q, want the stdin echoed", res.stdout)
			}
		})

		t.Run("env", func(t *testing.T) {
			res := r.ok("exec", "--env", "FOO=bar", "--env", "BAZ=two words", id, "sh", "-c", `echo "$FOO|$BAZ"`)
			if res.stdout != "bar|two words\n" {
				t.Errorf("stdout = %q, want %q", res.stdout, "bar|two words\n")
			}
			// the config's environment is kept
			res = r.ok("exec", id, "sh", "-c", `echo "$PATH"`)
			if !strings.Contains(res.stdout, "/bin") {
				t.Errorf("PATH from config.json missing in exec: %q", res.stdout)
			}
		})

		t.Run("cwd", func(t *testing.T) {
			res := r.ok("exec", "--cwd", "/tmp", id, "pwd")
			if res.stdout != "/tmp\n" {
				t.Errorf("stdout = %q, want /tmp", res.stdout)
			}
		})

		t.Run("user", func(t *testing.T) {
			res := userExec(t, []string{"--user", "65534:65534"}, "id")
			if res.code != 0 {
				t.Fatalf("expected success\n%s", res)
			}
			if !strings.Contains(res.stdout, "uid=65534") || !strings.Contains(res.stdout, "gid=65534") {
				t.Errorf("id output = %q, want uid=65534 gid=65534", res.stdout)
			}
			res = userExec(t, []string{"--user", "1000"}, "id", "-u")
			if res.code != 0 {
				t.Fatalf("expected success\n%s", res)
			}
			if strings.TrimSpace(res.stdout) != "1000" {
				t.Errorf("id -u with --user 1000 = %q", res.stdout)
			}
		})

		t.Run("process-file", func(t *testing.T) {
			p := specs.Process{
				Args: []string{"sh", "-c", `echo "from process file $X in $(pwd) as $(id -u)"; exit 5`},
				Env:  []string{"PATH=/bin", "X=xval"},
				Cwd:  "/etc",
				User: specs.User{UID: 65534, GID: 65534},
			}
			data, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "process.json")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			res := userExec(t, []string{"--process", path})
			if res.code != 5 {
				t.Errorf("exit code = %d, want 5\n%s", res.code, res)
			}
			if want := "from process file xval in /etc as 65534\n"; res.stdout != want {
				t.Errorf("stdout = %q, want %q", res.stdout, want)
			}
		})

		t.Run("detach-pid-file", func(t *testing.T) {
			m.require(t, "exec-detach")
			pidFile := filepath.Join(t.TempDir(), "exec.pid")
			res := r.ok("exec", "-d", "--pid-file", pidFile, id, "sleep", "1001")
			if res.stdout != "" {
				t.Errorf("exec -d printed %q", res.stdout)
			}
			pid := readPidFile(t, pidFile)
			if !processAlive(pid) {
				t.Fatalf("detached exec process %d is not running", pid)
			}
			if m.name == "microvm" {
				// The pid file names the host process that stands for the
				// guest's (microvm/README.md, exec): runx-vm-relay, which ends
				// as the guest process ends.
				waitCmdline(t, pid, "runx-vm-relay", 5*time.Second)
				if !strings.Contains(r.ok("ps", id).stdout, "sleep 1001") {
					t.Errorf("the guest's ps table lacks sleep 1001")
				}
			} else {
				// the runtime may return before the process has exec'd the binary
				waitCmdline(t, pid, "sleep 1001", 5*time.Second)
			}
			// it is one of the container's processes
			ps := r.ok("ps", "--format", "json", id)
			var pids []int
			if err := json.Unmarshal([]byte(ps.stdout), &pids); err != nil {
				t.Fatalf("ps --format json: %v\n%s", err, ps)
			}
			if !containsInt(pids, pid) {
				t.Errorf("ps lists %v, which lacks the exec'd pid %d", pids, pid)
			}
			if err := killPid(pid); err != nil {
				t.Fatal(err)
			}
			waitGone(t, pid, 5*time.Second)
		})

		t.Run("missing-binary", func(t *testing.T) {
			res := r.run("exec", id, "/no/such/binary")
			expectFailure(t, res, "/no/such/binary", "no such file")
			// a name looked up in the PATH
			expectFailure(t, r.run("exec", id, "no-such-program"), "not found")
		})

		t.Run("pid-namespace", func(t *testing.T) {
			// the exec'd process is in the container's pid namespace: its
			// parent is outside it, and pid 1 is the container's process
			res := r.ok("exec", id, "sh", "-c", `echo "$PPID"; tr '\0' ' ' </proc/1/cmdline`)
			if res.stdout != "0\nsleep 1000 " {
				t.Errorf("stdout = %q, want %q", res.stdout, "0\nsleep 1000 ")
			}
		})

		// the container itself is unaffected by all the execs
		if st := r.state(id); st.Status != "running" {
			t.Errorf("container status after execs = %q, want running", st.Status)
		}

		// an exec'd process ends with its container
		done := make(chan result, 1)
		go func() { done <- r.run("exec", id, "sleep", "1004") }()
		time.Sleep(500 * time.Millisecond)
		r.ok("kill", id, "KILL")
		select {
		case res := <-done:
			if res.code == 0 {
				t.Errorf("an exec outlived its container\n%s", res)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("an exec'd process did not end with its container")
		}
		r.waitStatus(id, "stopped", 10*time.Second)
		r.ok("delete", id)
		assertNothingLeft(t, r.root, id, b.dir)
	})
}

func TestExecIntoCreated(t *testing.T) {
	// runc allows exec into a created (not yet started) container.
	forEachMode(t, "exec", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		r.ok("create", "--bundle", b.dir, id)
		res := r.run("exec", id, "echo", "in created")
		if res.code != 0 || res.stdout != "in created\n" {
			t.Errorf("exec into a created container: want exit 0 and output\n%s", res)
		}
		if st := r.state(id); st.Status != "created" {
			t.Errorf("status after exec = %q, want created", st.Status)
		}
	})
}
