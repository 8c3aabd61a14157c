package tests

import (
	"bufio"
	"bytes"
	"debug/elf"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The sandbox isolation mode: the workload runs under the Sentry, runx's
// userspace kernel, with dev.runx.isolation=sandbox on a busybox bundle.

// sandboxBundle is a busybox bundle that runs args in the sandbox mode.
func sandboxBundle(t *testing.T, args ...string) *bundle {
	t.Helper()
	b := newBundle(t, args...)
	b.edit(func(s *specs.Spec) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations["dev.runx.isolation"] = "sandbox"
	})
	return b
}

// runIn runs args to completion in a fresh container of the given mode
// (edit, when set, changes the bundle first) and checks nothing is left.
func runIn(t *testing.T, mode string, edit func(b *bundle), args ...string) result {
	t.Helper()
	r := newRuntime(t)
	b := newBundle(t, args...)
	b.edit(func(s *specs.Spec) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations["dev.runx.isolation"] = mode
	})
	if edit != nil {
		edit(b)
	}
	id := newID(t)
	res := r.run("run", "--bundle", b.dir, id)
	assertNothingLeft(t, r.root, id, b.dir)
	return res
}

// sentryLog is what the Sentry itself wrote on the container's stderr.
func sentryLog(stderr string) string {
	var out []string
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(line, "runx-sentry: ") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func TestSandboxEcho(t *testing.T) {
	requireRunx(t)
	res := runIn(t, "sandbox", nil, "echo", "hello")
	if res.code != 0 || res.stdout != "hello\n" {
		t.Fatalf("echo hello in the sandbox\n%s", res)
	}
	if l := sentryLog(res.stderr); l != "" {
		t.Errorf("the Sentry logged something for a plain echo:\n%s", l)
	}
}

func TestSandboxCatPasswd(t *testing.T) {
	requireRunx(t)
	r := newRuntime(t)
	b := sandboxBundle(t, "cat", "/etc/passwd")
	want, err := os.ReadFile(filepath.Join(b.rootfs, "etc", "passwd"))
	if err != nil {
		t.Fatal(err)
	}
	id := newID(t)
	res := r.run("run", "--bundle", b.dir, id)
	if res.code != 0 || res.stdout != string(want) {
		t.Fatalf("cat /etc/passwd in the sandbox: want %q\n%s", want, res)
	}
	assertNothingLeft(t, r.root, id, b.dir)
}

func TestSandboxPipeline(t *testing.T) {
	requireRunx(t)
	res := runIn(t, "sandbox", nil, "sh", "-c", "echo a b c | wc -w")
	if res.code != 0 || strings.TrimSpace(res.stdout) != "3" {
		t.Fatalf("a pipeline in the sandbox\n%s", res)
	}
}

// The same commands print the same and end the same in both modes.
func TestSandboxSameAsNamespace(t *testing.T) {
	requireRunx(t)
	for _, args := range [][]string{
		{"echo", "hello"},
		{"cat", "/etc/passwd"},
		{"ls", "/"},
		{"ls", "-l", "/bin/sh", "/etc/passwd"},
		{"sh", "-c", "echo a b c | wc -w"},
		{"sh", "-c", "exit 7"},
		{"sh", "-c", "echo $$; echo $PPID; sh -c 'echo $PPID'"},
		{"sh", "-c", "cd /etc && pwd && cat ./passwd | head -1 && cd .. && pwd"},
		{"sh", "-c", "id; hostname; whoami"},
		{"sh", "-c", "readlink /proc/self/exe; ls /proc/self/root/"},
		{"sh", "-c", "head -1 /proc/self/root/../../etc/passwd; ls /proc/1/../self/root/../dev/null; cd /proc/self/cwd && pwd"},
		{"sh", "-c", "ls -l /dev/stdin /dev/fd/0 | cut -c1-10; cat /dev/fd/0 </etc/passwd | head -1"},
		{"sh", "-c", "test -d /tmp && test -f /etc/passwd && test ! -e /nope && echo tests-pass"},
		{"stat", "-c", "%n %s %F", "/etc/passwd", "/bin"},
	} {
		ns := runIn(t, "namespace", nil, args...)
		sb := runIn(t, "sandbox", nil, args...)
		if ns.stdout != sb.stdout || ns.code != sb.code {
			t.Errorf("%q differs between the modes\nnamespace:\n%s\nsandbox:\n%s", args, ns, sb)
		}
	}
}

// The workload reaches nothing outside the rootfs: not by "..", not by an
// absolute or relative symlink planted in the rootfs, not by /proc.
func TestSandboxEscapes(t *testing.T) {
	requireRunx(t)
	r := newRuntime(t)
	b := sandboxBundle(t)
	secret := "host-secret-" + newID(t)
	secretPath := filepath.Join(b.dir, "secret")
	if err := os.WriteFile(secretPath, []byte(secret+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// rootfs is b.dir/rootfs: "../secret" from the rootfs's root is the
	// host file, were the host to resolve it.
	for name, target := range map[string]string{
		"abs":     secretPath,
		"rel":     "../secret",
		"deep":    "../../../../../../../../" + strings.TrimPrefix(secretPath, "/"),
		"procdir": "/proc/1/root/../secret",
	} {
		if err := os.Symlink(target, filepath.Join(b.rootfs, "evil-"+name)); err != nil {
			t.Fatal(err)
		}
	}
	paths := []string{
		"/../secret", "../../secret", "/evil-abs", "/evil-rel", "/evil-deep", "/evil-procdir",
		"/proc/self/root/../secret", "/proc/1/root/../../secret", "/proc/self/cwd/../secret",
		"/proc/self/root/evil-abs", "/dev/../../secret", "/tmp/../../secret",
	}
	script := "cd /; for p in " + strings.Join(paths, " ") + "; do if cat $p; then echo READ $p; fi; done; " +
		"ls /proc/self/root/; echo ---; ls /; cat /proc/self/root/etc/passwd; " +
		"ls /dev/.runx; cat /dev/.runx/runx-sentry >/dev/null && echo READ runx; true"
	b.edit(func(s *specs.Spec) { s.Process.Args = []string{"sh", "-c", script} })
	id := newID(t)
	res := r.run("run", "--bundle", b.dir, id)
	if res.code != 0 {
		t.Fatalf("the escape script failed\n%s", res)
	}
	if strings.Contains(res.stdout, secret) || strings.Contains(res.stdout, "READ") {
		t.Fatalf("the workload read outside its rootfs\n%s", res)
	}
	// What /proc/self/root shows is the sandbox's root, and its /etc/passwd.
	listed, rest, _ := strings.Cut(res.stdout, "---\n")
	if !strings.Contains(listed, "evil-abs") || !strings.HasPrefix(rest, listed) {
		t.Errorf("ls /proc/self/root/ is not ls /\n%s", res)
	}
	passwd, _ := os.ReadFile(filepath.Join(b.rootfs, "etc", "passwd"))
	if !strings.Contains(rest, string(passwd)) {
		t.Errorf("/proc/self/root/etc/passwd is not the rootfs's /etc/passwd\n%s", res)
	}
	for _, p := range []string{"/evil-abs", "/../secret", "/proc/self/root/../secret", "/dev/.runx"} {
		if !strings.Contains(res.stderr, p) {
			t.Errorf("no error about %s\n%s", p, res)
		}
	}
	assertNothingLeft(t, r.root, id, b.dir)
}

// buildProbe compiles a C program for the rootfs, static or dynamic.
func buildProbe(t *testing.T, src string, static bool) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Fatalf("gcc is needed to build the sandbox's test programs: %v (make deps)", err)
	}
	dir := t.TempDir()
	c := filepath.Join(dir, "p.c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "p")
	args := []string{"-O2", "-o", out, c}
	if static {
		args = append([]string{"-static"}, args...)
	}
	if b, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, b)
	}
	return out
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, mode); err != nil {
		t.Fatal(err)
	}
}

const enosysProbe = `#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(void) {
	long r = syscall(SYS_io_uring_setup, 1, NULL);
	printf("io_uring_setup %ld %s\n", r, r < 0 ? strerrorname_np(errno) : "ok");
	r = syscall(SYS_io_uring_setup, 1, NULL);
	printf("again %ld %s\n", r, r < 0 ? strerrorname_np(errno) : "ok");
	return 0;
}
`

// A system call the Sentry does not implement fails with ENOSYS, logged
// once by name, and the program goes on.
func TestSandboxENOSYS(t *testing.T) {
	requireRunx(t)
	probe := buildProbe(t, enosysProbe, true)
	res := runIn(t, "sandbox", func(b *bundle) { copyFile(t, probe, filepath.Join(b.rootfs, "bin", "probe"), 0o755) }, "/bin/probe")
	if res.code != 0 || res.stdout != "io_uring_setup -1 ENOSYS\nagain -1 ENOSYS\n" {
		t.Fatalf("an unimplemented system call\n%s", res)
	}
	log := sentryLog(res.stderr)
	if strings.Count(log, "io_uring_setup") != 1 || !strings.Contains(log, "ENOSYS") {
		t.Errorf("the Sentry should log io_uring_setup once, with ENOSYS\n%s", res)
	}
}

const dynProbe = `#include <stdio.h>
int main(int argc, char **argv) {
	printf("argv0=%s argc=%d", argv[0], argc);
	for (int i = 1; i < argc; i++) printf(" %s", argv[i]);
	printf("\n");
	return 5;
}
`

// libsOf lists the shared objects a dynamic program loads (ldd's view).
func libsOf(t *testing.T, prog string) []string {
	t.Helper()
	f, err := elf.Open(prog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var interp string
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				t.Fatal(err)
			}
			interp = string(bytes.TrimRight(b, "\x00"))
		}
	}
	if interp == "" {
		t.Fatalf("%s is not dynamic", prog)
	}
	out, err := exec.Command("ldd", prog).Output()
	if err != nil {
		t.Fatalf("ldd %s: %v", prog, err)
	}
	libs := []string{interp}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 3 && f[1] == "=>" && strings.HasPrefix(f[2], "/") {
			libs = append(libs, f[2])
		}
	}
	return libs
}

// exec of a dynamic ELF (its interpreter is looked up in the rootfs by the
// Sentry) and of #! scripts, and argv as the program sees it.
func TestSandboxExecKinds(t *testing.T) {
	requireRunx(t)
	dyn := buildProbe(t, dynProbe, false)
	libs := libsOf(t, dyn)
	edit := func(b *bundle) {
		copyFile(t, dyn, filepath.Join(b.rootfs, "usr", "bin", "dyn"), 0o755)
		for _, l := range libs {
			real, err := filepath.EvalSymlinks(l)
			if err != nil {
				t.Fatal(err)
			}
			copyFile(t, real, filepath.Join(b.rootfs, l), 0o755)
		}
		scripts := map[string]string{
			"bin/script1": "#!/bin/sh\necho script1 \"$0\" \"$@\"\n",
			"bin/script2": "#! /bin/sh -e\necho script2 \"$0\" \"$@\"\n",
			"bin/script3": "#!/bin/script1 nested\n",
			"bin/script4": "#!/usr/bin/dyn from-shebang\n",
		}
		for p, content := range scripts {
			if err := os.WriteFile(filepath.Join(b.rootfs, p), []byte(content), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	script := "/usr/bin/dyn a b; echo status $?; cd /usr/bin && ./dyn rel; echo status $?; " +
		"script1 x; /bin/script2 y z; script3 w; script4 v"
	ns := runIn(t, "namespace", edit, "sh", "-c", script)
	sb := runIn(t, "sandbox", edit, "sh", "-c", script)
	want := "argv0=/usr/bin/dyn argc=3 a b\nstatus 5\nargv0=./dyn argc=2 rel\nstatus 5\n" +
		"script1 /bin/script1 x\nscript2 /bin/script2 y z\nscript1 /bin/script1 nested /bin/script3 w\n" +
		"argv0=/usr/bin/dyn argc=4 from-shebang /bin/script4 v\n"
	if ns.stdout != want {
		t.Fatalf("the namespace mode itself does not give the expected output (test bug?)\n%s", ns)
	}
	if sb.stdout != want || sb.code != ns.code {
		t.Errorf("dynamic programs and scripts in the sandbox\nwant %q\n%s", want, sb)
	}
}

// A program killed by a signal makes the container end as a shell reports it.
func TestSandboxSignalDeath(t *testing.T) {
	requireRunx(t)
	segv := buildProbe(t, "int main(void) { volatile int *p = 0; *p = 1; return 0; }\n", true)
	edit := func(b *bundle) { copyFile(t, segv, filepath.Join(b.rootfs, "bin", "segv"), 0o755) }
	ns := runIn(t, "namespace", edit, "/bin/segv")
	sb := runIn(t, "sandbox", edit, "/bin/segv")
	if sb.code != 139 || ns.code != sb.code {
		t.Errorf("a segfaulting process: sandbox status %d, namespace %d, want 139\n%s", sb.code, ns.code, sb)
	}
}

// A SIGTERM sent right after start reaches a handler the program installs
// only after a start-up spent in trapped calls (each a round trip to the
// Sentry, so far slower than under the namespace mode): the Sentry keeps it
// until the program handles it or settles. A pid 1 drops a signal it does
// not handle, so delivering it early loses it (a critest stop timed out so).
func TestSandboxTermRightAfterStart(t *testing.T) {
	requireRunx(t)
	// 1500 trapped stats: longer than the 100 ms the Sentry used to wait.
	const script = `i=0; while [ $i -lt 1500 ]; do [ -e /nothing ]; i=$((i+1)); done; ` + trapScript
	for i := 0; i < 3; i++ {
		r := newRuntime(t)
		b := sandboxBundle(t, "sh", "-c", script)
		b.edit(func(s *specs.Spec) { s.Root.Readonly = false })
		id := newID(t)
		st := startContainer(r, b, id)
		r.ok("kill", id, "TERM")
		r.waitStatus(id, "stopped", 20*time.Second)
		waitGone(t, st.Pid, 5*time.Second)
		if data, err := os.ReadFile(filepath.Join(b.rootfs, "tmp", "got")); err != nil || strings.TrimSpace(string(data)) != "term" {
			t.Errorf("round %d: the TERM handler did not run (file: %q, %v)", i, data, err)
		}
		r.ok("delete", id)
		assertNothingLeft(t, r.root, id, b.dir)
	}
}

// The workload writes files as process.user, with its umask.
func TestSandboxFiles(t *testing.T) {
	requireRunx(t)
	writable := func(b *bundle) { b.edit(func(s *specs.Spec) { s.Root.Readonly = false }) }
	script := "umask 027; cd /tmp && mkdir d && echo hi > d/f && ln -s d/f l && cat l && " +
		"ls -l d | cut -c1-10 && mv d/f d/g && ls d && rm d/g l && rmdir d && ls -A /tmp | wc -l"
	ns := runIn(t, "namespace", writable, "sh", "-c", script)
	sb := runIn(t, "sandbox", writable, "sh", "-c", script)
	if sb.code != 0 || sb.stdout != ns.stdout {
		t.Errorf("file operations differ between the modes\nnamespace:\n%s\nsandbox:\n%s", ns, sb)
	}
	nobody := func(b *bundle) {
		b.edit(func(s *specs.Spec) {
			s.Root.Readonly = false
			s.Process.User = specs.User{UID: 65534, GID: 65534}
		})
	}
	script = "id; touch /tmp/mine && ls -ln /tmp/mine | cut -c1-30; echo x > /etc/passwd || echo denied"
	ns = runIn(t, "namespace", nobody, "sh", "-c", script)
	sb = runIn(t, "sandbox", nobody, "sh", "-c", script)
	if sb.stdout != ns.stdout || !strings.Contains(sb.stdout, "denied") {
		t.Errorf("an unprivileged user differs between the modes\nnamespace:\n%s\nsandbox:\n%s", ns, sb)
	}
}

// runx exec in the sandbox, beyond the contract (TestExec, which also runs
// in this mode): the exec'd process gets the sandbox's next pid, and reaches
// nothing outside the rootfs.
func TestSandboxExec(t *testing.T) {
	requireRunx(t)
	r := newRuntime(t)
	b := sandboxBundle(t, "sleep", "1000")
	secret := filepath.Join(b.dir, "secret")
	if err := os.WriteFile(secret, []byte("host-secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	id := newID(t)
	startContainer(r, b, id)

	res := r.ok("exec", id, "sh", "-c", "echo $$ $PPID; cat /proc/1/cmdline | tr '\\0' ' '; echo; cd /etc && pwd")
	if res.stdout != "2 0\nsleep 1000 \n/etc\n" {
		t.Errorf("exec sees the sandbox's pids and its first process\n%s", res)
	}
	esc := r.run("exec", id, "sh", "-c", "cat /../secret /proc/self/root/../secret ../../secret; true")
	if strings.Contains(esc.stdout, "host-secret") {
		t.Errorf("an exec'd process read outside the rootfs\n%s", esc)
	}
	r.ok("kill", id, "KILL")
	r.waitStatus(id, "stopped", 10*time.Second)
	r.ok("delete", id)
	assertNothingLeft(t, r.root, id, b.dir)
}

func TestSandboxCheck(t *testing.T) {
	requireRunx(t)
	res := runCmd(t, runOpts{}, runtimeBin(t), "check")
	if res.code != 0 {
		t.Fatalf("check failed\n%s", res)
	}
	for _, line := range strings.Split(res.stdout, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "sandbox" {
			if f[1] != "yes" {
				t.Errorf("runx check says the sandbox mode is not usable on this machine\n%s", res)
			}
			return
		}
	}
	t.Errorf("runx check does not report the sandbox mode\n%s", res)
}

const sockProbe = `#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
int main(void) {
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) { perror("socketpair"); return 1; }
	int f = open("/etc/passwd", O_RDONLY);
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(cbuf, 0, sizeof cbuf);
	struct iovec io = { .iov_base = "x", .iov_len = 1 };
	struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &f, sizeof f);
	if (sendmsg(sv[0], &m, 0) < 0) { perror("sendmsg"); return 1; }
	char b, rbuf[CMSG_SPACE(sizeof(int))];
	struct iovec rio = { .iov_base = &b, .iov_len = 1 };
	struct msghdr rm = { .msg_iov = &rio, .msg_iovlen = 1, .msg_control = rbuf, .msg_controllen = sizeof rbuf };
	if (recvmsg(sv[1], &rm, 0) < 0) { perror("recvmsg"); return 1; }
	int g;
	memcpy(&g, CMSG_DATA(CMSG_FIRSTHDR(&rm)), sizeof g);
	char line[8] = {0};
	pread(g, line, 4, 0);
	printf("passed descriptor reads %s\n", line);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	strcpy(a.sun_path, "/tmp/sock");
	if (bind(l, (void *)&a, sizeof a)) { perror("bind"); return 1; }
	listen(l, 1);
	symlink("/tmp/sock", "/tmp/link");
	if (fork() == 0) {
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un to = { .sun_family = AF_UNIX };
		strcpy(to.sun_path, "/tmp/link");
		if (connect(s, (void *)&to, sizeof to)) { perror("connect"); _exit(1); }
		write(s, "hello", 5);
		_exit(0);
	}
	int s = accept(l, 0, 0);
	char buf[8] = {0};
	read(s, buf, 5);
	printf("accepted and read %s\n", buf);
	int st;
	wait(&st);
	printf("child exited %d\n", WEXITSTATUS(st));
	return 0;
}
`

// Unix sockets: a pair, a descriptor passed over it, a bound socket reached
// through a symlink, as in the namespace mode.
func TestSandboxSockets(t *testing.T) {
	requireRunx(t)
	probe := buildProbe(t, sockProbe, true)
	edit := func(b *bundle) {
		copyFile(t, probe, filepath.Join(b.rootfs, "bin", "sock"), 0o755)
		b.edit(func(s *specs.Spec) { s.Root.Readonly = false })
	}
	ns := runIn(t, "namespace", edit, "/bin/sock")
	sb := runIn(t, "sandbox", edit, "/bin/sock")
	want := "passed descriptor reads root\naccepted and read hello\nchild exited 0\n"
	if ns.stdout != want {
		t.Fatalf("the namespace mode does not give the expected output (test bug?)\n%s", ns)
	}
	if sb.stdout != want || sb.code != 0 {
		t.Errorf("unix sockets in the sandbox\n%s", sb)
	}
}

const pidProbe = `#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#define SHOW(name, expr) do { errno = 0; long r_ = (long)(expr); printf("%s = %ld %s\n", name, r_, r_ < 0 ? strerrorname_np(errno) : ""); } while (0)
// pidfds: pidfd_open and clone(CLONE_PIDFD), signalled, polled and waited
// for through them.
static void pidfds(void) {
	int pfd = -1;
	pid_t c = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, NULL, &pfd, NULL, 0);
	if (c == 0) { pause(); _exit(0); }
	SHOW("clone(CLONE_PIDFD) pidfd >= 3", pfd >= 3);
	int opened = syscall(SYS_pidfd_open, c, 0);
	SHOW("pidfd_open(child) >= 3", opened >= 3);
	SHOW("pidfd_open cloexec", fcntl(opened, F_GETFD));
	int nb = syscall(SYS_pidfd_open, c, O_NONBLOCK);
	SHOW("pidfd_open(NONBLOCK) nonblocking", (fcntl(nb, F_GETFL) & O_NONBLOCK) != 0);
	SHOW("pidfd_open(999)", syscall(SYS_pidfd_open, 999, 0));
	SHOW("pidfd_open(0)", syscall(SYS_pidfd_open, 0, 0));
	SHOW("pidfd_open(child, bad flags)", syscall(SYS_pidfd_open, c, 1));
	SHOW("pidfd_send_signal(0)", syscall(SYS_pidfd_send_signal, opened, 0, NULL, 0));
	struct pollfd p = {.fd = opened, .events = POLLIN};
	SHOW("poll(running)", poll(&p, 1, 0));
	siginfo_t si = {0};
	SHOW("waitid(P_PIDFD, NOHANG)", waitid(P_PIDFD, nb, &si, WEXITED | WNOHANG));
	SHOW("pidfd_send_signal(TERM)", syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0));
	SHOW("poll(ended)", poll(&p, 1, 10000));
	SHOW("waitid(P_PIDFD)", waitid(P_PIDFD, opened, &si, WEXITED));
	SHOW("si_pid == child", si.si_pid == c);
	SHOW("si_status", si.si_status);
	SHOW("waitid(P_PIDFD) again", waitid(P_PIDFD, pfd, &si, WEXITED));
	int self = syscall(SYS_pidfd_open, getpid(), 0);
	SHOW("waitid(P_PIDFD, self)", waitid(P_PIDFD, self, &si, WEXITED | WNOHANG));
	close(pfd); close(opened); close(nb); close(self);
}
int main(void) {
	pidfds();
	pid_t child = fork();
	if (child == 0) { pause(); _exit(0); }
	SHOW("getpid", getpid());
	SHOW("child > 1", child > 1);
	SHOW("getpgid(child)", getpgid(child));
	SHOW("getsid(child)", getsid(child));
	SHOW("getpgid(999)", getpgid(999));
	cpu_set_t set; CPU_ZERO(&set);
	SHOW("sched_getaffinity(child)", sched_getaffinity(child, sizeof set, &set));
	SHOW("sched_getaffinity(999)", sched_getaffinity(999, sizeof set, &set));
	SHOW("sched_getscheduler(child)", sched_getscheduler(child));
	SHOW("getpriority(child)", getpriority(PRIO_PROCESS, child));
	SHOW("setpriority(child, 5)", setpriority(PRIO_PROCESS, child, 5));
	SHOW("getpriority(child) again", getpriority(PRIO_PROCESS, child));
	struct rlimit rl;
	SHOW("prlimit(child, STACK)", prlimit(child, RLIMIT_STACK, NULL, &rl));
	SHOW("prlimit(999, STACK)", prlimit(999, RLIMIT_STACK, NULL, &rl));
	SHOW("kill(999, 0)", kill(999, 0));
	SHOW("kill(child, 0)", kill(child, 0));
	int st;
	SHOW("waitpid(999)", waitpid(999, &st, WNOHANG));
	SHOW("waitpid(child, WNOHANG)", waitpid(child, &st, WNOHANG));
	SHOW("kill(child, TERM)", kill(child, SIGTERM));
	SHOW("waitpid(child) == child", waitpid(child, &st, 0) == child);
	printf("signaled %d by %d\n", WIFSIGNALED(st), WTERMSIG(st));
	return 0;
}
`

// Calls that name a pid take the sandbox's pids, and reach only its
// processes: the same answers as in the namespace mode.
func TestSandboxPidCalls(t *testing.T) {
	requireRunx(t)
	probe := buildProbe(t, pidProbe, true)
	edit := func(b *bundle) { copyFile(t, probe, filepath.Join(b.rootfs, "bin", "pids"), 0o755) }
	ns := runIn(t, "namespace", edit, "/bin/pids")
	sb := runIn(t, "sandbox", edit, "/bin/pids")
	if ns.code != 0 || !strings.Contains(ns.stdout, "signaled 1 by 15") {
		t.Fatalf("the probe fails in the namespace mode (test bug?)\n%s", ns)
	}
	if sb.stdout != ns.stdout || sb.code != ns.code {
		t.Errorf("pid calls differ between the modes\nnamespace:\n%s\nsandbox:\n%s", ns, sb)
	}
}

// withDenyingProfile gives b a /tmp and a seccomp profile under which mkdir
// and socket(AF_INET or AF_INET6) fail with EXDEV (an errno nothing else
// here would give).
func withDenyingProfile(b *bundle) {
	exdev := uint(18)
	b.edit(func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"})
		s.Linux.Seccomp = &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{
				{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: &exdev},
				// Two conditions on one argument: either matches.
				{Names: []string{"socket"}, Action: specs.ActErrno, ErrnoRet: &exdev, Args: []specs.LinuxSeccompArg{
					{Index: 0, Value: 2, Op: specs.OpEqualTo}, {Index: 0, Value: 10, Op: specs.OpEqualTo}}},
			},
		}
	})
}

// runx exec into a created sandbox container (its Sentry not started yet)
// runs the process under a Sentry of its own with the container's profile
// and the exec's user; the container stays created, starts as usual (start
// still waits for its own program), and later execs join its Sentry.
func TestSandboxExecIntoCreated(t *testing.T) {
	requireRunx(t)
	r := newRuntime(t)
	b := sandboxBundle(t, "sh", "-c", "echo started > /tmp/started; exec sleep 100")
	withDenyingProfile(b)
	id := newID(t)
	r.ok("create", "--bundle", b.dir, id)
	res := r.run("exec", id, "sh", "-c", "mkdir /tmp/e; echo mkdir=$?; id -u; echo x > /tmp/from-exec")
	if res.code != 0 || res.stdout != "mkdir=1\n0\n" || !strings.Contains(res.stderr, "cross-device") {
		t.Errorf("exec into the created container: want mkdir refused by the profile (EXDEV), uid 0\n%s", res)
	}
	res = r.run("exec", "--user", "1000:1000", id, "sh", "-c", "id -u; id -g; cat /tmp/from-exec")
	if res.code != 0 || res.stdout != "1000\n1000\nx\n" {
		t.Errorf("exec --user 1000:1000 into the created container\n%s", res)
	}
	res = r.run("exec", id, "sh", "-c", "exit 7")
	if res.code != 7 {
		t.Errorf("exec's status from a created container: want 7\n%s", res)
	}
	res = r.run("exec", id, "no-such-program")
	if res.code != 255 || !strings.Contains(res.stderr, "no-such-program") {
		t.Errorf("a missing program in a created container: want exec's own failure (255) naming it\n%s", res)
	}
	if st := r.state(id); st.Status != "created" {
		t.Fatalf("status after the execs = %q, want created", st.Status)
	}
	r.ok("start", id)
	res = r.run("exec", id, "sh", "-c", "for i in $(seq 100); do test -e /tmp/started && break; sleep 0.05; done; cat /tmp/started /tmp/from-exec")
	if res.code != 0 || res.stdout != "started\nx\n" {
		t.Errorf("after start the workload runs and execs join it\n%s", res)
	}
	r.ok("kill", id, "KILL")
	r.waitStatus(id, "stopped", 10*time.Second)
	r.ok("delete", id)
	assertNothingLeft(t, r.root, id, b.dir)
}

// The container's OCI seccomp profile applies to the workload: a call the
// profile denies fails with the profile's errno even though the Sentry
// would emulate it (mkdir), in the first process and in one runx exec
// starts; what the profile allows still works; and the result is the
// namespace mode's for the same bundle.
func TestSandboxSeccompProfile(t *testing.T) {
	requireRunx(t)
	withProfile := withDenyingProfile
	script := "mkdir /tmp/d; echo mkdir=$?; touch /tmp/f && echo touched; ls /tmp; " +
		"nc 127.0.0.1 9 </dev/null; echo nc=$?"
	ns := runIn(t, "namespace", withProfile, "sh", "-c", script)
	sb := runIn(t, "sandbox", withProfile, "sh", "-c", script)
	want := "mkdir=1\ntouched\nf\nnc=1\n"
	if ns.stdout != want || ns.code != 0 {
		t.Fatalf("the namespace mode does not give what this test expects\n%s", ns)
	}
	if sb.stdout != ns.stdout || sb.code != ns.code {
		t.Errorf("the profile's effect differs between the modes\nnamespace:\n%s\nsandbox:\n%s", ns, sb)
	}
	if strings.Count(sb.stderr, "cross-device") != 2 {
		t.Errorf("mkdir and socket(AF_INET) did not fail with the profile's errno (EXDEV)\n%s", sb)
	}
	// Without the profile the same script makes the directory.
	plain := runIn(t, "sandbox", func(b *bundle) {
		b.edit(func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"})
		})
	}, "sh", "-c", "mkdir /tmp/d; echo mkdir=$?")
	if plain.stdout != "mkdir=0\n" {
		t.Errorf("without a profile mkdir fails\n%s", plain)
	}
	// A process runx exec starts gets the profile too.
	r := newRuntime(t)
	b := sandboxBundle(t, "sleep", "100")
	withProfile(b)
	id := newID(t)
	startContainer(r, b, id)
	res := r.run("exec", id, "sh", "-c", "mkdir /tmp/e; echo mkdir=$?")
	if res.stdout != "mkdir=1\n" || !strings.Contains(res.stderr, "cross-device") {
		t.Errorf("runx exec's process is not under the profile\n%s", res)
	}
	r.ok("kill", id, "KILL")
	r.waitStatus(id, "stopped", 10*time.Second)
	r.ok("delete", id)
	assertNothingLeft(t, r.root, id, b.dir)
}

// escapeProbe tries, by raw system calls, what a workload must not do: it
// prints one line per attempt, "NAME RESULT" (RESULT is OK or the errno's
// name). Arguments: the Sentry's host pid, a host process's pid, and a TCP
// port a host process listens on at 127.0.0.1.
const escapeProbe = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/openat2.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>

static void report(const char *what, long r) {
	printf("%s %s\n", what, r < 0 ? strerrorname_np(errno) : "OK");
}

int main(int argc, char **argv) {
	if (argc < 4) return 2;
	int sentry = atoi(argv[1]), hostpid = atoi(argv[2]), port = atoi(argv[3]);
	char path[64], buf[256];

	report("mount", mount("none", "/tmp", "tmpfs", 0, NULL));
	report("umount", umount2("/proc", MNT_DETACH));
	report("fsopen", syscall(SYS_fsopen, "tmpfs", 0));
	report("open_tree", syscall(SYS_open_tree, AT_FDCWD, "/", 0));
	report("chroot", chroot("/tmp"));
	report("pivot_root", syscall(SYS_pivot_root, "/tmp", "/tmp"));
	report("unshare-user", unshare(CLONE_NEWUSER));
	report("unshare-mount", unshare(CLONE_NEWNS));
	report("mknod-mem", mknod("/tmp/mem", S_IFCHR | 0600, makedev(1, 1)));

	report("ptrace-sentry", ptrace(PTRACE_ATTACH, sentry, 0, 0));
	report("ptrace-seize-sentry", ptrace(PTRACE_SEIZE, sentry, 0, 0));
	report("ptrace-traceme", ptrace(PTRACE_TRACEME, 0, 0, 0));
	pid_t child = fork();
	if (child == 0) { pause(); _exit(0); }
	report("ptrace-child", ptrace(PTRACE_ATTACH, child, 0, 0));
	char word[8];
	struct iovec local = {word, sizeof word}, remote = {word, sizeof word};
	report("process_vm_readv-child", syscall(SYS_process_vm_readv, child, &local, 1, &remote, 1, 0));
	report("process_vm_readv-sentry", syscall(SYS_process_vm_readv, sentry, &local, 1, &remote, 1, 0));
	report("pidfd_open-sentry", syscall(SYS_pidfd_open, sentry, 0));
	report("kcmp", syscall(SYS_kcmp, getpid(), child, 0, 0, 0));
	snprintf(path, sizeof path, "/proc/%d/mem", child);
	report("proc-child-mem", open(path, O_RDONLY));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);

	report("kill-sentry", kill(sentry, 0));
	report("kill-host", kill(hostpid, 0));
	snprintf(path, sizeof path, "/proc/%d/status", sentry);
	report("proc-sentry", open(path, O_RDONLY));
	snprintf(path, sizeof path, "/proc/%d/status", hostpid);
	report("proc-host", open(path, O_RDONLY));
	snprintf(path, sizeof path, "/proc/%d/root/etc", hostpid);
	report("proc-host-root", open(path, O_RDONLY));

	union bpf_attr attr;
	memset(&attr, 0, sizeof attr);
	struct bpf_insn prog[] = {{.code = BPF_JMP | BPF_EXIT}};
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insns = (unsigned long)prog;
	attr.insn_cnt = 1;
	attr.license = (unsigned long)"GPL";
	report("bpf", syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr));
	char params[120];
	memset(params, 0, sizeof params);
	report("io_uring_setup", syscall(SYS_io_uring_setup, 4, params));
	struct perf_event_attr pe;
	memset(&pe, 0, sizeof pe);
	pe.size = sizeof pe;
	pe.type = PERF_TYPE_SOFTWARE;
	pe.config = PERF_COUNT_SW_CPU_CLOCK;
	report("perf_event_open", syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0));
	report("userfaultfd", syscall(SYS_userfaultfd, O_CLOEXEC));
	report("keyctl", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
	report("add_key", syscall(SYS_add_key, "user", "k", "v", 1, KEY_SPEC_PROCESS_KEYRING));
	report("init_module", syscall(SYS_init_module, NULL, 0, ""));
	report("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0));
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog fprog = {1, &allow};
	report("seccomp-listener", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &fprog));

	report("raw-icmp", socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
	report("raw-icmp6", socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6));
	report("packet", socket(AF_PACKET, SOCK_RAW, 0));
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	report("connect-host-port", connect(s, (struct sockaddr *)&sin, sizeof sin));
	struct if_nameindex *ifs = if_nameindex();
	printf("interfaces");
	for (struct if_nameindex *i = ifs; i && i->if_index; i++) printf(" %s", i->if_name);
	printf("\n");

	struct open_how how = {.flags = O_RDONLY, .resolve = RESOLVE_IN_ROOT};
	report("openat2-resolve", syscall(SYS_openat2, AT_FDCWD, "/../secret", &how, sizeof how));
	how.resolve = 0;
	report("openat2-dotdot", syscall(SYS_openat2, AT_FDCWD, "/../../../secret", &how, sizeof how));
	int root = open("/", O_PATH | O_DIRECTORY);
	report("openat2-dirfd", syscall(SYS_openat2, root, "../../secret", &how, sizeof how));
	report("openat-proc1-root", openat(AT_FDCWD, "/proc/1/root/../../secret", O_RDONLY));
	ssize_t n = readlink("/proc/1/root", buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("proc1-root-link %s\n", buf);
	n = readlink("/proc/self/root", buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("self-root-link %s\n", buf);
	report("runx-dir", open("/dev/.runx", O_RDONLY));
	return 0;
}
`

// The escapes the issue names, by a program that makes the calls itself
// (no libc refusal in between), run by runx exec in a sandbox container.
func TestSandboxEscapeCalls(t *testing.T) {
	requireRunx(t)
	probe := buildProbe(t, escapeProbe, true)
	r := newRuntime(t)
	b := sandboxBundle(t, "sleep", "1000")
	copyFile(t, probe, filepath.Join(b.rootfs, "bin", "probe"), 0o755)
	b.edit(func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"})
		// Even with CAP_NET_RAW and CAP_SYS_ADMIN in the spec.
		for _, c := range []string{"CAP_NET_RAW", "CAP_SYS_ADMIN", "CAP_SYS_PTRACE"} {
			s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, c)
			s.Process.Capabilities.Effective = append(s.Process.Capabilities.Effective, c)
			s.Process.Capabilities.Permitted = append(s.Process.Capabilities.Permitted, c)
		}
	})
	if err := os.WriteFile(filepath.Join(b.dir, "secret"), []byte("host-secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	host := exec.Command("sleep", "100")
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { host.Process.Kill(); host.Wait() }()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	id := newID(t)
	st := startContainer(r, b, id)
	res := r.run("exec", id, "/bin/probe", itoa(st.Pid), itoa(host.Process.Pid), itoa(port))
	if res.code != 0 {
		t.Fatalf("the probe failed\n%s", res)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		k, v, _ := strings.Cut(line, " ")
		got[k] = v
	}
	want := map[string]string{
		"mount": "EPERM", "umount": "EPERM", "fsopen": "ENOSYS", "open_tree": "ENOSYS",
		"chroot": "EPERM", "pivot_root": "EPERM", "unshare-user": "EPERM", "unshare-mount": "EPERM",
		"mknod-mem":     "EPERM",
		"ptrace-sentry": "EPERM", "ptrace-seize-sentry": "EPERM", "ptrace-traceme": "EPERM",
		"ptrace-child": "EPERM", "process_vm_readv-child": "ENOSYS", "process_vm_readv-sentry": "ENOSYS",
		"pidfd_open-sentry": "ESRCH", "kcmp": "ENOSYS", "proc-child-mem": "ENOENT",
		"kill-sentry": "ESRCH", "kill-host": "ESRCH", "proc-sentry": "ENOENT", "proc-host": "ENOENT",
		"proc-host-root": "ENOENT",
		"bpf":            "ENOSYS", "io_uring_setup": "ENOSYS", "perf_event_open": "ENOSYS", "userfaultfd": "ENOSYS",
		"keyctl": "ENOSYS", "add_key": "ENOSYS", "open_by_handle_at": "EPERM",
		// The kernel's answer: it checks CAP_SYS_MODULE first (EPERM), or
		// has no modules (ENOSYS, this machine kind's kernel).
		"init_module":      "EPERM|ENOSYS",
		"seccomp-listener": "EPERM",
		"raw-icmp":         "EPERM", "raw-icmp6": "EPERM", "packet": "EAFNOSUPPORT",
		"connect-host-port": "ECONNREFUSED", "interfaces": "lo",
		"openat2-resolve": "ENOSYS", "openat2-dotdot": "ENOENT", "openat2-dirfd": "ENOENT",
		"openat-proc1-root": "ENOENT", "proc1-root-link": "/", "self-root-link": "/", "runx-dir": "ENOENT",
	}
	for k, v := range want {
		if !slices.Contains(strings.Split(v, "|"), got[k]) {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("the probe printed %d results, want %d\n%s", len(got), len(want), res.stdout)
	}
	if t.Failed() {
		t.Logf("probe output:\n%s\n%s", res.stdout, res.stderr)
	}
	r.ok("kill", id, "KILL")
	r.waitStatus(id, "stopped", 10*time.Second)
	r.ok("delete", id)
	assertNothingLeft(t, r.root, id, b.dir)
}

// A profile in the style engines pass (everything refused but an allowlist)
// works in the sandbox: the loader's calls after it installs the profile
// (seccomp, read, write, close, execveat) are in any such list, and what the
// list leaves out fails with the profile's errno, as in the namespace mode.
func TestSandboxSeccompAllowlistProfile(t *testing.T) {
	requireRunx(t)
	exdev := uint(18)
	var allow []string
	for _, name := range syscallNames(t) {
		if name != "mkdir" && name != "mkdirat" {
			allow = append(allow, name)
		}
	}
	sort.Strings(allow)
	withProfile := func(b *bundle) {
		b.edit(func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"})
			s.Linux.Seccomp = &specs.LinuxSeccomp{
				DefaultAction:   specs.ActErrno,
				DefaultErrnoRet: &exdev,
				Architectures:   []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
				Syscalls:        []specs.LinuxSyscall{{Names: allow, Action: specs.ActAllow}},
			}
		})
	}
	script := "mkdir /tmp/d; echo mkdir=$?; touch /tmp/f && echo touched; ls /tmp; sh -c 'echo nested $PPID'; cat /proc/self/status | grep -c Pid"
	ns := runIn(t, "namespace", withProfile, "sh", "-c", script)
	sb := runIn(t, "sandbox", withProfile, "sh", "-c", script)
	if !strings.HasPrefix(ns.stdout, "mkdir=1\ntouched\nf\n") || ns.code != 0 {
		t.Fatalf("the namespace mode does not give what this test expects\n%s", ns)
	}
	if sb.stdout != ns.stdout || sb.code != ns.code || !strings.Contains(sb.stderr, "cross-device") {
		t.Errorf("the allowlist profile differs between the modes\nnamespace:\n%s\nsandbox:\n%s", ns, sb)
	}
}
