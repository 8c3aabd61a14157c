package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// hostHasHardwareVirt tells whether this host's CPU flags offer VMX or SVM
// (where the microvm mode would use KVM).
func hostHasHardwareVirt() bool {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "flags") {
			f := " " + l + " "
			return strings.Contains(f, " vmx ") || strings.Contains(f, " svm ")
		}
	}
	return false
}

// TestMicrovmBadSettings: a VM that cannot be made (its size, kernel,
// initramfs or accelerator) fails create with an error naming the setting,
// and leaves nothing behind: no state, cgroup, QEMU, virtiofsd or monitor.
func TestMicrovmBadSettings(t *testing.T) {
	m := mode{name: "microvm"}
	m.require(t, "bad-input")
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	if err := os.WriteFile(small, []byte("not a kernel"), 0o644); err != nil {
		t.Fatal(err)
	}
	// big enough to be taken for a kernel, but garbage; the guest's modules
	// beside it, as beside a real one
	if err := os.Symlink("/usr/local/lib/runx/microvm/modules", filepath.Join(dir, "modules")); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("runx garbage kernel ", 1<<17)), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		ann  map[string]string
		want []string // the error names each
	}{
		{"memory-too-small", map[string]string{"dev.runx.microvm.memory": "64"}, []string{"64 MiB", "dev.runx.microvm.memory"}},
		{"memory-too-large", map[string]string{"dev.runx.microvm.memory": "99999999"}, []string{"99999999 MiB", "host"}},
		{"memory-not-a-number", map[string]string{"dev.runx.microvm.memory": "lots"}, []string{"lots", "dev.runx.microvm.memory"}},
		{"vcpus-zero", map[string]string{"dev.runx.microvm.vcpus": "0"}, []string{"dev.runx.microvm.vcpus", "vCPUs"}},
		{"vcpus-too-many", map[string]string{"dev.runx.microvm.vcpus": "4096"}, []string{"dev.runx.microvm.vcpus", "4096"}},
		{"accel-unknown", map[string]string{"dev.runx.microvm.accel": "xen"}, []string{"dev.runx.microvm.accel", "xen"}},
		{"hypervisor-unknown", map[string]string{"dev.runx.microvm.hypervisor": "xen"}, []string{"dev.runx.microvm.hypervisor", "xen"}},
		// runx's own VMM on TCG: there is none (where KVM is real, the
		// accel annotation asks for TCG; here KVM is not usable at all)
		{"own-vmm-without-kvm", map[string]string{"dev.runx.microvm.hypervisor": "runx", "dev.runx.microvm.accel": "tcg"}, []string{"dev.runx.microvm.hypervisor", "KVM only"}},
		{"kernel-missing", map[string]string{"dev.runx.microvm.kernel": "/no/such/vmlinuz"}, []string{"/no/such/vmlinuz"}},
		{"kernel-too-small", map[string]string{"dev.runx.microvm.kernel": small}, []string{small, "not a kernel"}},
		{"kernel-garbage", map[string]string{"dev.runx.microvm.kernel": garbage}, []string{garbage}},
		{"initrd-missing", map[string]string{"dev.runx.microvm.initrd": "/no/such/initrd"}, []string{"/no/such/initrd", "dev.runx.microvm.initrd"}},
		{"initrd-garbage", map[string]string{"dev.runx.microvm.initrd": garbage, "dev.runx.microvm.boot-timeout": "60s"}, []string{garbage}},
		{"boot-timeout-not-a-duration", map[string]string{"dev.runx.microvm.boot-timeout": "soon"}, []string{"soon", "dev.runx.microvm.boot-timeout"}},
	}
	if !hostHasHardwareVirt() {
		cases = append(cases, struct {
			name string
			ann  map[string]string
			want []string
		}{"accel-kvm-unusable", map[string]string{"dev.runx.microvm.accel": "kvm"}, []string{"dev.runx.microvm.accel", "kvm is not usable"}})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRuntime(t)
			b := newBundle(t)
			m.apply(b)
			b.edit(func(s *specs.Spec) {
				for k, v := range c.ann {
					s.Annotations[k] = v
				}
			})
			id := newID(t)
			expectFailure(t, r.run("create", "--bundle", b.dir, id), c.want...)
			for _, w := range c.want[1:] {
				if res := r.run("create", "--bundle", b.dir, id); !strings.Contains(res.stderr, w) {
					t.Errorf("the error does not name %q\n%s", w, res)
				}
			}
			assertNothingLeft(t, r.root, id, b.dir)
		})
	}
}

// TestMicrovmHypervisorMissing: without QEMU's virtiofsd (or QEMU) create
// fails naming the program, and leaves nothing behind. The program is
// hidden in a mount namespace of the test's.
func TestMicrovmHypervisorMissing(t *testing.T) {
	m := mode{name: "microvm"}
	m.require(t, "bad-input")
	r := newRuntime(t)
	b := newBundle(t)
	m.apply(b)
	id := newID(t)
	for _, hidden := range []string{"/usr/lib/qemu", "/usr/bin"} {
		cmd := exec.Command("unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
			`mount -t tmpfs none "$0" && exec "$@"`, hidden,
			runtimeBin(t), "--root", r.root, "create", "--bundle", b.dir, id)
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("create with %s hidden succeeded\n%s", hidden, out)
		}
		if !strings.Contains(string(out), hidden) || !strings.Contains(string(out), "apt-get install qemu-system-x86") {
			t.Errorf("with %s hidden, the error should name the program and its package:\n%s", hidden, out)
		}
		assertNothingLeft(t, r.root, id, b.dir)
	}
}

// TestMicrovmVMEnds: when the VM ends under the container (QEMU killed, or
// the guest kernel panics), the container is reported stopped, its process
// ends as if killed (SIGKILL: 137 for a foreground run), and delete leaves
// nothing behind.
func TestMicrovmVMEnds(t *testing.T) {
	m := mode{name: "microvm"}
	m.require(t, "lifecycle")
	t.Run("hypervisor-killed", func(t *testing.T) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		st := startContainer(r, b, id)
		data, err := os.ReadFile(filepath.Join(r.root, id, "vm.pids"))
		if err != nil {
			t.Fatal(err)
		}
		var pids []int
		if err := json.Unmarshal(data, &pids); err != nil || len(pids) == 0 {
			t.Fatalf("vm.pids %q: %v", data, err)
		}
		if err := killPid(pids[0]); err != nil { // QEMU
			t.Fatal(err)
		}
		waitGone(t, st.Pid, 10*time.Second)
		if s := r.state(id).Status; s != "stopped" {
			t.Errorf("status after QEMU was killed = %q, want stopped", s)
		}
		r.ok("delete", id)
		assertNothingLeft(t, r.root, id, b.dir)
	})
	t.Run("guest-kernel-panic", func(t *testing.T) {
		r := newRuntime(t)
		b := newBundle(t, "sh", "-c", "echo c > /proc/sysrq-trigger; sleep 1000")
		m.apply(b)
		b.edit(func(s *specs.Spec) {
			s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
			for _, set := range []*[]string{&s.Process.Capabilities.Bounding, &s.Process.Capabilities.Effective, &s.Process.Capabilities.Permitted} {
				*set = append(*set, "CAP_SYS_ADMIN")
			}
			for i := range s.Mounts {
				if s.Mounts[i].Destination == "/proc" {
					s.Mounts[i].Options = nil
				}
			}
		})
		id := newID(t)
		res := r.run("run", "--bundle", b.dir, id)
		if res.code != 137 {
			t.Errorf("a foreground run whose guest kernel panicked: exit code %d, want 137\n%s", res.code, res)
		}
		assertNothingLeft(t, r.root, id, b.dir)
	})
}

// TestMicrovmSizing: the VM's memory and vCPUs follow linux.resources (the
// memory limit; the CPU quota over its period), as Kata sizes a pod's VM.
func TestMicrovmSizing(t *testing.T) {
	m := mode{name: "microvm"}
	m.require(t, "lifecycle")
	r := newRuntime(t)
	b := newBundle(t, "sh", "-c", "nproc; grep MemTotal /proc/meminfo")
	m.apply(b)
	b.edit(func(s *specs.Spec) {
		limit, quota, period := int64(256<<20), int64(200000), uint64(100000)
		s.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit},
			CPU: &specs.LinuxCPU{Quota: &quota, Period: &period}}
	})
	id := newID(t)
	res := r.run("run", "--bundle", b.dir, id)
	f := strings.Fields(res.stdout)
	if res.code != 0 || len(f) < 3 {
		t.Fatalf("want nproc and MemTotal\n%s", res)
	}
	if want := strconv.Itoa(min(2, runtime.NumCPU())); f[0] != want {
		t.Errorf("nproc in the VM = %s, want %s (quota 2 CPUs, host %d)", f[0], want, runtime.NumCPU())
	}
	// the guest kernel keeps some of the 256 MiB for itself
	if kb, _ := strconv.Atoi(f[2]); kb < 180<<10 || kb > 256<<10 {
		t.Errorf("MemTotal in the VM = %s kB, want a little under 256 MiB", f[2])
	}
}

// TestMicrovmHypervisorJail: the hypervisor (QEMU, or runx's own VMM in
// the nested KVM host) runs as a user of its own (not root, not another
// VM's), every thread with no capabilities, no new privileges and a
// seccomp filter; runx's VMM also in user and mount namespaces of its own
// with an empty root; virtiofsd's server under its own seccomp filter. A
// container runs so.
func TestMicrovmHypervisorJail(t *testing.T) {
	m := mode{name: "microvm"}
	m.require(t, "lifecycle")
	r := newRuntime(t)
	var uids []string
	for i := 0; i < 2; i++ {
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		startContainer(r, b, id)
		defer r.ok("delete", "--force", id)
		data, err := os.ReadFile(filepath.Join(r.root, id, "vm.pids"))
		if err != nil {
			t.Fatal(err)
		}
		var pids []int
		if err := json.Unmarshal(data, &pids); err != nil || len(pids) != 2 {
			t.Fatalf("vm.pids %q: %v", data, err)
		}
		// Every thread of the hypervisor: a user of its own, no
		// capability, under a seccomp filter.
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pids[0]))
		if len(tasks) == 0 {
			t.Fatalf("the hypervisor (%d) has no threads", pids[0])
		}
		for _, task := range tasks {
			st := procStatus(t, pids[0], task.Name())
			uid := strings.Fields(st["Uid"])
			if len(uid) != 4 || uid[0] == "0" || uid[1] == "0" || uid[2] == "0" || uid[3] == "0" {
				t.Errorf("the hypervisor's thread %s: uids (real, effective, saved, fs) %v: root", task.Name(), uid)
			}
			if task.Name() == strconv.Itoa(pids[0]) && len(uid) > 0 {
				uids = append(uids, uid[0])
			}
			for _, f := range []string{"CapEff", "CapPrm", "CapAmb"} {
				if st[f] != "0000000000000000" {
					t.Errorf("the hypervisor's thread %s: %s is %s, want none", task.Name(), f, st[f])
				}
			}
			if st["NoNewPrivs"] != "1" || st["Seccomp"] != "2" {
				t.Errorf("the hypervisor's thread %s: NoNewPrivs %s, Seccomp %s; want 1 and 2 (a filter)", task.Name(), st["NoNewPrivs"], st["Seccomp"])
			}
		}
		// runx's own VMM sees an empty root, in namespaces of its own.
		if cl, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pids[0])); strings.HasPrefix(string(cl), "runx\x00vmm\x00") {
			root := fmt.Sprintf("/proc/%d/root", pids[0])
			if ents, err := os.ReadDir(root); err != nil || len(ents) != 0 {
				t.Errorf("the VMM's root holds %d entries (%v), want none", len(ents), err)
			}
			for _, ns := range []string{"mnt", "user"} {
				mine, _ := os.Readlink("/proc/self/ns/" + ns)
				its, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pids[0], ns))
				if err != nil || its == mine {
					t.Errorf("the VMM's %s namespace %q (%v) is the host's", ns, its, err)
				}
			}
		}
		// virtiofsd serves from a child in namespaces of its own, under
		// its filter; the parent only waits for it.
		kids, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pids[1], pids[1]))
		if f := strings.Fields(string(kids)); len(f) != 1 {
			t.Errorf("virtiofsd (%d) has children %q, want its one server", pids[1], kids)
		} else if n, _ := strconv.Atoi(f[0]); procStatus(t, n)["Seccomp"] != "2" {
			t.Errorf("virtiofsd's server: Seccomp %s, want 2 (its filter)", procStatus(t, n)["Seccomp"])
		}
	}
	if len(uids) == 2 && uids[0] == uids[1] {
		t.Errorf("two VMs' hypervisors run as the same user %s", uids[0])
	}
}

// procStatus is /proc/PID/status as fields.
func procStatus(t *testing.T, pid int, task ...string) map[string]string {
	t.Helper()
	path := fmt.Sprintf("/proc/%d/status", pid)
	if len(task) == 1 {
		path = fmt.Sprintf("/proc/%d/task/%s/status", pid, task[0])
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for _, l := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			fields[k] = strings.TrimSpace(v)
		}
	}
	return fields
}

// TestMicrovmSlowStdio: a reader that pauses, and stdin the program takes
// late, hold the container's stream back, as a pipe would. ttrpc ends a
// stream whose reader lags a second behind 64 queued messages: the first
// was reported as the container killed (137, its output cut), the second
// failed the create ("the VM ended").
func TestMicrovmSlowStdio(t *testing.T) {
	m := mode{name: "microvm"}
	m.require(t, "lifecycle")
	const size = 16 << 20 // hundreds of messages
	t.Run("stdout-reader-pauses", func(t *testing.T) {
		r := newRuntime(t)
		b := newBundle(t, "sh", "-c", fmt.Sprintf("head -c %d /dev/zero; echo END", size))
		m.apply(b)
		id := newID(t)
		r.track(id)
		cmd := exec.Command(r.bin, "--root", r.root, "run", "--bundle", b.dir, id)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(6 * time.Second) // the reader pauses: the container must wait
		n, _ := io.Copy(io.Discard, out)
		err = cmd.Wait()
		if err != nil || n != size+4 {
			t.Errorf("run with a paused reader: %v, %d bytes out of %d\n%s", err, n, size+4, stderr.String())
		}
		assertNothingLeft(t, r.root, id, b.dir)
	})
	t.Run("stdin-taken-late", func(t *testing.T) {
		r := newRuntime(t)
		b := newBundle(t, "sh", "-c", "sleep 3; wc -c")
		m.apply(b)
		id := newID(t)
		res := r.runOpt(runOpts{stdin: bytes.NewReader(make([]byte, size))}, "run", "--bundle", b.dir, id)
		if res.code != 0 || strings.TrimSpace(res.stdout) != strconv.Itoa(size) {
			t.Errorf("run with stdin the program reads late: want %d bytes counted\n%s", size, res)
		}
		assertNothingLeft(t, r.root, id, b.dir)
	})
}
