package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestBindMounts: bind mounts of config.json, a directory read-write (the
// container's writes land on the host), the same read-only, and a file.
func TestBindMounts(t *testing.T) {
	forEachMode(t, "bind-mounts", func(t *testing.T, m mode) {
		r := newRuntime(t)
		src := t.TempDir()
		if err := os.WriteFile(filepath.Join(src, "from-host"), []byte("hello from the host\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		// a mount under the source: a read-only bind leaves it writable,
		// as runc's "ro" (non-recursive); "rro" makes it read-only too
		sub := filepath.Join(src, "sub")
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("mount", "-t", "tmpfs", "runx-test", sub).CombinedOutput(); err != nil {
			t.Fatalf("mount tmpfs on %s: %v\n%s", sub, err, out)
		}
		t.Cleanup(func() { _ = exec.Command("umount", "-l", sub).Run() })
		file := filepath.Join(t.TempDir(), "hosts")
		if err := os.WriteFile(file, []byte("10.1.2.3 bound\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		b := newBundle(t, "sh", "-c", `cat /rw/from-host /etc/hosts; echo written > /rw/from-container
			if echo x > /ro/denied 2>/dev/null; then echo ro-writable; else echo ro-refused; fi
			if echo x > /ro/sub/under 2>/dev/null; then echo sub-writable; else echo sub-refused; fi
			if echo x > /rro/sub/under-rro 2>/dev/null; then echo rro-sub-writable; else echo rro-sub-refused; fi`)
		m.apply(b)
		b.edit(func(s *specs.Spec) {
			s.Mounts = append(s.Mounts,
				specs.Mount{Destination: "/rw", Type: "bind", Source: src, Options: []string{"rbind", "rw"}},
				specs.Mount{Destination: "/ro", Type: "bind", Source: src, Options: []string{"rbind", "ro"}},
				specs.Mount{Destination: "/rro", Type: "bind", Source: src, Options: []string{"rbind", "rro"}},
				specs.Mount{Destination: "/etc/hosts", Type: "bind", Source: file, Options: []string{"bind", "ro"}})
		})
		id := newID(t)
		res := r.run("run", "--bundle", b.dir, id)
		if want := "hello from the host\n10.1.2.3 bound\nro-refused\nsub-writable\nrro-sub-refused\n"; res.code != 0 || res.stdout != want {
			t.Errorf("want status 0 and %q\n%s", want, res)
		}
		got, err := os.ReadFile(filepath.Join(src, "from-container"))
		if err != nil || string(got) != "written\n" {
			t.Errorf("the container's write through the bind: %q, %v", got, err)
		}
		if _, err := os.Stat(filepath.Join(src, "denied")); err == nil {
			t.Errorf("a file was written through the read-only bind")
		}
		assertNothingLeft(t, r.root, id, b.dir)
	})
}

// TestBadBindMountSource: a bind mount whose source does not exist fails
// create, naming it, and leaves nothing behind.
func TestBadBindMountSource(t *testing.T) {
	forEachMode(t, "bind-mounts", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		missing := filepath.Join(t.TempDir(), "no-such-dir")
		b.edit(func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: missing, Options: []string{"rbind"}})
		})
		id := newID(t)
		res := r.run("create", "--bundle", b.dir, id)
		expectFailure(t, res, missing)
		assertNothingLeft(t, r.root, id, b.dir)
	})
}

// TestMicrovmReadOnlyBindHeldByHost: in the microvm mode a read-only bind is
// read-only in the host's tree that virtiofsd serves, so even a guest root
// that remounts it read-write cannot write to the host (microvm/README.md,
// threat model).
func TestMicrovmReadOnlyBindHeldByHost(t *testing.T) {
	m := mode{name: "microvm"}
	m.require(t, "bind-mounts")
	r := newRuntime(t)
	src := t.TempDir()
	b := newBundle(t, "sh", "-c", `mount -o remount,rw /ro && echo remounted
		if echo x > /ro/denied; then echo written; else echo refused; fi`)
	m.apply(b)
	b.edit(func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/ro", Type: "bind", Source: src, Options: []string{"rbind", "ro"}})
		s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_SYS_ADMIN")
		s.Process.Capabilities.Effective = append(s.Process.Capabilities.Effective, "CAP_SYS_ADMIN")
		s.Process.Capabilities.Permitted = append(s.Process.Capabilities.Permitted, "CAP_SYS_ADMIN")
	})
	id := newID(t)
	res := r.run("run", "--bundle", b.dir, id)
	if !strings.Contains(res.stdout, "remounted\n") || !strings.Contains(res.stdout, "refused\n") {
		t.Errorf("want the guest's remount to succeed and the write to be refused\n%s", res)
	}
	if _, err := os.Stat(filepath.Join(src, "denied")); err == nil {
		t.Errorf("the guest wrote through a read-only bind")
	}
	assertNothingLeft(t, r.root, id, b.dir)
}
