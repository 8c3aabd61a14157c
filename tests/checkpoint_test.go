package tests

// checkpoint and restore (CRIU, the namespace mode). Debian's CRIU cannot
// start on this machine kind's 6.18 kernel ("vdso: Unexpected rt vDSO area
// bounds"); where it cannot, the test runs itself in the nested KVM host
// (Debian's 6.1 kernel, pure cgroup v2), where it can.

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const criuNestedEnv = "RUNX_TEST_CRIU_NESTED"

func TestCheckpointRestore(t *testing.T) {
	requireRunx(t)
	if _, err := exec.LookPath("criu"); err != nil {
		t.Fatalf("criu is not installed (make deps installs it): %v", err)
	}
	if out, err := exec.Command("criu", "check").CombinedOutput(); err != nil {
		if os.Getenv(criuNestedEnv) != "" {
			t.Fatalf("criu check fails in the nested host too: %v\n%s", err, out)
		}
		t.Logf("criu check fails on this kernel (%s): running in the nested KVM host", lastLines(string(out), 3))
		var names []string
		for _, s := range []string{"continues", "leave-running-new-id", "pre-dump", "terminal", "errors"} {
			names = append(names, "TestCheckpointRestore/"+s)
		}
		testsInNestedHost(t, "export "+criuNestedEnv+"=1", "^TestCheckpointRestore$", names)
		return
	}

	t.Run("continues", func(t *testing.T) {
		r := newRuntime(t)
		b := counterBundle(t)
		id := newID(t)
		runQuiet(t, r, "run", "-d", "--bundle", b.dir, id)
		waitCount(t, b, 3)
		images := filepath.Join(t.TempDir(), "images")
		r.ok("checkpoint", "--image-path", images, id)
		// Checkpointed, the container is gone from the host.
		expectFailure(t, r.run("state", id), "does not exist")
		at := count(t, b)
		time.Sleep(300 * time.Millisecond)
		if now := count(t, b); now != at {
			t.Fatalf("the counter went on after the checkpoint (%d, then %d)", at, now)
		}
		runQuiet(t, r, "restore", "-d", "--image-path", images, "--bundle", b.dir, id)
		if st := r.state(id); st.Status != "running" {
			t.Fatalf("status after restore = %q, want running", st.Status)
		}
		// It counts on from where it was, not from 1.
		if n := waitCount(t, b, at+3); n < at {
			t.Fatalf("count after restore %d < %d at the checkpoint", n, at)
		}
		r.ok("delete", "--force", id)
		assertNothingLeft(t, r.root, id, b.dir)
	})

	t.Run("leave-running-new-id", func(t *testing.T) {
		r := newRuntime(t)
		b := counterBundle(t)
		id := newID(t)
		runQuiet(t, r, "run", "-d", "--bundle", b.dir, id)
		waitCount(t, b, 3)
		images := filepath.Join(t.TempDir(), "images")
		r.ok("checkpoint", "--leave-running", "--image-path", images, "--work-path", t.TempDir(), id)
		at := count(t, b)
		if st := r.state(id); st.Status != "running" {
			t.Fatalf("status after checkpoint --leave-running = %q, want running", st.Status)
		}
		waitCount(t, b, at+2)
		r.ok("delete", "--force", id)
		// Into another id: the checkpoint is the process, not the name.
		id2 := newID(t)
		runQuiet(t, r, "restore", "-d", "--image-path", images, "--bundle", b.dir, id2)
		if st := r.state(id2); st.Status != "running" {
			t.Fatalf("status of the restored %s = %q, want running", id2, st.Status)
		}
		waitCount(t, b, at+3)
		r.ok("delete", "--force", id2)
	})

	t.Run("pre-dump", func(t *testing.T) {
		r := newRuntime(t)
		b := counterBundle(t)
		id := newID(t)
		runQuiet(t, r, "run", "-d", "--bundle", b.dir, id)
		waitCount(t, b, 3)
		dir := t.TempDir()
		r.ok("checkpoint", "--pre-dump", "--image-path", filepath.Join(dir, "parent"), id)
		if st := r.state(id); st.Status != "running" {
			t.Fatalf("status after a pre-dump = %q, want running", st.Status)
		}
		// The final dump names the pre-dump relative to its own images.
		r.ok("checkpoint", "--parent-path", "../parent", "--image-path", filepath.Join(dir, "final"), id)
		at := count(t, b)
		runQuiet(t, r, "restore", "-d", "--image-path", filepath.Join(dir, "final"), "--bundle", b.dir, id)
		waitCount(t, b, at+3)
		r.ok("delete", "--force", id)
	})

	t.Run("terminal", func(t *testing.T) {
		// A container with its own terminal: restored with a new one,
		// whose master reaches the caller through --console-socket.
		r := newRuntime(t)
		b := counterBundle(t)
		b.edit(func(s *specs.Spec) {
			s.Process.Terminal = true
			s.Process.Args = []string{"sh", "-c", `i=0; while :; do i=$((i+1)); echo $i >/count.new; mv /count.new /count; [ -t 1 ] && echo "tick $i"; sleep 0.2; done`}
		})
		id := newID(t)
		cs := newConsoleSocket(t)
		runQuiet(t, r, "run", "-d", "--console-socket", cs.path, "--bundle", b.dir, id)
		master, _ := cs.master(t)
		go io.Copy(io.Discard, master)
		waitCount(t, b, 3)
		images := filepath.Join(t.TempDir(), "images")
		r.ok("checkpoint", "--image-path", images, id)
		at := count(t, b)
		cs2 := newConsoleSocket(t)
		runQuiet(t, r, "restore", "-d", "--console-socket", cs2.path, "--image-path", images, "--bundle", b.dir, id)
		master2, _ := cs2.master(t)
		waitCount(t, b, at+3)
		if out := readPty(master2, 2*time.Second); !strings.Contains(out, "tick ") {
			t.Errorf("the restored process's terminal output = %q, want its ticks on the new pty", out)
		}
		r.ok("delete", "--force", id)
		assertNothingLeft(t, r.root, id, b.dir)
	})

	t.Run("errors", func(t *testing.T) {
		r := newRuntime(t)
		b := counterBundle(t)
		id := newID(t)
		// Its stdout is a file outside the container (runCmd's), which CRIU
		// refuses to dump: the error says so and points at CRIU's log, and
		// the container runs on.
		r.ok("run", "-d", "--bundle", b.dir, id)
		waitCount(t, b, 2)
		images := filepath.Join(t.TempDir(), "images")
		res := r.run("checkpoint", "--image-path", images, id)
		expectFailure(t, res, filepath.Join(images, "dump.log"))
		if st := r.state(id); st.Status != "running" {
			t.Errorf("status after a refused checkpoint = %q, want running", st.Status)
		}
		// No CRIU at all.
		empty := t.TempDir()
		res = r.runOpt(runOpts{env: []string{"PATH=" + empty}}, "checkpoint", "--image-path", images, id)
		expectFailure(t, res, "CRIU, which is not installed")
		expectFailure(t, r.run("checkpoint", "--parent-path", "/abs", "--image-path", images, id), "--parent-path")
		expectFailure(t, r.run("checkpoint", "--manage-cgroups-mode", "sometimes", id), "--manage-cgroups-mode")
		r.ok("delete", "--force", id)

		// A restore from images that hold no checkpoint fails and leaves nothing.
		id2 := newID(t)
		res = r.run("restore", "-d", "--image-path", t.TempDir(), "--bundle", b.dir, id2)
		expectFailure(t, res, "holds no checkpoint")
		assertNothingLeft(t, r.root, id2, b.dir)
		expectFailure(t, r.run("restore", "--image-path", filepath.Join(empty, "none"), "--bundle", b.dir, id2), "--image-path")

		// The other modes refuse, naming themselves.
		sb := counterBundle(t)
		sb.edit(func(s *specs.Spec) { s.Annotations = map[string]string{"dev.runx.isolation": "sandbox"} })
		id3 := newID(t)
		r.ok("run", "-d", "--bundle", sb.dir, id3)
		expectFailure(t, r.run("checkpoint", "--image-path", images, id3), "not supported in the sandbox isolation mode")
		r.ok("delete", "--force", id3)
		expectFailure(t, r.run("restore", "--image-path", t.TempDir(), "--bundle", sb.dir, id3), "not supported in the sandbox isolation mode")
		assertNothingLeft(t, r.root, id3, sb.dir)
	})
}

// counterBundle is a container that counts in /count, five times a second.
func counterBundle(t *testing.T) *bundle {
	t.Helper()
	b := newBundle(t, "sh", "-c", `i=0; while :; do i=$((i+1)); echo $i >/count.new; mv /count.new /count; sleep 0.2; done`)
	b.edit(func(s *specs.Spec) { s.Root.Readonly = false })
	return b
}

func count(t *testing.T, b *bundle) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(b.rootfs, "count"))
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return n
}

// waitCount waits until the counter reaches n and returns it.
func waitCount(t *testing.T, b *bundle, n int) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c := count(t, b)
		if c >= n {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("the counter is at %d, not at %d after 30 s", c, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runQuiet runs the runtime with /dev/null for stdio, which CRIU finds in
// the container too (a file of the host's it could not dump); its errors go
// to its --log.
func runQuiet(t *testing.T, r *rt, args ...string) {
	t.Helper()
	r.noteIDs(args)
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	log := filepath.Join(t.TempDir(), "log")
	cmd := exec.Command(r.bin, append([]string{"--root", r.root, "--log", log}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
	if err := cmd.Run(); err != nil {
		data, _ := os.ReadFile(log)
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, data)
	}
}
