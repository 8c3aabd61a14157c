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

// Unikernels as OCI containers: dev.runx.isolation=unikernel, process.args[0]
// names the unikernel in the rootfs, annotations give its devices.

// ukBundle is a busybox bundle whose rootfs also holds the built guests.
func ukBundle(t *testing.T, guests string, args []string, ann map[string]string) *bundle {
	t.Helper()
	b := newBundle(t, args...)
	for _, g := range []string{"hello", "blk", "time", "net", "fault", "seccomp", "hello_hvt"} {
		data, err := os.ReadFile(filepath.Join(guests, g+".spt"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(b.rootfs, g+".spt"), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b.edit(func(s *specs.Spec) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations["dev.runx.isolation"] = "unikernel"
		for k, v := range ann {
			s.Annotations[k] = v
		}
	})
	return b
}

func TestUnikernelOCIRun(t *testing.T) {
	requireRunx(t)
	guests := ukGuests(t)
	r := newRuntime(t)
	b := ukBundle(t, guests, []string{"/hello.spt", "from", "oci"}, nil)
	id := newID(t)
	res := r.run("run", "--bundle", b.dir, id)
	if res.code != 0 || !strings.Contains(res.stdout, "Command line is: 'from oci'") || !strings.Contains(res.stdout, "SUCCESS") {
		t.Fatalf("run of a hello unikernel\n%s", res)
	}
	assertNothingLeft(t, r.root, id, b.dir)
}

func TestUnikernelOCIExitStatuses(t *testing.T) {
	requireRunx(t)
	guests := ukGuests(t)
	r := newRuntime(t)
	for guest, want := range map[string]int{"fault": 139, "seccomp": 159} {
		b := ukBundle(t, guests, []string{"/" + guest + ".spt"}, nil)
		id := newID(t)
		if res := r.run("run", "--bundle", b.dir, id); res.code != want {
			t.Errorf("run of the %s unikernel: status %d, want %d\n%s", guest, res.code, want, res)
		}
	}
}

func TestUnikernelOCIBlock(t *testing.T) {
	requireRunx(t)
	guests := ukGuests(t)
	r := newRuntime(t)
	b := ukBundle(t, guests, []string{"/blk.spt"}, map[string]string{
		"dev.runx.unikernel.block.storage":  "/disk.img",
		"dev.runx.unikernel.sector.storage": "4096",
	})
	if err := os.WriteFile(filepath.Join(b.rootfs, "disk.img"), make([]byte, 4<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	b.edit(func(s *specs.Spec) { s.Root.Readonly = true })
	id := newID(t)
	res := r.run("run", "--bundle", b.dir, id)
	if res.code != 0 || !strings.Contains(res.stdout, "SUCCESS") {
		t.Fatalf("block unikernel on a read-only rootfs\n%s", res)
	}
}

// The tender is the container's process: state, pid file and kill see it.
func TestUnikernelOCILifecycle(t *testing.T) {
	requireRunx(t)
	guests := ukGuests(t)
	r := newRuntime(t)
	b := ukBundle(t, guests, []string{"/time.spt"}, map[string]string{"dev.runx.unikernel.memory": "64"})
	id := newID(t)
	pidFile := filepath.Join(t.TempDir(), "pid")
	r.ok("create", "--bundle", b.dir, "--pid-file", pidFile, id)
	st := r.state(id)
	data, err := os.ReadFile(pidFile)
	if err != nil || strings.TrimSpace(string(data)) != itoa(st.Pid) {
		t.Fatalf("pid file %q, state pid %d, err %v", data, st.Pid, err)
	}
	if st.Annotations["dev.runx.isolation"] != "unikernel" {
		t.Errorf("state annotations: %v", st.Annotations)
	}
	r.ok("start", id)
	cmdline, _ := os.ReadFile("/proc/" + itoa(st.Pid) + "/cmdline")
	if !strings.Contains(string(cmdline), "solo5-spt") || !strings.Contains(string(cmdline), "--mem=64") {
		t.Errorf("the container's process is not the tender: %q", cmdline)
	}
	if res := r.run("exec", id, "/bin/true"); res.code == 0 || !strings.Contains(res.stderr, "unikernel") {
		t.Errorf("exec into a unikernel container should be refused\n%s", res)
	}
	r.ok("kill", id, "KILL")
	waitGone(t, st.Pid, 5*time.Second)
	r.ok("delete", id)
	assertNothingLeft(t, r.root, id, b.dir)
}

func TestUnikernelOCIBadInput(t *testing.T) {
	requireRunx(t)
	guests := ukGuests(t)
	r := newRuntime(t)
	cases := []struct {
		name string
		args []string
		ann  map[string]string
		want string
	}{
		{"missing kernel", []string{"/nope.spt"}, nil, "nope.spt"},
		{"not a unikernel", []string{"/bin/busybox"}, nil, "busybox"},
		{"hvt unikernel", []string{"/hello_hvt.spt"}, nil, "solo5-spt target"},
		{"undeclared device given", []string{"/hello.spt"}, map[string]string{"dev.runx.unikernel.block.storage": "/x"}, "storage"},
		{"declared device not given", []string{"/blk.spt"}, nil, "dev.runx.unikernel.block.storage"},
		{"missing block image", []string{"/blk.spt"}, map[string]string{"dev.runx.unikernel.block.storage": "/nope.img"}, "nope.img"},
		{"bad memory", []string{"/hello.spt"}, map[string]string{"dev.runx.unikernel.memory": "lots"}, "dev.runx.unikernel.memory"},
		{"too much memory", []string{"/hello.spt"}, map[string]string{"dev.runx.unikernel.memory": "4096"}, "MiB"},
	}
	for _, c := range cases {
		b := ukBundle(t, guests, c.args, c.ann)
		id := newID(t)
		res := r.run("create", "--bundle", b.dir, id)
		if res.code != 1 || !strings.Contains(res.stderr, c.want) {
			t.Errorf("%s: want exit 1 naming %q\n%s", c.name, c.want, res)
		}
		assertNothingLeft(t, r.root, id, b.dir)
	}
}

// A network device is a tap bridged with an interface of the container's
// network namespace: the host pings the unikernel through a veth pair.
func TestUnikernelOCINet(t *testing.T) {
	requireRunx(t)
	guests := ukGuests(t)
	if _, err := exec.LookPath("ping"); err != nil {
		t.Fatalf("ping is needed (make deps): %v", err)
	}
	ns := vethNetns(t, "uk", "10.0.0.1", "10.0.0.9", false)

	r := newRuntime(t)
	b := ukBundle(t, guests, []string{"/net.spt", "3"}, map[string]string{"dev.runx.unikernel.net.service0": "eth0"})
	b.joinNetns(ns)
	id := newID(t)
	r.ok("run", "-d", "--bundle", b.dir, id)
	var out []byte
	var err error
	for i := 0; i < 20; i++ {
		if out, err = exec.Command("ping", "-c", "3", "-i", "0.2", "-W", "1", "10.0.0.2").CombinedOutput(); err == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("ping of the unikernel through the container's eth0: %v\n%s", err, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for r.state(id).Status != "stopped" && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if st := r.state(id); st.Status != "stopped" {
		t.Errorf("the net unikernel did not exit after its pings: %s", st.Status)
	}
}
