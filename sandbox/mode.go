// Package sandbox is runx's sandbox isolation mode: the workload runs as
// ordinary host processes that reach the host kernel only through a small
// seccomp allowlist, and every other system call traps into the Sentry, a
// userspace kernel written in Go that runs as the container's process.
// README.md in this directory has the design, the threat model and the
// system call coverage table.
package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runx-dev/runx/isolation"
	"github.com/runx-dev/runx/libct"
	"golang.org/x/sys/unix"
)

// Name is the isolation mode's name.
const Name = "sandbox"

// Annotations that configure a sandbox container.
const (
	// annDebug, set to "true", makes the Sentry log every system call it serves.
	annDebug = "dev.runx.sandbox.debug"
)

// Paths inside the container. /dev is the container's own tmpfs, and the
// Sentry hides /dev/.runx from the workload.
const (
	// SentryPath is where the container sees runx, read-only: the
	// container's process is runx under the name runx-sentry.
	SentryPath = "/dev/.runx/runx-sentry"
	// voidPath is an empty read-only tmpfs that becomes the root directory of
	// every workload process, so that the host kernel finds nothing there
	// should it ever resolve a path on the workload's behalf.
	voidPath = "/dev/.runx/void"
	// scratchPath is a tmpfs private to the Sentry for the directories it
	// makes up (the listing of /proc).
	scratchPath = "/dev/.runx/scratch"
)

// Mode runs the container's process under the Sentry.
type Mode struct{}

func init() {
	isolation.Register(Mode{})
	// The container's process: the Sentry, started as runx-sentry.
	isolation.RegisterEntry(filepath.Base(SentryPath), Main)
}

// Name implements isolation.Mode.
func (Mode) Name() string { return Name }

// Check implements isolation.Mode.
func (Mode) Check() isolation.Report {
	r := isolation.Report{Mode: Name, Built: true, Usable: true}
	ok, why := isolation.SeccompUserNotif()
	r.Facts = append(r.Facts, why)
	if !ok {
		r.Usable, r.Why = false, why
	}
	ok, why = isolation.UserNamespaces()
	r.Facts = append(r.Facts, why)
	if !ok && r.Usable {
		r.Usable, r.Why = false, why
	}
	rel := isolation.KernelRelease()
	r.Facts = append(r.Facts, "kernel "+rel)
	if !kernelAtLeast(rel, 5, 14) && r.Usable {
		r.Usable, r.Why = false, "the Sentry needs Linux 5.14 or later (seccomp ADDFD with SEND, pidfd_getfd, openat2)"
	}
	return r
}

// kernelAtLeast compares a release such as "6.1.0-18-amd64" with major.minor.
func kernelAtLeast(release string, major, minor int) bool {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi := 0
	for _, c := range parts[1] {
		if c < '0' || c > '9' {
			break
		}
		mi = mi*10 + int(c-'0')
	}
	if err1 != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}

// Load implements isolation.Mode.
func (Mode) Load(root, id string) (isolation.Container, error) {
	c, err := libct.LoadAs(root, id, Name)
	if err != nil {
		return nil, err
	}
	return container{Container: c, dir: filepath.Join(root, id)}, nil
}

type container struct {
	isolation.Container
	dir string // its state directory
}

// Start starts the Sentry, and returns once the workload's first program
// runs (see markStarted), as the namespace mode returns once the
// container's program runs: a signal sent right after start reaches it.
func (c container) Start() error {
	if err := c.Container.Start(); err != nil {
		return err
	}
	st, err := c.State()
	if err != nil || st.Pid <= 0 {
		return nil
	}
	marker := fmt.Sprintf("/proc/%d/root%s", st.Pid, startedFile)
	deadline := time.Now().Add(5 * time.Second)
	for wait := 100 * time.Microsecond; time.Now().Before(deadline); wait = min(wait*2, 5*time.Millisecond) {
		if _, err := os.Stat(marker); err == nil || errors.Is(err, unix.ESRCH) || !procAlive(st.Pid) {
			return nil
		}
		time.Sleep(wait)
	}
	return nil
}

func procAlive(pid int) bool { return unix.Kill(pid, 0) == nil }

// Update refuses a pids limit the Sentry cannot live with (see minPids).
func (c container) Update(r *specs.LinuxResources) error {
	if err := pidsFloor(r); err != nil {
		return fmt.Errorf("pids limit %w", err)
	}
	return c.Container.Update(r)
}

// Exec runs, in the container, runx-sentry --join with the process: that
// client asks the running Sentry to start the process under its filter, in
// the workload's namespaces, and ends with its status.
func (c container) Exec(req *isolation.ExecRequest) (int, error) {
	if req.Process == nil || len(req.Process.Args) == 0 {
		return -1, errors.New("exec: no program to run")
	}
	if req.PreserveFDs > 0 {
		return -1, errors.New("exec --preserve-fds is not supported in the sandbox isolation mode yet")
	}
	// The Sentry, through which every process of the container runs, starts
	// with the container: before start, the client becomes a Sentry of its
	// own for this process (see join), with the container's profile.
	var alone []string
	if st, err := c.State(); err == nil && st.Status == "created" {
		if alone, err = readAloneFlags(c.dir); err != nil {
			return -1, fmt.Errorf("exec: container %s is created but not started: %w", c.ID(), err)
		}
	}
	// The program's arguments and environment reach the client in a file,
	// not through its own execve: their limits are the program's to meet, in
	// the Sentry, which reports a failure in the program's name.
	input, err := joinInputFile(req.Process)
	if err != nil {
		return -1, err
	}
	defer input.Close()
	p := *req.Process
	p.Env = nil
	p.Args = []string{SentryPath, "--join"}
	r := *req
	r.Process = &p
	var report, reportW *os.File
	if !req.Detach {
		// The client reports its own failure (no Sentry, a program that
		// cannot start) on a pipe: exec's error, not a status. Detached,
		// nobody waits for it, and its failure goes to its stderr.
		if report, reportW, err = os.Pipe(); err != nil {
			return -1, err
		}
		defer report.Close()
		defer reportW.Close()
		r.ExtraFiles = append(r.ExtraFiles, reportW)
		p.Args = append(p.Args, fmt.Sprintf("--report-fd=%d", 2+len(r.ExtraFiles)))
	}
	r.ExtraFiles = append(r.ExtraFiles, input)
	p.Args = append(p.Args, fmt.Sprintf("--input-fd=%d", 2+len(r.ExtraFiles)))
	if alone != nil {
		p.Args = append(append(p.Args, "--alone"), alone...)
	}
	if argsFit(req.Process.Args) == nil {
		// Only shown: the client's command line names the program (ps).
		p.Args = append(append(p.Args, "--"), req.Process.Args...)
	}
	status, err := c.Container.Exec(&r)
	if err != nil || req.Detach {
		return status, err
	}
	reportW.Close()
	if msg, _ := io.ReadAll(io.LimitReader(report, 64<<10)); len(msg) > 0 {
		return -1, errors.New(strings.TrimSpace(string(msg)))
	}
	return status, nil
}

// minPids is the lowest pids limit the sandbox mode takes: the Sentry's
// threads and a few of the workload's processes.
const minPids = 16

// pidsFloor is the error, after the limit's value, of a pids limit in r
// below minPids; nil without one.
func pidsFloor(r *specs.LinuxResources) error {
	if r == nil || r.Pids == nil || r.Pids.Limit == nil || *r.Pids.Limit < 0 || *r.Pids.Limit >= minPids {
		return nil
	}
	return fmt.Errorf("%d: the sandbox's Sentry runs in the container's pids cgroup with about ten threads of its own, so the sandbox mode needs at least %d (or no limit)", *r.Pids.Limit, minPids)
}

// Create implements isolation.Mode: a namespace-mode container whose process
// is the Sentry, which starts process.args under its filter.
func (Mode) Create(req *isolation.CreateRequest) (int, error) {
	spec := req.Spec
	if spec.Process == nil || len(spec.Process.Args) == 0 {
		return -1, errors.New("config.json: process.args must name the program to run")
	}
	// The Sentry is a Go program with its own threads (about ten) in the
	// container's pids cgroup: below this the Go runtime cannot start it
	// (libcontainer turns a limit of 0 into pids.max 1).
	if spec.Linux != nil {
		if err := pidsFloor(spec.Linux.Resources); err != nil {
			return -1, fmt.Errorf("config.json: linux.resources.pids.limit %w", err)
		}
	}
	// The Sentry's own exec carries the program's arguments and environment:
	// too large, the error would name the Sentry.
	if err := argsFit(spec.Process.Args, spec.Process.Env); err != nil {
		return -1, fmt.Errorf("config.json: process: exec %s: %w", spec.Process.Args[0], err)
	}
	self, err := isolation.SelfMounts(isolation.RootfsOf(spec, req.Bundle), SentryPath)
	if err != nil {
		return -1, err
	}
	// The OCI seccomp profile is not applied to the Sentry, which needs
	// seccomp, ptrace and pidfds: it is compiled here and every workload
	// process installs it under the Sentry's own filter (profile.go).
	var prof *profile
	if spec.Linux != nil && spec.Linux.Seccomp != nil {
		if prof, err = compileProfile(spec.Linux.Seccomp); err != nil {
			return -1, err
		}
		spec.Linux.Seccomp = nil
	}
	args := []string{SentryPath}
	args = append(args, sentryFlags(spec, req.PreserveFDs)...)
	if prof != nil {
		args = append(args, "--seccomp="+prof.encode())
	}
	args = append(args, "--")
	program := *spec.Process // before the Sentry takes its place
	spec.Process.Args = append(args, spec.Process.Args...)
	uid := spec.Process.User.UID
	spec.Mounts = append(spec.Mounts, self...)
	spec.Mounts = append(spec.Mounts,
		specs.Mount{Destination: voidPath, Type: "tmpfs", Source: "tmpfs",
			Options: []string{"ro", "nosuid", "nodev", "noexec", "mode=0555", "size=4k", "nr_inodes=2"}},
		specs.Mount{Destination: scratchPath, Type: "tmpfs", Source: "tmpfs",
			Options: []string{"nosuid", "nodev", "noexec", "mode=0700", "size=1m",
				fmt.Sprintf("uid=%d", uid), fmt.Sprintf("gid=%d", spec.Process.User.GID)}},
	)
	return libct.Create(req, &libct.Extra{Mode: Name, Prepared: func(pid int) error {
		if err := findProgram(pid, &program); err != nil {
			return err
		}
		return writeAloneFlags(filepath.Join(req.Root, req.ID), aloneFlags(spec, prof))
	}})
}

// aloneFile, in the container's state directory, holds the Sentry flags an
// exec into the created container needs beyond the exec's own process
// (its user, capabilities, cwd): the container's seccomp profile and debug.
const aloneFile = "sandbox-exec.json"

func aloneFlags(spec *specs.Spec, prof *profile) []string {
	flags := []string{}
	if prof != nil {
		flags = append(flags, "--seccomp="+prof.encode())
	}
	if spec.Annotations[annDebug] == "true" {
		flags = append(flags, "--debug")
	}
	return flags
}

func writeAloneFlags(dir string, flags []string) error {
	data, err := json.Marshal(flags)
	if err != nil {
		return err
	}
	if err := isolation.WriteFileAtomic(filepath.Join(dir, aloneFile), data, 0o600); err != nil {
		return fmt.Errorf("recording the sandbox's exec flags: %w", err)
	}
	return nil
}

func readAloneFlags(dir string) ([]string, error) {
	path := filepath.Join(dir, aloneFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var flags []string
	if err := json.Unmarshal(data, &flags); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if flags == nil {
		flags = []string{}
	}
	return flags, nil
}

// sentryFlags turns what the Sentry emulates for the workload into its flags.
func sentryFlags(spec *specs.Spec, preserveFDs int) []string {
	p := spec.Process
	flags := []string{
		"--uid=" + strconv.FormatUint(uint64(p.User.UID), 10),
		"--gid=" + strconv.FormatUint(uint64(p.User.GID), 10),
	}
	if p.NoNewPrivileges {
		flags = append(flags, "--no-new-privs")
	}
	if len(p.User.AdditionalGids) > 0 {
		gs := make([]string, len(p.User.AdditionalGids))
		for i, g := range p.User.AdditionalGids {
			gs[i] = strconv.FormatUint(uint64(g), 10)
		}
		flags = append(flags, "--groups="+strings.Join(gs, ","))
	}
	// Every set of process.capabilities: the Sentry computes what the
	// program has after its exec from them, as the kernel does.
	mask := func(names []string) string {
		var m uint64
		for _, name := range names {
			if n, ok := capNumber(name); ok {
				m |= 1 << n
			}
		}
		return strconv.FormatUint(m, 16)
	}
	var c specs.LinuxCapabilities
	if p.Capabilities != nil {
		c = *p.Capabilities
	}
	flags = append(flags, "--caps="+mask(c.Effective), "--caps-prm="+mask(c.Permitted),
		"--caps-bnd="+mask(c.Bounding), "--caps-inh="+mask(c.Inheritable), "--caps-amb="+mask(c.Ambient))
	cwd := p.Cwd
	if cwd == "" {
		cwd = "/"
	}
	flags = append(flags, "--cwd="+cwd)
	if preserveFDs > 0 {
		flags = append(flags, "--preserve-fds="+strconv.Itoa(preserveFDs))
	}
	for _, r := range p.Rlimits {
		if r.Type == "RLIMIT_NOFILE" {
			flags = append(flags, "--nofile="+strconv.FormatUint(r.Soft, 10))
		}
	}
	if spec.Annotations[annDebug] == "true" {
		flags = append(flags, "--debug")
	}
	return flags
}

// capNumber maps "CAP_SYS_ADMIN" to its number.
func capNumber(name string) (uint, bool) {
	want := strings.ToLower(strings.TrimPrefix(strings.ToUpper(name), "CAP_"))
	for _, c := range capability.ListKnown() {
		if c.String() == want {
			return uint(c), true
		}
	}
	return 0, false
}

// findProgram fails the create, as runc's does, when process.args[0] is not
// in the container: by its path, or in the PATH of process.env. It looks in
// the created container's root (mounts in place) through its init's
// /proc/PID/root, resolving as the Sentry will.
func findProgram(pid int, p *specs.Process) error {
	root, err := unix.Open(fmt.Sprintf("/proc/%d/root", pid), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil // the Sentry will tell
	}
	defer unix.Close(root)
	fail := func(format string, a ...any) error {
		return fmt.Errorf("unable to start container process: error during container init: exec: %q: "+format, append([]any{p.Args[0]}, a...)...)
	}
	find := func(path string) (*unix.Stat_t, error) {
		fd, err := unix.Openat2(root, path, &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS})
		if err != nil {
			return nil, err
		}
		defer unix.Close(fd)
		var st unix.Stat_t
		return &st, unix.Fstat(fd, &st)
	}
	name := p.Args[0]
	if strings.Contains(name, "/") {
		path := name
		if !strings.HasPrefix(path, "/") {
			path = strings.TrimRight(p.Cwd, "/") + "/" + path
		}
		if _, err := find(path); err != nil {
			return fail("stat %s: %w", name, err)
		}
		return nil
	}
	pathEnv := ""
	for _, e := range p.Env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			pathEnv = v
		}
	}
	for _, dir := range strings.Split(pathEnv, ":") {
		if dir == "" {
			dir = "."
		}
		if !strings.HasPrefix(dir, "/") {
			dir = strings.TrimRight(p.Cwd, "/") + "/" + dir
		}
		if st, err := find(dir + "/" + name); err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR && st.Mode&0o111 != 0 {
			return nil
		}
	}
	return fail("executable file not found in $PATH")
}
