package tests

import (
	"crypto/sha256"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The modes whose container process is runx itself (the sandbox's Sentry,
// the unikernel tender) show runx's binary in the container. Even with
// every capability in the container's namespaces (the test enters them as
// the host's root, more than a Sentry taken over could have), it cannot be
// written: remounting its bind mount read-write does not help, nor does
// uncovering and remounting the overlay it comes from. The host's binary is
// unchanged. A program with CAP_SYS_ADMIN detaches that staging when it
// starts; without, it stays covered.
func TestRunxBinaryLocked(t *testing.T) {
	requireRunx(t)
	bin := runtimeBin(t)
	sum := func() [32]byte {
		data, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(data)
	}
	before := sum()
	for _, c := range []struct{ mode, path string }{
		{"sandbox", "/dev/.runx/runx-sentry"},
		{"unikernel", "/dev/.runx/solo5-spt"},
	} {
		t.Run(c.mode, func(t *testing.T) {
			r := newRuntime(t)
			b := newBundle(t, "sleep", "100")
			mode{name: c.mode}.apply(b)
			id := newID(t)
			r.ok("create", "--bundle", b.dir, id)
			out, _ := exec.Command("nsenter", "-t", itoa(r.state(id).Pid), "-m", "-p", "--", "sh", "-c", `p=`+c.path+`
				busybox mount -o remount,bind,rw $p 2>&1; echo remount-bind=$?
				echo x >> $p; echo append=$?
				test -e /dev/.runx/self/lower || echo covered
				busybox umount /dev/.runx/self; echo uncover=$?
				busybox mount -o remount,rw /dev/.runx/self/lower 2>&1; echo remount-overlay=$?
				for f in /dev/.runx/self/lower/*; do echo x >> $f && echo wrote $f; done
				test -x $p && echo runnable`).CombinedOutput()
			for _, want := range []string{"remount-bind=0", "append=1", "covered", "uncover=0", "Read-only file system", "runnable"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("in the created container: want %q\n%s", want, out)
				}
			}
			if strings.Contains(string(out), "remount-overlay=0") || strings.Contains(string(out), "wrote") {
				t.Errorf("the overlay runx comes from was made writable\n%s", out)
			}
			if sum() != before {
				t.Fatalf("the host's runx binary %s changed", bin)
			}
			r.ok("delete", "--force", id)
			assertNothingLeft(t, r.root, id, b.dir)

			// With CAP_SYS_ADMIN, the program detaches the staging.
			b = newBundle(t, "sleep", "100")
			mode{name: c.mode}.apply(b)
			b.edit(func(s *specs.Spec) {
				caps := s.Process.Capabilities
				caps.Bounding = append(caps.Bounding, "CAP_SYS_ADMIN")
				caps.Effective = append(caps.Effective, "CAP_SYS_ADMIN")
				caps.Permitted = append(caps.Permitted, "CAP_SYS_ADMIN")
			})
			id = newID(t)
			st := startContainer(r, b, id)
			// mount points (the 5th field of mountinfo) there
			mounted := func(info []byte, at string) bool {
				for _, l := range strings.Split(string(info), "\n") {
					if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], at) {
						return true
					}
				}
				return false
			}
			var info []byte
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				info, _ = os.ReadFile("/proc/" + itoa(st.Pid) + "/mountinfo")
				if !mounted(info, "/dev/.runx/self") || time.Now().After(deadline) {
					break
				}
			}
			if mounted(info, "/dev/.runx/self") || !mounted(info, c.path) {
				t.Errorf("after start with CAP_SYS_ADMIN: want the staging detached and %s mounted\n%s", c.path, info)
			}
			if st := r.state(id); st.Status != "running" {
				t.Errorf("status %q after start, want running", st.Status)
			}
			r.ok("kill", id, "KILL")
			r.waitStatus(id, "stopped", 10*time.Second)
			r.ok("delete", id)
			assertNothingLeft(t, r.root, id, b.dir)
		})
	}
}
