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

// The container waits for a file the test creates in its rootfs, so the
// test decides when the process exits.
const waitForGo = `while [ ! -e /tmp/go ]; do sleep 0.05; done; echo done`

func TestLifecycle(t *testing.T) {
	forEachMode(t, "lifecycle", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t, "sh", "-c", waitForGo)
		m.apply(b)
		b.edit(func(s *specs.Spec) {
			if s.Annotations == nil {
				s.Annotations = map[string]string{}
			}
			s.Annotations["org.runx.test.one"] = "first"
			s.Annotations["org.runx.test.two"] = "second value"
		})
		id := newID(t)

		before := time.Now()
		r.ok("create", "--bundle", b.dir, id)

		// created
		res := r.ok("state", id)
		raw := map[string]json.RawMessage{}
		if err := json.Unmarshal([]byte(res.stdout), &raw); err != nil {
			t.Fatalf("state is not a JSON object: %v\n%s", err, res)
		}
		for _, k := range []string{"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner", "annotations"} {
			if _, ok := raw[k]; !ok {
				t.Errorf("state JSON lacks %q\n%s", k, res)
			}
		}
		st := r.state(id)
		if st.Status != "created" {
			t.Errorf("status after create = %q, want created", st.Status)
		}
		if st.ID != id {
			t.Errorf("id = %q, want %q", st.ID, id)
		}
		if st.Pid <= 0 || !processAlive(st.Pid) {
			t.Errorf("pid after create = %d, want a live process", st.Pid)
		}
		if st.OCIVersion == "" {
			t.Errorf("ociVersion is empty")
		}
		if st.Bundle != b.dir {
			t.Errorf("bundle = %q, want %q", st.Bundle, b.dir)
		}
		if st.Rootfs != b.rootfs {
			t.Errorf("rootfs = %q, want %q", st.Rootfs, b.rootfs)
		}
		if st.Created.Before(before.Add(-time.Minute)) || st.Created.After(time.Now().Add(time.Minute)) {
			t.Errorf("created = %v, want close to %v", st.Created, before)
		}
		if st.Annotations["org.runx.test.one"] != "first" || st.Annotations["org.runx.test.two"] != "second value" {
			t.Errorf("annotations = %v, want those of config.json", st.Annotations)
		}
		if a := st.Annotations["dev.runx.microvm.accel"]; m.name == "microvm" && a != "tcg" && a != "kvm" {
			t.Errorf("state annotation dev.runx.microvm.accel = %q, want the accelerator the VM runs on", a)
		}
		createdPid := st.Pid

		// running
		r.ok("start", id)
		st = r.waitStatus(id, "running", 10*time.Second)
		if st.Pid != createdPid {
			t.Errorf("pid changed from %d to %d on start", createdPid, st.Pid)
		}
		if len(findCgroupDirs(id)) == 0 {
			t.Errorf("no cgroup directory named after %s while it runs", id)
		}

		// the process exits: stopped
		if err := os.WriteFile(filepath.Join(b.rootfs, "tmp", "go"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		st = r.waitStatus(id, "stopped", 10*time.Second)
		if st.Annotations["org.runx.test.one"] != "first" {
			t.Errorf("annotations lost once stopped: %v", st.Annotations)
		}
		waitGone(t, createdPid, 5*time.Second)

		// a stopped container cannot be started again
		res = r.run("start", id)
		if res.code == 0 {
			t.Errorf("start of a stopped container succeeded\n%s", res)
		}

		r.ok("delete", id)
		res = r.run("state", id)
		expectFailure(t, res, "not exist", id)
		assertNothingLeft(t, r.root, id, b.dir)
	})
}

// The runtime spec says delete of a container that is not stopped is an error;
// runx follows it (as crun does) where runc kills a created container.
func TestDeleteCreatedWithoutForce(t *testing.T) {
	requireRunx(t)
	forEachMode(t, "delete", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		r.ok("create", "--bundle", b.dir, id)
		pid := r.state(id).Pid
		res := r.run("delete", id)
		expectFailure(t, res)
		if !strings.Contains(res.stderr, "not stopped") {
			t.Errorf("delete of a created container: stderr should say it is not stopped\n%s", res)
		}
		if st := r.state(id); st.Status != "created" || st.Pid != pid {
			t.Errorf("a refused delete changed the container: %+v", st)
		}
		r.ok("delete", "--force", id)
		waitGone(t, pid, 5*time.Second)
		assertNothingLeft(t, r.root, id, b.dir)
	})
}

func TestDeleteForceRunning(t *testing.T) {
	forEachMode(t, "delete", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		st := startContainer(r, b, id)
		r.ok("delete", "--force", id)
		waitGone(t, st.Pid, 5*time.Second)
		expectFailure(t, r.run("state", id))
		assertNothingLeft(t, r.root, id, b.dir)
	})
}

func TestDeleteForceMissingIsQuiet(t *testing.T) {
	// delete -f of a container that never existed: runc exits 0.
	r := newRuntime(t)
	id := newID(t)
	res := r.run("delete", "-f", id)
	if res.code != 0 {
		t.Errorf("delete -f of an unknown container should succeed\n%s", res)
	}
}

func TestRunForegroundExitCodes(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"exit0", []string{"echo", "hello from the container"}, 0, "hello from the container\n"},
		{"exit3", []string{"sh", "-c", "echo about to fail; exit 3"}, 3, "about to fail\n"},
		{"exit255", []string{"sh", "-c", "exit 255"}, 255, ""},
		{"false", []string{"false"}, 1, ""},
		// the shell's own statuses: a program it cannot find, and a child
		// killed by a signal
		{"not-found", []string{"sh", "-c", "/no/such/program"}, 127, ""},
		{"child-killed", []string{"sh", "-c", "sleep 100 & kill -9 $!; wait $!"}, 137, ""},
	}
	forEachMode(t, "run", func(t *testing.T, m mode) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := newRuntime(t)
				b := newBundle(t, c.args...)
				m.apply(b)
				id := newID(t)
				res := r.run("run", "--bundle", b.dir, id)
				if res.code != c.code {
					t.Errorf("exit code = %d, want %d\n%s", res.code, c.code, res)
				}
				if res.stdout != c.out {
					t.Errorf("stdout = %q, want %q", res.stdout, c.out)
				}
				// a foreground run removes the container when it ends
				expectFailure(t, r.run("state", id))
				assertNothingLeft(t, r.root, id, b.dir)
			})
		}
	})
}

func TestRunForegroundKilledBySignal(t *testing.T) {
	forEachMode(t, "signals", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t, "sleep", "1000")
		m.apply(b)
		id := newID(t)
		done := make(chan result, 1)
		go func() { done <- r.run("run", "--bundle", b.dir, id) }()
		r.waitStatus(id, "running", 10*time.Second)
		r.ok("kill", id, "KILL")
		select {
		case res := <-done:
			if res.code != 128+9 {
				t.Errorf("run exit code after kill KILL = %d, want %d\n%s", res.code, 128+9, res)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("run did not return after kill KILL")
		}
		assertNothingLeft(t, r.root, id, b.dir)
	})
}

func TestRunForegroundSignalHandled(t *testing.T) {
	// pid 1 of a pid namespace only gets the signals it handles; with a
	// handler, TERM reaches it and the run ends with the handler's status.
	forEachMode(t, "signal-handler", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t, "sh", "-c", `trap "echo got TERM; exit 42" TERM; touch /tmp/ready; while true; do sleep 0.05; done`)
		m.apply(b)
		b.edit(func(s *specs.Spec) { s.Root.Readonly = false })
		id := newID(t)
		done := make(chan result, 1)
		go func() { done <- r.run("run", "--bundle", b.dir, id) }()
		waitFile(t, filepath.Join(b.rootfs, "tmp", "ready"), 10*time.Second)
		r.ok("kill", id, "TERM")
		select {
		case res := <-done:
			if res.code != 42 || !strings.Contains(res.stdout, "got TERM") {
				t.Errorf("run after kill TERM: want exit 42 and \"got TERM\"\n%s", res)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("run did not return after kill TERM")
		}
		assertNothingLeft(t, r.root, id, b.dir)
	})
}

func TestRunDetach(t *testing.T) {
	forEachMode(t, "run-detach", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		pidFile := filepath.Join(t.TempDir(), "pid")
		res := r.ok("run", "--detach", "--pid-file", pidFile, "--bundle", b.dir, id)
		if res.stdout != "" {
			t.Errorf("run -d printed %q on stdout", res.stdout)
		}
		st := r.waitStatus(id, "running", 10*time.Second)
		if pid := readPidFile(t, pidFile); pid != st.Pid {
			t.Errorf("pid file holds %d, state says %d", pid, st.Pid)
		}
		if !processAlive(st.Pid) {
			t.Errorf("container process %d is not alive", st.Pid)
		}
		r.ok("kill", id, "KILL")
		r.waitStatus(id, "stopped", 10*time.Second)
		r.ok("delete", id)
		assertNothingLeft(t, r.root, id, b.dir)
	})
}

func TestCreatePidFile(t *testing.T) {
	forEachMode(t, "pid-file", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		pidFile := filepath.Join(t.TempDir(), "create.pid")
		r.ok("create", "--pid-file", pidFile, "--bundle", b.dir, id)
		st := r.state(id)
		if pid := readPidFile(t, pidFile); pid != st.Pid {
			t.Errorf("pid file holds %d, state says %d", pid, st.Pid)
		}
		// a relative pid file path is relative to the working directory
		id2 := newID(t)
		dir := t.TempDir()
		r.okOpt(runOpts{dir: dir}, "create", "--pid-file", "rel.pid", "--bundle", b.dir, id2)
		if pid := readPidFile(t, filepath.Join(dir, "rel.pid")); pid != r.state(id2).Pid {
			t.Errorf("relative pid file holds %d, want %d", pid, r.state(id2).Pid)
		}
	})
}

func TestBundleDefaultsToWorkingDirectory(t *testing.T) {
	forEachMode(t, "run", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t, "echo", "cwd bundle")
		m.apply(b)
		id := newID(t)
		res := r.runOpt(runOpts{dir: b.dir}, "run", id)
		if res.code != 0 || res.stdout != "cwd bundle\n" {
			t.Errorf("run in the bundle directory: want exit 0 and %q\n%s", "cwd bundle\n", res)
		}
	})
}

func TestList(t *testing.T) {
	forEachMode(t, "list", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		created, running := newID(t), newID(t)
		r.ok("create", "--bundle", b.dir, created)
		startContainer(r, b, running)

		// table
		res := r.ok("list")
		lines := strings.Split(strings.TrimRight(res.stdout, "\n"), "\n")
		if len(lines) != 3 {
			t.Fatalf("list: want a header and 2 rows\n%s", res)
		}
		header := strings.Fields(lines[0])
		wantHeader := []string{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}
		if strings.Join(header, " ") != strings.Join(wantHeader, " ") {
			t.Errorf("list header = %q, want %q", header, wantHeader)
		}
		rows := map[string][]string{}
		for _, l := range lines[1:] {
			f := strings.Fields(l)
			if len(f) >= 3 {
				rows[f[0]] = f
			}
		}
		for id, status := range map[string]string{created: "created", running: "running"} {
			f, ok := rows[id]
			if !ok {
				t.Errorf("list table lacks %s\n%s", id, res)
				continue
			}
			if f[2] != status {
				t.Errorf("list: %s status %q, want %q", id, f[2], status)
			}
			if len(f) >= 4 && f[3] != b.dir {
				t.Errorf("list: %s bundle %q, want %q", id, f[3], b.dir)
			}
		}

		// json
		res = r.ok("list", "--format", "json")
		var items []containerState
		if err := json.Unmarshal([]byte(res.stdout), &items); err != nil {
			t.Fatalf("list --format json is not a JSON array: %v\n%s", err, res)
		}
		got := map[string]containerState{}
		for _, it := range items {
			got[it.ID] = it
		}
		if len(got) != 2 || got[created].Status != "created" || got[running].Status != "running" {
			t.Errorf("list json = %+v, want %s created and %s running", items, created, running)
		}
		if got[running].Pid <= 0 || got[running].Bundle != b.dir {
			t.Errorf("list json entry for %s: %+v", running, got[running])
		}

		// quiet
		res = r.ok("list", "-q")
		ids := strings.Fields(res.stdout)
		if len(ids) != 2 || !(contains(ids, created) && contains(ids, running)) {
			t.Errorf("list -q = %q, want exactly %s and %s", res.stdout, created, running)
		}
	})
}

func TestListEmpty(t *testing.T) {
	r := newRuntime(t)
	// runc 1.1 creates a missing --root on list, later runc versions report
	// it as an error: use an existing, empty root.
	if err := os.MkdirAll(r.root, 0o700); err != nil {
		t.Fatal(err)
	}
	res := r.ok("list", "--format", "json")
	s := strings.TrimSpace(res.stdout)
	if s != "null" && s != "[]" {
		t.Errorf("list --format json with no containers = %q, want null or []", s)
	}
	res = r.ok("list", "-q")
	if strings.TrimSpace(res.stdout) != "" {
		t.Errorf("list -q with no containers printed %q", res.stdout)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
