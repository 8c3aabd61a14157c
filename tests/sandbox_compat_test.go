package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The sandbox compatibility suite: unmodified Debian 12 programs (dash,
// GNU coreutils, findutils, tar, gzip, busybox, perl, python3, procps) run
// scripted workloads once in the sandbox mode and once in the namespace
// mode, on the same read-only Debian minbase rootfs (with a tmpfs at /tmp),
// and each must print the same stdout and end with the same status.
//
// No output is normalized: the sandbox gives the workload pid 1 and the
// sandbox's own pids, the same identities, hostname and /proc contents as
// the namespace mode, so pids and /proc reads compare as they are.
// Workloads whose output legitimately depends on the run (times, memory
// figures, inode numbers of tmpfs files) print only what does not.
//
// The rootfs is built once by scripts/debian-rootfs.sh (debootstrap, about
// 40 seconds and 250 MB the first time) and cached in
// /var/cache/runx-tests/debian-bookworm, or in $RUNX_DEBIAN_CACHE.

// compatWorkloads are shell command lines run with /bin/sh -c, kept by
// area in compat_*_test.go and run in this order.
//
// Left out (see sandbox/README.md): the number of descriptors a process
// can open under an RLIMIT_NOFILE at or above the container's: two fewer
// than in the namespace mode (its reserved descriptors), by design; signal permissions between sandbox users (kill
// passes to the host, where every workload process is one user); EINTR
// from a handler without SA_RESTART in the moment before the Sentry
// receives a call (dash's trap handlers are such: a loop of mkdir, rmdir,
// redirections and cd under a 1 kHz USR1 and CHLD flood saw about one
// call in 2000 fail); the creator's pid in /proc/sysvipc once it has
// exited; paths longer than PATH_MAX reached by
// relative steps; stat(".") in a removed working directory; argv rewrites
// in /proc/PID/cmdline of a dynamic program (perl's $0); /proc/PID/ns. All
// in sandbox/README.md.
//
// The id-* workloads run with Docker's default capabilities (compatCaps),
// as a runc-style spec grants too few to change identity.
var compatWorkloads = concatWorkloads(
	compatShell,     // compat_shell_test.go
	compatFiles,     // compat_files_test.go
	compatProcesses, // compat_processes_test.go
	compatProc,      // compat_proc_test.go
	compatIdentity,  // compat_identity_test.go
	compatIPC,       // compat_ipc_test.go
	compatNetwork,   // compat_network_test.go
	compatPerl,      // compat_perl_test.go
	compatPython,    // compat_python_test.go
)

// compatWorkload is one workload: a name, and a command line for /bin/sh -c.
type compatWorkload struct{ name, cmd string }

// concatWorkloads joins the areas' workloads, in the order given.
func concatWorkloads(areas ...[]compatWorkload) []compatWorkload {
	var all []compatWorkload
	for _, a := range areas {
		all = append(all, a...)
	}
	return all
}

// compatPids are the workloads that print pids other than 1. The
// namespace mode's pids start after those its own setup used (runc's init
// and its helpers), the sandbox's right after 1, so the same process tree
// has numbers that differ by an offset: in these outputs every whole
// number from 2 up is replaced by the order in which it first appears
// (the first such number is "#1", and so on), and runs of blanks (columns
// that ps aligns to the numbers' widths) by one blank. This is the only
// normalization.
var compatPids = map[string]bool{
	"proc-status": true, "proc-stat": true, "proc-ls-pids": true, "ps-e": true, "ps-ef": true,
	"ps-tree": true, "busybox-ps": true, "pgrep": true, "perl-signal": true, "perl-fork": true,
	"py-ids": true, "py-fork-wait": true, "proc-exe": true, "ps-o-stat": true,
}

// compatCaps are the workloads that run with Docker's default capability
// set (bounding, effective and permitted) instead of runc spec's three
// (CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE): a root workload
// changing its identities needs CAP_SETUID and CAP_SETGID, in the namespace
// mode as in the sandbox.
var compatCaps = map[string]bool{
	"id-py-setresuid": true, "id-py-drop-files": true, "id-py-seteuid-back": true, "id-proc-status-drop": true,
	"id-fork-then-drop": true, "id-py-keepcaps": true, "id-setpriv": true, "id-runuser": true,
	"id-perl-ids": true, "id-chown-files": true,
}

// dockerCaps is Docker's default capability set.
var dockerCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
	"CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
	"CAP_AUDIT_WRITE",
}

var wholeNumber = regexp.MustCompile(`\b[0-9]+\b`)
var blanks = regexp.MustCompile(`[ \t]+`)

// renumberPids applies compatPids' normalization.
func renumberPids(out string) string {
	seen := map[string]string{}
	out = wholeNumber.ReplaceAllStringFunc(out, func(n string) string {
		if v, err := strconv.Atoi(n); err != nil || v < 2 {
			return n
		}
		if r, ok := seen[n]; ok {
			return r
		}
		seen[n] = "#" + strconv.Itoa(len(seen)+1)
		return seen[n]
	})
	return blanks.ReplaceAllString(out, " ")
}

// debianRootfs builds (once) and returns the Debian minbase rootfs.
func debianRootfs(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("RUNX_DEBIAN_CACHE")
	if dir == "" {
		dir = "/var/cache/runx-tests/debian-bookworm"
	}
	script, err := filepath.Abs(filepath.Join("scripts", "debian-rootfs.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, "stamp")); serr != nil {
			t.Fatalf("the sandbox compatibility suite needs debootstrap to build its Debian rootfs: %v", err)
		}
	}
	out, err := exec.Command(script, dir).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("%s %s: %v\n%s", script, dir, err, msg)
	}
	return strings.TrimSpace(string(out))
}

// compatRun runs cmd with /bin/sh -c in a fresh container of the given
// mode on the shared read-only rootfs, with a tmpfs at /tmp; with
// manyCaps, with Docker's default capabilities.
func compatRun(t *testing.T, mode, rootfs, cmd string, manyCaps bool) result {
	t.Helper()
	return compatRunFor(t, mode, rootfs, cmd, manyCaps, 0)
}

// compatRunFor is compatRun with a time limit (0: the default).
func compatRunFor(t *testing.T, mode, rootfs, cmd string, manyCaps bool, limit time.Duration) result {
	t.Helper()
	r := newRuntime(t)
	dir := t.TempDir()
	if res := runCmd(t, runOpts{dir: dir}, runtimeBin(t), "spec"); res.code != 0 {
		t.Fatalf("spec failed\n%s", res)
	}
	b := &bundle{t: t, dir: dir, rootfs: rootfs}
	b.load()
	b.edit(func(s *specs.Spec) {
		s.Root = &specs.Root{Path: rootfs, Readonly: true}
		s.Process.Args = []string{"/bin/sh", "-c", cmd}
		s.Process.Terminal = false
		if manyCaps {
			s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: dockerCaps, Effective: dockerCaps, Permitted: dockerCaps}
		}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs",
			Options: []string{"nosuid", "nodev", "mode=1777"}})
		// Soft and hard apart, as systemd gives them (1024/524288).
		s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 4096}}
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations["dev.runx.isolation"] = mode
	})
	id := newID(t)
	res := r.runOpt(runOpts{timeout: limit}, "run", "--bundle", b.dir, id)
	assertNothingLeft(t, r.root, id, b.dir)
	return res
}

// TestCompatWorkloadNames checks the table itself (no container runs):
// names are unique across the area files, and compatPids and compatCaps name
// only workloads that exist.
func TestCompatWorkloadNames(t *testing.T) {
	names := map[string]bool{}
	for _, w := range compatWorkloads {
		if names[w.name] {
			t.Errorf("workload %q is in the table twice", w.name)
		}
		names[w.name] = true
	}
	for _, m := range []map[string]bool{compatPids, compatCaps} {
		for name := range m {
			if !names[name] {
				t.Errorf("%q is in compatPids or compatCaps but not a workload", name)
			}
		}
	}
}

func TestSandboxCompat(t *testing.T) {
	requireRunx(t)
	rootfs := debianRootfs(t)
	var started, ran, same atomic.Int32
	t.Run("workloads", func(t *testing.T) {
		for _, w := range compatWorkloads {
			w := w
			t.Run(w.name, func(t *testing.T) {
				started.Add(1)
				t.Parallel()
				ns := compatRun(t, "namespace", rootfs, w.cmd, compatCaps[w.name])
				sb := compatRun(t, "sandbox", rootfs, w.cmd, compatCaps[w.name])
				ran.Add(1)
				if ns.code < 0 || ns.timedOut {
					t.Fatalf("the namespace mode did not run the workload\n%s", ns)
				}
				nsOut, sbOut := ns.stdout, sb.stdout
				if compatPids[w.name] {
					nsOut, sbOut = renumberPids(nsOut), renumberPids(sbOut)
				}
				if nsOut != sbOut || ns.code != sb.code {
					t.Errorf("the sandbox differs from the namespace mode\nnamespace:\n%s\nsandbox:\n%s", ns, sb)
					return
				}
				same.Add(1)
				t.Logf("status %d, stdout %q", sb.code, abbrev(sb.stdout, 300))
				if l := sentryLog(sb.stderr); l != "" {
					t.Logf("the Sentry logged:\n%s", l)
				}
			})
		}
	})
	t.Logf("%d compatibility workloads ran (of %d in the table), %d gave the namespace mode's output",
		ran.Load(), len(compatWorkloads), same.Load())
	if ran.Load() != started.Load() || same.Load() != ran.Load() {
		t.Errorf("%d of %d workloads differ or did not run", started.Load()-same.Load(), started.Load())
	}
}

func abbrev(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// mountTracefs mounts a tracefs of the test's own on a temporary directory,
// unmounted when the test ends: the host's /sys/kernel/tracing may not be
// mounted (a fresh machine has it unmounted) and is left as it was.
func mountTracefs(t *testing.T) string {
	t.Helper()
	fss, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(fss), "\ttracefs\n") {
		t.Fatalf("this kernel has no tracefs (/proc/filesystems): the test records system calls with its raw_syscalls events")
	}
	dir := t.TempDir()
	if err := unix.Mount("tracefs", dir, "tracefs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		t.Fatalf("mount tracefs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount tracefs at %s: %v", dir, err)
		}
	})
	if _, err := os.Stat(filepath.Join(dir, "events", "raw_syscalls", "sys_enter")); err != nil {
		t.Fatalf("tracefs has no raw_syscalls events: %v", err)
	}
	return dir
}

// hostSyscallsWorkload exercises much of what the compatibility suite does,
// in one container: dash, coreutils, tar and gzip, perl, python3 with
// threads, subprocesses, loopback TCP and UDP, signals, /proc and ps.
const hostSyscallsWorkload = `exec >/mnt/out 2>&1
set -e
python3 - <<'EOF'
import os, socket, subprocess, threading, signal
with open("/tmp/f", "w") as f:
    f.write("x" * 100000)
print(os.stat("/tmp/f").st_size)
print(subprocess.run(["ls", "/"], capture_output=True).returncode)
ts = [threading.Thread(target=lambda: sum(range(100000))) for _ in range(4)]
for t in ts: t.start()
for t in ts: t.join()
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen()
c = socket.create_connection(srv.getsockname()); a, _ = srv.accept(); c.sendall(b"tcp"); print(a.recv(10))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0)); u.sendto(b"udp", u.getsockname()); print(u.recv(10))
x, y = socket.socketpair(); x.sendall(b"pair"); print(y.recv(10))
signal.signal(signal.SIGUSR1, lambda s, f: print("usr1")); os.kill(os.getpid(), signal.SIGUSR1)
if os.fork() == 0: os._exit(3)
print(os.WEXITSTATUS(os.wait()[1]))
EOF
perl -e 'if (my $p = fork) { waitpid $p, 0; print $? >> 8, "\n" } else { exit 7 }'
tar czf /tmp/a.tgz -C /etc apt && tar tzf /tmp/a.tgz | wc -l
seq 10000 | sort -rn | gzip -c | gunzip -c | head -1
find /usr/lib/python3.11 -name '*.py' | wc -l
ps -ef >/dev/null && ps -o pid,comm
busybox sh -c 'echo $((6*7))'
sleep 0.1 & wait
grep -E '^(Pid|PPid):' /proc/self/status
ls /proc/self/fd
echo done
`

// readmeAllowlist is the system calls sandbox/README.md documents as
// reaching the host: the filter's table, and the rows of the Sentry's table
// that say the call passes (checked, then CONTINUE).
func readmeAllowlist(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "sandbox", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{}
	name := regexp.MustCompile("`([a-z][a-z0-9_]*)`")
	section := ""
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "#") {
			section = line
			continue
		}
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cols := strings.Split(line, "|")
		if len(cols) < 4 {
			continue
		}
		filter := strings.Contains(section, "Passed to the host by the filter")
		passes := strings.Contains(section, "Served by the Sentry") && strings.Contains(strings.Join(cols[2:], "|"), "pass")
		if !filter && !passes {
			continue
		}
		for _, m := range name.FindAllStringSubmatch(cols[1], -1) {
			allowed[m[1]] = true
		}
	}
	if len(allowed) < 100 {
		t.Fatalf("found only %d system calls in sandbox/README.md's tables", len(allowed))
	}
	return allowed
}

// syscallNames maps x86_64 numbers to names, from the kernel headers.
func syscallNames(t *testing.T) map[int]string {
	t.Helper()
	b, err := os.ReadFile("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")
	if err != nil {
		t.Fatalf("the kernel headers (linux-libc-dev) name the system calls: %v", err)
	}
	names := map[int]string{}
	re := regexp.MustCompile(`(?m)^#define __NR_([a-z0-9_]+)\s+([0-9]+)$`)
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		n, _ := strconv.Atoi(m[2])
		names[n] = m[1]
	}
	return names
}

// TestSandboxHostSyscalls records, with the kernel's raw_syscalls:sys_enter
// tracepoint, every system call the workload's processes made that reached
// the host kernel, and checks each against sandbox/README.md's allowlist.
// The tracepoint fires after seccomp: a call the Sentry answered (or the
// filter refused) is not seen; a call the filter allowed, or the Sentry let
// continue, is. The events of the Sentry's own threads (its tgid) are left
// out, and so are those of a process the Sentry forked before its filter is
// installed (the loader's setup, up to its seccomp(SET_MODE_FILTER,
// NEW_LISTENER)), told by sched_process_fork events; a thread or process
// the workload makes inherits the filter, and all its events count.
func TestSandboxHostSyscalls(t *testing.T) {
	requireRunx(t)
	rootfs := debianRootfs(t)
	allowed := readmeAllowlist(t)
	names := syscallNames(t)
	tracing := mountTracefs(t)

	r := newRuntime(t)
	dir := t.TempDir()
	if res := runCmd(t, runOpts{dir: dir}, runtimeBin(t), "spec"); res.code != 0 {
		t.Fatalf("spec failed\n%s", res)
	}
	out := t.TempDir()
	b := &bundle{t: t, dir: dir, rootfs: rootfs}
	b.load()
	b.edit(func(s *specs.Spec) {
		s.Root = &specs.Root{Path: rootfs, Readonly: true}
		s.Process.Args = []string{"/bin/sh", "-c", hostSyscallsWorkload}
		s.Process.Terminal = false
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev"}},
			specs.Mount{Destination: "/mnt", Type: "bind", Source: out, Options: []string{"rbind", "rw"}})
		s.Annotations = map[string]string{"dev.runx.isolation": "sandbox"}
	})
	id := newID(t)
	r.ok("create", "--bundle", b.dir, id)
	sentry := r.state(id).Pid

	inst := filepath.Join(tracing, "instances", id)
	if err := os.Mkdir(inst, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(inst)
	write := func(file, val string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(inst, file), []byte(val), 0o644); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	write("buffer_size_kb", "32768")
	write("options/record-tgid", "1")
	write("options/event-fork", "1")
	write("set_event_pid", strconv.Itoa(sentry))
	write("events/raw_syscalls/sys_enter/enable", "1")
	write("events/sched/sched_process_fork/enable", "1")
	r.ok("start", id)
	r.waitStatus(id, "stopped", 120*time.Second)
	write("events/raw_syscalls/sys_enter/enable", "0")
	write("events/sched/sched_process_fork/enable", "0")
	trace, err := os.ReadFile(filepath.Join(inst, "trace"))
	if err != nil {
		t.Fatal(err)
	}
	r.ok("delete", id)
	assertNothingLeft(t, r.root, id, b.dir)

	got, _ := os.ReadFile(filepath.Join(out, "out"))
	if !strings.HasSuffix(string(got), "done\n") {
		t.Fatalf("the workload did not finish:\n%s", got)
	}

	// # entries-in-buffer/entries-written: 1234/1234   #P:2
	m := regexp.MustCompile(`entries-in-buffer/entries-written: (\d+)/(\d+)`).FindSubmatch(trace)
	if m == nil || string(m[1]) != string(m[2]) {
		t.Fatalf("the trace lost events, or has no header:\n%s", abbrev(string(trace), 2000))
	}
	// TASK-PID (TGID) [CPU] FLAGS TIMESTAMP: sys_enter: NR nr (args)
	ev := regexp.MustCompile(`^\s*.+-(\d+)\s+\(\s*(\S+)\)\s+\[\d+\]\s+\S+\s+[\d.]+: sys_enter: NR (-?\d+) \(([0-9a-f, ]*)\)`)
	fork := regexp.MustCompile(`^\s*.+-(\d+)\s+\(\s*(\S+)\)\s+\[\d+\]\s+\S+\s+[\d.]+: sched_process_fork: .* child_pid=(\d+)`)
	setup := map[string]bool{} // processes the Sentry forked, still in the loader's setup
	seen := map[string]int{}
	events, workloadEvents := 0, 0
	for _, line := range strings.Split(string(trace), "\n") {
		if m := fork.FindStringSubmatch(line); m != nil {
			if m[2] == strconv.Itoa(sentry) {
				setup[m[3]] = true // a thread of the Sentry's, or a loader
			}
			continue
		}
		m := ev.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		events++
		tid, tgid, nr := m[1], m[2], m[3]
		if tgid == "-------" {
			t.Fatalf("the trace did not record a thread's tgid: %s", line)
		}
		if tgid == strconv.Itoa(sentry) {
			continue
		}
		n, _ := strconv.Atoi(nr)
		args := strings.Split(m[4], ", ")
		if setup[tid] {
			if n == unix.SYS_SECCOMP && len(args) > 1 && args[0] == "1" && args[1] == "8" {
				setup[tid] = false // SET_MODE_FILTER, NEW_LISTENER: the filter is on
			}
			continue
		}
		workloadEvents++
		name := names[n]
		if name == "" {
			name = "#" + nr
		}
		seen[name]++
	}
	var list, bad []string
	for name, c := range seen {
		list = append(list, name+"="+strconv.Itoa(c))
		if !allowed[name] {
			bad = append(bad, name)
		}
	}
	sort.Strings(list)
	sort.Strings(bad)
	t.Logf("%d events, %d from the workload under its filter; %d distinct system calls reached the host: %s",
		events, workloadEvents, len(seen), strings.Join(list, " "))
	if workloadEvents < 1000 {
		t.Errorf("only %d workload system calls recorded: the trace missed the workload", workloadEvents)
	}
	if len(bad) > 0 {
		t.Errorf("system calls reached the host that sandbox/README.md does not allow: %s", strings.Join(bad, " "))
	}
}
