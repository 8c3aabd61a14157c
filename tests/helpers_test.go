// Package tests drives a built runx (or any runc-compatible runtime) binary
// as root over real busybox bundles. The binary is named by the RUNX
// environment variable; the suite fails when it is unset or missing.
package tests

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// defaultTimeout bounds every single runtime invocation so that a hung
// runtime makes a test fail instead of stalling the whole suite.
const defaultTimeout = 60 * time.Second

// busyboxPath is where Debian's busybox-static installs its binary.
const busyboxPath = "/bin/busybox"

// applets are the busybox applets linked into every test rootfs.
var applets = []string{
	"sh", "echo", "cat", "sleep", "id", "pwd", "true", "false", "env",
	"kill", "printf", "test", "[", "ls", "mkdir", "touch", "hostname",
	"whoami", "ps", "grep", "head", "tr", "wc", "readlink", "stat",
}

// runtimeBin returns the path of the binary under test, failing the test
// when RUNX is unset or does not name an executable file.
func runtimeBin(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("RUNX")
	if bin == "" {
		t.Fatal("RUNX is not set: point it at the runtime binary under test (e.g. RUNX=/work/main/runx)")
	}
	st, err := os.Stat(bin)
	if err != nil {
		t.Fatalf("RUNX=%s: %v", bin, err)
	}
	if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		t.Fatalf("RUNX=%s is not an executable file", bin)
	}
	if !filepath.IsAbs(bin) {
		abs, err := filepath.Abs(bin)
		if err != nil {
			t.Fatalf("RUNX=%s: %v", bin, err)
		}
		bin = abs
	}
	return bin
}

var (
	versionOnce sync.Once
	versionOut  string
)

// runtimeVersion returns the output of `$RUNX --version` (cached).
func runtimeVersion(t testing.TB) string {
	t.Helper()
	bin := runtimeBin(t)
	versionOnce.Do(func() {
		out, _ := exec.Command(bin, "--version").CombinedOutput()
		versionOut = string(out)
	})
	return versionOut
}

// isRunx reports whether the binary under test identifies itself as runx.
func isRunx(t testing.TB) bool {
	t.Helper()
	return strings.HasPrefix(strings.TrimSpace(runtimeVersion(t)), "runx")
}

// requireRunx skips tests that check behaviour only runx has. It never
// skips when RUNX points at runx, so it cannot hide a runx failure.
func requireRunx(t *testing.T) {
	t.Helper()
	if !isRunx(t) {
		t.Skipf("runx-specific test; binary under test reports %q", firstLine(runtimeVersion(t)))
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// requireRoot fails (it does not skip) when the suite is not run as root.
func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("integration tests must run as root")
	}
}

// result is what one runtime invocation produced.
type result struct {
	args     []string
	stdout   string
	stderr   string
	code     int // exit status; 128+n when killed by signal n; -1 on timeout or start failure
	timedOut bool
}

func (r result) String() string {
	return fmt.Sprintf("command: %s\nexit code: %d\nstdout: %q\nstderr: %q",
		strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// runOpts tweaks a single invocation.
type runOpts struct {
	stdin   io.Reader // nil means /dev/null
	dir     string    // working directory; "" means the test process's
	env     []string  // extra environment entries
	timeout time.Duration
}

// runCmd runs bin with args. Output goes to temporary files rather than
// pipes so that a container that inherits the runtime's stdio (create,
// run -d, exec -d) cannot keep the invocation from completing.
func runCmd(t testing.TB, o runOpts, bin string, args ...string) result {
	t.Helper()
	res := result{args: append([]string{bin}, args...)}
	if o.timeout == 0 {
		o.timeout = defaultTimeout
	}
	outDir := t.TempDir()
	stdout, err := os.Create(filepath.Join(outDir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(outDir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()

	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	if o.stdin != nil {
		cmd.Stdin = o.stdin
	} else {
		devnull, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer devnull.Close()
		cmd.Stdin = devnull
	}
	cmd.Dir = o.dir
	cmd.Env = append(os.Environ(), o.env...)
	cmd.WaitDelay = 5 * time.Second

	err = cmd.Run()
	res.code = exitCode(cmd, err)
	if ctx.Err() == context.DeadlineExceeded {
		res.timedOut = true
		res.code = -1
	}
	outB, _ := os.ReadFile(stdout.Name())
	errB, _ := os.ReadFile(stderr.Name())
	res.stdout, res.stderr = string(outB), string(errB)
	if res.timedOut {
		t.Errorf("timed out after %s\n%s", o.timeout, res)
	}
	return res
}

// exitCode converts a finished command into a shell-style exit status:
// the exit code, or 128+n when the process was killed by signal n.
func exitCode(cmd *exec.Cmd, err error) int {
	if cmd.ProcessState == nil {
		return -1
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return cmd.ProcessState.ExitCode()
}

// rt is one private runtime state directory (--root) for a test.
type rt struct {
	t    *testing.T
	bin  string
	root string
	mu   sync.Mutex
	ids  map[string]bool
}

// newRuntime makes a private --root for the test and registers a cleanup
// that force-deletes every container created in it, even on failure.
func newRuntime(t *testing.T) *rt {
	t.Helper()
	requireRoot(t)
	r := &rt{t: t, bin: runtimeBin(t), ids: map[string]bool{}}
	r.root = filepath.Join(t.TempDir(), "state")
	t.Cleanup(r.cleanup)
	return r
}

// track remembers an id so cleanup deletes it.
func (r *rt) track(id string) {
	r.mu.Lock()
	r.ids[id] = true
	r.mu.Unlock()
}

func (r *rt) cleanup() {
	r.mu.Lock()
	ids := map[string]bool{}
	for id := range r.ids {
		ids[id] = true
	}
	r.mu.Unlock()
	if entries, err := os.ReadDir(r.root); err == nil {
		for _, e := range entries {
			ids[e.Name()] = true
		}
	}
	for id := range ids {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, r.bin, "--root", r.root, "delete", "-f", id)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
		_ = cmd.Run()
		cancel()
	}
}

// run invokes the runtime with --root prepended.
func (r *rt) run(args ...string) result {
	r.t.Helper()
	return r.runOpt(runOpts{}, args...)
}

func (r *rt) runOpt(o runOpts, args ...string) result {
	r.t.Helper()
	r.noteIDs(args)
	return runCmd(r.t, o, r.bin, append([]string{"--root", r.root}, args...)...)
}

// noteIDs tracks the container id of create/run invocations so that it is
// cleaned up afterwards. It looks at the last argument, which is where the
// tests always put the id.
func (r *rt) noteIDs(args []string) {
	for i, a := range args {
		if strings.HasPrefix(a, "-") {
			continue
		}
		if a == "create" || a == "run" {
			if len(args) > i+1 {
				r.track(args[len(args)-1])
			}
		}
		return
	}
}

// ok runs and fails the test unless the exit code is 0.
func (r *rt) ok(args ...string) result {
	r.t.Helper()
	res := r.run(args...)
	if res.code != 0 {
		r.t.Fatalf("expected success\n%s", res)
	}
	return res
}

// okOpt is ok with options.
func (r *rt) okOpt(o runOpts, args ...string) result {
	r.t.Helper()
	res := r.runOpt(o, args...)
	if res.code != 0 {
		r.t.Fatalf("expected success\n%s", res)
	}
	return res
}

// containerState mirrors the JSON printed by `state`.
type containerState struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations"`
}

// state returns the parsed state of id, failing the test on error.
func (r *rt) state(id string) containerState {
	r.t.Helper()
	res := r.ok("state", id)
	var st containerState
	if err := json.Unmarshal([]byte(res.stdout), &st); err != nil {
		r.t.Fatalf("state output is not JSON: %v\n%s", err, res)
	}
	return st
}

// waitStatus polls `state` until the status is want.
func (r *rt) waitStatus(id, want string, timeout time.Duration) containerState {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	var last result
	for {
		last = r.run("state", id)
		if last.code == 0 {
			var st containerState
			if err := json.Unmarshal([]byte(last.stdout), &st); err == nil && st.Status == want {
				return st
			}
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("container %s did not reach status %q within %s; last state:\n%s", id, want, timeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// newID returns a container id unique to this test run.
func newID(t testing.TB) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name := strings.ToLower(t.Name())
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	name = strings.TrimPrefix(name, "test")
	var sb strings.Builder
	for _, c := range name {
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
			sb.WriteRune(c)
		}
		if sb.Len() >= 12 {
			break
		}
	}
	return "rxt-" + sb.String() + "-" + hex.EncodeToString(b)
}

// bundle is an OCI bundle with a busybox rootfs.
type bundle struct {
	t      *testing.T
	dir    string
	rootfs string
	spec   *specs.Spec
}

// newBundle creates a busybox bundle in a fresh temporary directory, with a
// config.json produced by `$RUNX spec` and edited for non-interactive use:
// terminal off, the given args (default: sleep for a long time).
func newBundle(t *testing.T, args ...string) *bundle {
	t.Helper()
	dir := t.TempDir()
	b := makeBundleIn(t, dir)
	if len(args) == 0 {
		args = []string{"sleep", "1000"}
	}
	b.spec.Process.Args = args
	b.spec.Process.Terminal = false
	b.save()
	return b
}

// makeBundleIn fills dir with a rootfs and the runtime's default spec.
func makeBundleIn(t *testing.T, dir string) *bundle {
	t.Helper()
	b := &bundle{t: t, dir: dir, rootfs: filepath.Join(dir, "rootfs")}
	makeRootfs(t, b.rootfs)
	res := runCmd(t, runOpts{dir: dir}, runtimeBin(t), "spec")
	if res.code != 0 {
		t.Fatalf("spec failed\n%s", res)
	}
	b.load()
	return b
}

// makeRootfs lays out a minimal busybox root filesystem.
func makeRootfs(t testing.TB, rootfs string) {
	t.Helper()
	checkStaticBusybox(t)
	for _, d := range []string{"bin", "etc", "proc", "sys", "dev", "tmp", "root"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(rootfs, "tmp"), 0o1777); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(busyboxPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "bin", "busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, a := range applets {
		if err := os.Symlink("busybox", filepath.Join(rootfs, "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
	passwd := "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
	group := "root:x:0:\nnogroup:x:65534:\n"
	if err := os.WriteFile(filepath.Join(rootfs, "etc", "passwd"), []byte(passwd), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "etc", "group"), []byte(group), 0o644); err != nil {
		t.Fatal(err)
	}
}

var (
	busyboxOnce sync.Once
	busyboxErr  error
)

// checkStaticBusybox makes sure /bin/busybox can run inside an empty
// rootfs (i.e. it has no ELF interpreter).
func checkStaticBusybox(t testing.TB) {
	t.Helper()
	busyboxOnce.Do(func() {
		f, err := elf.Open(busyboxPath)
		if err != nil {
			busyboxErr = fmt.Errorf("%s: %w (install busybox-static: make deps)", busyboxPath, err)
			return
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				busyboxErr = fmt.Errorf("%s is dynamically linked; install busybox-static (make deps)", busyboxPath)
				return
			}
		}
	})
	if busyboxErr != nil {
		t.Fatal(busyboxErr)
	}
}

func (b *bundle) configPath() string { return filepath.Join(b.dir, "config.json") }

func (b *bundle) load() {
	b.t.Helper()
	data, err := os.ReadFile(b.configPath())
	if err != nil {
		b.t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		b.t.Fatalf("config.json from spec is not valid: %v", err)
	}
	if s.Process == nil || s.Root == nil {
		b.t.Fatalf("config.json from spec lacks process or root:\n%s", data)
	}
	b.spec = &s
}

// save writes the (edited) spec back to config.json.
func (b *bundle) save() {
	b.t.Helper()
	data, err := json.MarshalIndent(b.spec, "", "\t")
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(b.configPath(), data, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// edit applies f to the spec and saves it.
func (b *bundle) edit(f func(s *specs.Spec)) {
	b.t.Helper()
	f(b.spec)
	b.save()
}

// editRaw applies f to config.json decoded as a generic map, for edits the
// typed spec cannot express.
func (b *bundle) editRaw(f func(m map[string]any)) {
	b.t.Helper()
	data, err := os.ReadFile(b.configPath())
	if err != nil {
		b.t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(data, &m); err != nil {
		b.t.Fatal(err)
	}
	f(m)
	data, err = json.MarshalIndent(m, "", "\t")
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(b.configPath(), data, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// startContainer creates and starts a container running b's process.
func startContainer(r *rt, b *bundle, id string) containerState {
	r.t.Helper()
	r.ok("create", "--bundle", b.dir, id)
	r.ok("start", id)
	return r.waitStatus(id, "running", 10*time.Second)
}

// readPidFile reads a pid file written by the runtime.
func readPidFile(t testing.TB, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		t.Fatalf("pid file %s holds %q, want a positive pid", path, data)
	}
	return pid
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return false
	}
	return s[i+2] != 'Z' && s[i+2] != 'X'
}

// waitGone waits until pid no longer runs.
func waitGone(t testing.TB, pid int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for processAlive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still alive after %s", pid, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// expectFailure checks that res failed and that stderr mentions at least
// one of the wanted fragments (case-insensitive).
func expectFailure(t testing.TB, res result, anyOf ...string) {
	t.Helper()
	if res.code == 0 {
		t.Fatalf("expected a non-zero exit\n%s", res)
	}
	if strings.TrimSpace(res.stderr) == "" {
		t.Errorf("expected an error message on stderr\n%s", res)
		return
	}
	if len(anyOf) == 0 {
		return
	}
	low := strings.ToLower(res.stderr)
	for _, w := range anyOf {
		if strings.Contains(low, strings.ToLower(w)) {
			return
		}
	}
	t.Errorf("stderr should mention one of %q\n%s", anyOf, res)
}

// leftovers lists what a container id / bundle path left on the host: its
// state directory under root, cgroup directories named after the id, mounts
// under the bundle, and processes mentioning the id or bundle or living in a
// cgroup named after the id.
func leftovers(root, id string, paths []string) []string {
	var found []string
	if id != "" && root != "" {
		p := filepath.Join(root, id)
		if _, err := os.Lstat(p); err == nil {
			found = append(found, "state directory "+p)
		}
	}
	if id != "" {
		for _, d := range findCgroupDirs(id) {
			found = append(found, "cgroup "+d)
		}
	}
	if mi, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for _, line := range strings.Split(string(mi), "\n") {
			f := strings.Fields(line)
			if len(f) < 5 {
				continue
			}
			for _, p := range paths {
				if p != "" && strings.Contains(unescapeMount(f[4]), p) {
					found = append(found, "mount "+f[4])
				}
			}
		}
	}
	self := os.Getpid()
	procs, _ := os.ReadDir("/proc")
	for _, e := range procs {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self || !processAlive(pid) {
			continue
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		cl := strings.ReplaceAll(string(cmdline), "\x00", " ")
		hit := false
		if id != "" && containsWord(cl, id) {
			hit = true
		}
		for _, p := range paths {
			if p != "" && strings.Contains(cl, p) {
				hit = true
			}
		}
		if id != "" && !hit {
			cg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
			for _, line := range strings.Split(string(cg), "\n") {
				parts := strings.SplitN(line, ":", 3)
				if len(parts) == 3 && pathHasComponentContaining(parts[2], id) {
					hit = true
				}
			}
		}
		if hit {
			found = append(found, fmt.Sprintf("process %d (%s)", pid, strings.TrimSpace(cl)))
		}
	}
	return found
}

// containsWord reports whether s contains id not as part of a longer token
// of id characters (so "rxt-a-1" does not match "rxt-a-12").
func containsWord(s, id string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], id)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(id)
		beforeOK := j == 0 || !isIDChar(s[j-1])
		afterOK := end == len(s) || !isIDChar(s[end])
		if beforeOK && afterOK {
			return true
		}
		i = j + 1
	}
}

func isIDChar(c byte) bool {
	return c == '-' || c == '_' || c == '.' || c == '+' ||
		(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func pathHasComponentContaining(p, id string) bool {
	for _, c := range strings.Split(p, "/") {
		if containsWord(c, id) {
			return true
		}
	}
	return false
}

// unescapeMount undoes the octal escapes of /proc/self/mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// findCgroupDirs searches /sys/fs/cgroup (v1 hierarchies, hybrid unified
// and pure v2) a few levels deep for directories named after id.
func findCgroupDirs(id string) []string {
	var found []string
	var walk func(dir string, depth int)
	walk = func(dir string, depth int) {
		if depth > 6 {
			return
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return
		}
		for _, e := range entries {
			if !e.IsDir() { // symlinks such as cpu -> cpu,cpuacct are skipped
				continue
			}
			p := filepath.Join(dir, e.Name())
			if containsWord(e.Name(), id) {
				found = append(found, p)
				continue
			}
			walk(p, depth+1)
		}
	}
	walk("/sys/fs/cgroup", 0)
	return found
}

// assertNothingLeft fails the test if the container id or the given paths
// left anything behind. Cleanup can be asynchronous, so it polls briefly.
func assertNothingLeft(t testing.TB, root, id string, paths ...string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		found := leftovers(root, id, paths)
		if len(found) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("left behind by container %q (root %s, paths %q):\n  %s", id, root, paths, strings.Join(found, "\n  "))
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// cgroupFile returns the host path of a controller file in the cgroup of
// pid, for cgroup v1 (controller hierarchy) or v2 (unified, whole tree).
func cgroupFile(t testing.TB, pid int, controller, v1name, v2name string) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	var v2path string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			v2path = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == controller {
				if mp := v1Mount(controller); mp != "" {
					return filepath.Join(mp, parts[2], v1name)
				}
			}
		}
	}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil && v2path != "" {
		return filepath.Join("/sys/fs/cgroup", v2path, v2name)
	}
	if v2path != "" {
		if _, err := os.Stat("/sys/fs/cgroup/unified/cgroup.controllers"); err == nil {
			p := filepath.Join("/sys/fs/cgroup/unified", v2path, v2name)
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	t.Fatalf("cannot find the %s cgroup of pid %d:\n%s", controller, pid, data)
	return ""
}

// v1Mount finds the mount point of a cgroup v1 hierarchy with controller.
func v1Mount(controller string) string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		i := strings.Index(line, " - ")
		if i < 0 {
			continue
		}
		pre, post := strings.Fields(line[:i]), strings.Fields(line[i+3:])
		if len(pre) < 5 || len(post) < 3 || post[0] != "cgroup" {
			continue
		}
		for _, o := range strings.Split(post[2], ",") {
			if o == controller {
				return unescapeMount(pre[4])
			}
		}
	}
	return ""
}

// readTrim reads a small file and trims whitespace.
func readTrim(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// waitFile waits until path exists.
func waitFile(t testing.TB, path string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear within %s", path, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func containsInt(list []int, n int) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}

// killPid sends SIGKILL to a host pid.
func killPid(pid int) error {
	return syscall.Kill(pid, syscall.SIGKILL)
}

// execCommand builds (without running) a runtime command with --root, for
// tests that need to wire its stdio themselves. It is killed if it runs
// longer than defaultTimeout.
func execCommand(r *rt, args ...string) *exec.Cmd {
	ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
	r.t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, r.bin, append([]string{"--root", r.root}, args...)...)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// waitCmdline waits until the command line of pid contains want (a runtime
// may hand out the pid while the process is still in its init stage).
func waitCmdline(t testing.TB, pid int, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var cl string
	first := true
	for {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		cl = strings.ReplaceAll(string(data), "\x00", " ")
		if strings.Contains(cl, want) {
			return
		}
		if first {
			t.Logf("note: pid %d first showed cmdline %q (not yet %q)", pid, cl, want)
			first = false
		}
		if time.Now().After(deadline) || !processAlive(pid) {
			t.Errorf("pid %d has cmdline %q, want it to contain %q", pid, cl, want)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
