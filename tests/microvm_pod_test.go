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

// podBundle is a bundle of a CRI pod's container in the microvm mode:
// the sandbox container itself (kind "sandbox") or a later one.
func podBundle(t *testing.T, sandbox, kind string, args ...string) *bundle {
	t.Helper()
	b := newBundle(t, args...)
	mode{name: "microvm"}.apply(b)
	b.edit(func(s *specs.Spec) {
		s.Annotations["io.kubernetes.cri.sandbox-id"] = sandbox
		s.Annotations["io.kubernetes.cri.container-type"] = kind
		s.Hostname = "the-pod"
	})
	return b
}

// TestMicrovmPod: a pod's later containers run in its sandbox container's
// VM (one VM: one QEMU), share its localhost and hostname, take their own
// bind mounts, answer exec, ps, pause and kill as containers do, and go
// with the sandbox.
func TestMicrovmPod(t *testing.T) {
	mode{name: "microvm"}.require(t, "lifecycle")
	r := newRuntime(t)
	sb := newID(t)
	sbb := podBundle(t, sb, "sandbox", "sh", "-c", "while :; do nc -l -p 7000 -e echo from-the-sandbox; done")
	startContainer(r, sbb, sb)
	qemus := countHypervisors(t)

	// a later container: localhost and hostname are the pod's; its own
	// bind mount (added to the running VM's shared tree) works both ways
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "in"), []byte("from-the-host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c1 := newID(t)
	b1 := podBundle(t, sb, "container", "sh", "-c", "nc 127.0.0.1 7000; hostname; cat /data/in; echo from-c1 > /data/out; if echo x > /ro/x 2>/dev/null; then echo ro-writable; fi")
	b1.edit(func(s *specs.Spec) {
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/data", Type: "bind", Source: src, Options: []string{"rbind", "rw"}},
			specs.Mount{Destination: "/ro", Type: "bind", Source: src, Options: []string{"rbind", "ro"}})
	})
	res := r.run("run", "--bundle", b1.dir, c1)
	if want := "from-the-sandbox\nthe-pod\nfrom-the-host\n"; res.code != 0 || res.stdout != want {
		t.Errorf("the pod's container: want %q and status 0\n%s", want, res)
	}
	if got, _ := os.ReadFile(filepath.Join(src, "out")); string(got) != "from-c1\n" {
		t.Errorf("the container's write through its bind: %q", got)
	}
	assertNothingLeft(t, r.root, c1, b1.dir)
	if n := countHypervisors(t); n != qemus {
		t.Errorf("%d hypervisor processes while the pod's container ran, want %d: one VM per pod", n, qemus)
	}

	// a detached one: exec, ps, pause, kill
	c2 := newID(t)
	b2 := podBundle(t, sb, "container")
	st2 := startContainer(r, b2, c2)
	if out := r.ok("exec", c2, "sh", "-c", "echo exec-in-c2; hostname").stdout; out != "exec-in-c2\nthe-pod\n" {
		t.Errorf("exec in the pod's container: %q", out)
	}
	var pids []int
	if err := json.Unmarshal([]byte(r.ok("ps", "--format", "json", c2).stdout), &pids); err != nil || len(pids) != 1 || pids[0] != st2.Pid {
		t.Errorf("ps --format json = %v (%v), want [%d], its relay", pids, err, st2.Pid)
	}
	if out := r.ok("ps", c2).stdout; strings.Count(out, "sleep 1000") != 1 {
		t.Errorf("the guest's ps table of the container:\n%s", out)
	}
	r.ok("pause", c2)
	if s := r.state(c2).Status; s != "paused" {
		t.Errorf("status after pause = %q", s)
	}
	if s := r.state(sb).Status; s != "running" {
		t.Errorf("the sandbox's status while its pod's container is paused = %q", s)
	}
	r.ok("resume", c2)
	r.ok("kill", c2, "KILL")
	r.waitStatus(c2, "stopped", 10*time.Second)
	if s := r.state(sb).Status; s != "running" {
		t.Errorf("the sandbox's status after its pod's container was killed = %q", s)
	}
	r.ok("delete", c2)
	assertNothingLeft(t, r.root, c2, b2.dir)

	// the VM goes with the sandbox, and its containers with it
	c3 := newID(t)
	b3 := podBundle(t, sb, "container")
	st3 := startContainer(r, b3, c3)
	r.ok("delete", "--force", sb)
	waitGone(t, st3.Pid, 10*time.Second)
	if s := r.state(c3).Status; s != "stopped" {
		t.Errorf("the pod's container after its sandbox went: %q", s)
	}
	r.ok("delete", c3)
	assertNothingLeft(t, r.root, sb, sbb.dir)
	assertNothingLeft(t, r.root, c3, b3.dir)
	if n := countHypervisors(t); n != qemus-1 {
		t.Errorf("%d hypervisor processes after the pod went, want %d", n, qemus-1)
	}
}

// TestMicrovmPodBadSandbox: a container naming a sandbox that is not a
// running microvm container of the same root is refused, naming it.
func TestMicrovmPodBadSandbox(t *testing.T) {
	mode{name: "microvm"}.require(t, "bad-input")
	r := newRuntime(t)
	id := newID(t)
	b := podBundle(t, "no-such-sandbox", "container")
	expectFailure(t, r.run("create", "--bundle", b.dir, id), "no-such-sandbox")
	assertNothingLeft(t, r.root, id, b.dir)
}

// countHypervisors counts the VMs' hypervisor processes: QEMU, or runx's
// own VMM (runx vmm).
func countHypervisors(t *testing.T) int {
	t.Helper()
	n := 0
	procs, _ := os.ReadDir("/proc")
	for _, e := range procs {
		cl, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && (strings.Contains(string(cl), "qemu-system") || strings.HasPrefix(string(cl), "runx\x00vmm\x00")) && processAlive(atoiOr0(e.Name())) {
			n++
		}
	}
	return n
}

func atoiOr0(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}
