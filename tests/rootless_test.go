package tests

import (
	"context"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// rootlessUser is the unprivileged account the rootless test runs as.
const rootlessUser = "runxtest"

var userMu sync.Mutex

// ensureUser creates rootlessUser if it does not exist (idempotent).
func ensureUser(t *testing.T) *user.User {
	t.Helper()
	userMu.Lock()
	defer userMu.Unlock()
	if u, err := user.Lookup(rootlessUser); err == nil {
		return u
	}
	out, err := exec.Command("useradd", "--create-home", "--shell", "/bin/sh", rootlessUser).CombinedOutput()
	if err != nil {
		// a concurrent creation by another process is fine
		if u, lerr := user.Lookup(rootlessUser); lerr == nil {
			return u
		}
		t.Fatalf("useradd %s: %v\n%s", rootlessUser, err, out)
	}
	u, err := user.Lookup(rootlessUser)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// asUser runs the runtime as u via setpriv, in dir, with a minimal
// environment (HOME, PATH, XDG_RUNTIME_DIR).
func asUser(t *testing.T, u *user.User, dir, xdg string, args ...string) result {
	t.Helper()
	bin := runtimeBin(t)
	ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
	defer cancel()
	full := append([]string{"--reuid=" + u.Uid, "--regid=" + u.Gid, "--init-groups", "--", bin}, args...)
	cmd := exec.CommandContext(ctx, "setpriv", full...)
	cmd.Dir = dir
	cmd.Env = []string{
		"HOME=" + u.HomeDir,
		"USER=" + u.Username,
		"LOGNAME=" + u.Username,
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"XDG_RUNTIME_DIR=" + xdg,
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	res := result{args: append([]string{"setpriv"}, full...), stdout: stdout.String(), stderr: stderr.String(), code: exitCode(cmd, err)}
	if ctx.Err() != nil {
		res.timedOut, res.code = true, -1
		t.Errorf("timed out\n%s", res)
	}
	return res
}

func TestRootlessRun(t *testing.T) {
	requireRoot(t)
	u := ensureUser(t)
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)

	// the user must be able to reach the runtime binary
	bin := runtimeBin(t)
	for d := filepath.Dir(bin); d != "/"; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err == nil && st.Mode().Perm()&0o001 == 0 {
			t.Fatalf("%s is not searchable by others, so %s cannot run %s", d, rootlessUser, bin)
		}
	}

	// a world-searchable top directory outside /root, owned by the user
	top, err := os.MkdirTemp("/tmp", "rxt-rootless-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(top, 0o755); err != nil {
		t.Fatal(err)
	}
	bundleDir := filepath.Join(top, "bundle")
	xdg := filepath.Join(top, "xdg")
	if err := os.MkdirAll(bundleDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(xdg, 0o700); err != nil {
		t.Fatal(err)
	}
	makeRootfs(t, filepath.Join(bundleDir, "rootfs"))
	chownTree(t, top, uid, gid)
	root := filepath.Join(xdg, "runx")
	id := newID(t)

	t.Cleanup(func() {
		asUser(t, u, bundleDir, xdg, "--root", root, "delete", "-f", id)
		os.RemoveAll(top)
	})

	res := asUser(t, u, bundleDir, xdg, "spec", "--rootless")
	if res.code != 0 {
		t.Fatalf("spec --rootless as %s failed\n%s", rootlessUser, res)
	}
	b := &bundle{t: t, dir: bundleDir, rootfs: filepath.Join(bundleDir, "rootfs")}
	b.load()
	if b.spec.Linux == nil || len(b.spec.Linux.UIDMappings) == 0 {
		t.Errorf("spec --rootless has no uid mappings")
	} else if m := b.spec.Linux.UIDMappings[0]; int(m.HostID) != uid || m.ContainerID != 0 {
		t.Errorf("spec --rootless maps %+v, want container 0 to host %d", m, uid)
	}
	hasUserNS := false
	if b.spec.Linux != nil {
		for _, ns := range b.spec.Linux.Namespaces {
			if ns.Type == specs.UserNamespace {
				hasUserNS = true
			}
		}
	}
	if !hasUserNS {
		t.Errorf("spec --rootless does not ask for a user namespace")
	}
	b.edit(func(s *specs.Spec) {
		s.Process.Terminal = false
		s.Process.Args = []string{"sh", "-c", `echo "hello rootless"; id -u`}
	})
	if err := os.Chown(b.configPath(), uid, gid); err != nil {
		t.Fatal(err)
	}

	res = asUser(t, u, bundleDir, xdg, "--root", root, "run", id)
	if res.code != 0 {
		t.Fatalf("rootless run failed\n%s", res)
	}
	if res.stdout != "hello rootless\n0\n" {
		t.Errorf("rootless run stdout = %q, want %q", res.stdout, "hello rootless\n0\n")
	}
	// the state lived under the user's root and is gone after run
	if _, err := os.Stat(filepath.Join(root, id)); err == nil {
		t.Errorf("state of %s left under %s", id, root)
	}
	assertNothingLeft(t, root, id, bundleDir)

	// The sandbox mode, unprivileged too: the Sentry runs in the rootless
	// container and makes the workload's user and pid namespaces below it.
	b.edit(func(s *specs.Spec) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations["dev.runx.isolation"] = "sandbox"
	})
	if err := os.Chown(b.configPath(), uid, gid); err != nil {
		t.Fatal(err)
	}
	sid := newID(t)
	t.Cleanup(func() { asUser(t, u, bundleDir, xdg, "--root", root, "delete", "-f", sid) })
	res = asUser(t, u, bundleDir, xdg, "--root", root, "run", sid)
	if res.code != 0 || res.stdout != "hello rootless\n0\n" {
		t.Errorf("rootless run in the sandbox mode: want stdout %q, status 0\n%s", "hello rootless\n0\n", res)
	}
	assertNothingLeft(t, root, sid, bundleDir)
}

// chownTree gives a directory tree to uid:gid without following symlinks.
func chownTree(t *testing.T, dir string, uid, gid int) {
	t.Helper()
	err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}
