// Package microvm is runx's microvm isolation mode: each container in its
// own virtual machine (QEMU today), with runx as the guest's /init and agent,
// which makes the container inside the guest with the namespace mode's code.
// See README.md.
package microvm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer/system"
	"github.com/opencontainers/runc/types"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/runx-dev/runx/internal/tap"
	"github.com/runx-dev/runx/isolation"
)

// Name is the isolation mode's name.
const Name = "microvm"

// Annotations that size and place the VM.
const (
	annMemory = "dev.runx.microvm.memory" // MiB
	annVCPUs  = "dev.runx.microvm.vcpus"
	annKernel = "dev.runx.microvm.kernel"
	annInitrd = "dev.runx.microvm.initrd"
	annAccel  = "dev.runx.microvm.accel"      // tcg, kvm
	annHV     = "dev.runx.microvm.hypervisor" // qemu, runx
	annBoot   = "dev.runx.microvm.boot-timeout"
	annDebug  = "dev.runx.microvm.debug" // "true": the guest kernel and agent log to console.log
)

const (
	defaultMemoryMiB = 512
	minMemoryMiB     = 128
)

// Mode is the microvm isolation mode.
type Mode struct{}

func init() {
	isolation.Register(Mode{})
	isolation.RegisterEntry("init", agentMain)
	isolation.RegisterEntry(monitorName, monitorMain)
	isolation.RegisterEntry(relayName, relayMain)
	isolation.RegisterEntry(shareName, shareMain)
}

// Name implements isolation.Mode.
func (Mode) Name() string { return Name }

// Check implements isolation.Mode.
func (Mode) Check() isolation.Report {
	r := isolation.Report{Mode: Name, Built: true, Usable: true}
	var why []string
	for _, p := range []string{qemuBinary, virtiofsd} {
		if _, err := os.Stat(p); err != nil {
			why = append(why, p+" is missing (apt-get install qemu-system-x86)")
		}
	}
	if _, err := os.Stat(filepath.Join(KernelDir, "vmlinuz")); err != nil {
		why = append(why, "no guest kernel at "+KernelDir+"/vmlinuz (make microvm-kernel)")
	}
	accel, reason := autoAccel()
	hv := autoHypervisor(accel)
	r.Facts = append(r.Facts, "hypervisor: "+hv, "accel: "+accel+" ("+reason+")")
	r.Features = map[string]string{annHV: hv, annAccel: accel}
	if len(why) > 0 {
		r.Usable, r.Why = false, strings.Join(why, "; ")
	}
	return r
}

// autoAccel picks KVM where the host's CPU offers hardware virtualization
// to its guests, else QEMU's emulation (TCG).
func autoAccel() (string, string) {
	if _, err := os.Stat("/dev/kvm"); err != nil {
		return "tcg", "no /dev/kvm"
	}
	if !isolation.HardwareVirt() {
		return "tcg", "/dev/kvm without VMX or SVM in the CPU flags (a nested PVM /dev/kvm cannot run a Linux guest)"
	}
	return "kvm", "/dev/kvm with hardware virtualization"
}

// autoHypervisor is runx's own VMM where KVM is real, else QEMU (whose TCG
// emulates a CPU where there is no hardware virtualization).
func autoHypervisor(accel string) string {
	if accel == "kvm" {
		return "runx"
	}
	return "qemu"
}

// vmSettings reads the VM's size, kernel, hypervisor and accelerator from
// the spec.
func vmSettings(spec *specs.Spec) (*VMConfig, error) {
	ann := spec.Annotations
	cfg := &VMConfig{MemoryMiB: defaultMemoryMiB, VCPUs: 1}
	if r := spec.Linux; r != nil && r.Resources != nil && r.Resources.Memory != nil && r.Resources.Memory.Limit != nil && *r.Resources.Memory.Limit > 0 {
		cfg.MemoryMiB = int(*r.Resources.Memory.Limit >> 20)
	}
	if v, ok := ann[annMemory]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("config.json: annotations[%q]: %q is not a number of MiB", annMemory, v)
		}
		cfg.MemoryMiB = n
	}
	var si unix.Sysinfo_t
	host := 0
	if unix.Sysinfo(&si) == nil {
		host = int(uint64(si.Totalram) * uint64(si.Unit) >> 20)
	}
	switch {
	case cfg.MemoryMiB < minMemoryMiB:
		return nil, fmt.Errorf("config.json: VM memory %d MiB (%s or linux.resources.memory.limit) is below the %d MiB a guest needs", cfg.MemoryMiB, annMemory, minMemoryMiB)
	case host > 0 && cfg.MemoryMiB > host:
		return nil, fmt.Errorf("config.json: VM memory %d MiB (%s or linux.resources.memory.limit) is more than the host's %d MiB", cfg.MemoryMiB, annMemory, host)
	}
	cfg.VCPUs = cpusOf(spec.Linux)
	if v, ok := ann[annVCPUs]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > runtime.NumCPU() {
			return nil, fmt.Errorf("config.json: annotations[%q]: %q: give 1 to %d vCPUs (the host's CPUs)", annVCPUs, v, runtime.NumCPU())
		}
		cfg.VCPUs = n
	}
	auto, reason := autoAccel()
	switch v := ann[annAccel]; v {
	case "":
		cfg.Accel = auto
	case "tcg":
		cfg.Accel = "tcg"
	case "kvm":
		if auto != "kvm" {
			return nil, fmt.Errorf("config.json: annotations[%q]: kvm is not usable here: %s", annAccel, reason)
		}
		cfg.Accel = "kvm"
	default:
		return nil, fmt.Errorf("config.json: annotations[%q]: %q is not tcg or kvm", annAccel, v)
	}
	switch v := ann[annHV]; v {
	case "":
		cfg.Hypervisor = autoHypervisor(cfg.Accel)
	case "qemu":
		cfg.Hypervisor = v
	case "runx":
		if cfg.Accel != "kvm" {
			why := reason
			if auto == "kvm" {
				why = fmt.Sprintf("annotations[%q] asks for tcg", annAccel)
			}
			return nil, fmt.Errorf("config.json: annotations[%q]: runx's own VMM runs on KVM only, and KVM is not usable here: %s", annHV, why)
		}
		cfg.Hypervisor = v
	default:
		return nil, fmt.Errorf("config.json: annotations[%q]: %q is not qemu or runx", annHV, v)
	}
	cfg.Kernel = filepath.Join(KernelDir, "vmlinuz")
	if v, ok := ann[annKernel]; ok {
		cfg.Kernel = v
	}
	if st, err := os.Stat(cfg.Kernel); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("guest kernel %s (%s): not a file (make microvm-kernel installs one)", cfg.Kernel, annKernel)
	} else if st.Size() < 1<<20 {
		return nil, fmt.Errorf("guest kernel %s (%s): %d bytes is not a kernel", cfg.Kernel, annKernel, st.Size())
	}
	if v, ok := ann[annInitrd]; ok {
		if st, err := os.Stat(v); err != nil || !st.Mode().IsRegular() {
			return nil, fmt.Errorf("config.json: annotations[%q]: %s is not a file", annInitrd, v)
		}
		cfg.Initrd = v
	}
	need := []string{virtiofsd}
	if cfg.Hypervisor == "qemu" {
		need = append(need, qemuBinary)
	}
	for _, p := range need {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("the microvm mode needs %s: %w (apt-get install qemu-system-x86)", p, err)
		}
	}
	return cfg, nil
}

// cpusOf is the vCPUs linux.resources.cpu asks for: its quota over its
// period, rounded up, or the CPUs of its cpuset; at least 1, at most the
// host's CPUs (as Kata sizes a VM from the pod's limits).
func cpusOf(l *specs.Linux) int {
	n := 1
	if l != nil && l.Resources != nil && l.Resources.CPU != nil {
		c := l.Resources.CPU
		switch {
		case c.Quota != nil && *c.Quota > 0 && c.Period != nil && *c.Period > 0:
			n = int((uint64(*c.Quota) + *c.Period - 1) / *c.Period)
		case c.Cpus != "":
			if set, err := cpuset(c.Cpus); err == nil {
				n = set
			}
		}
	}
	return max(1, min(n, runtime.NumCPU()))
}

// cpuset counts the CPUs of a cpuset list ("0-3,6").
func cpuset(list string) (int, error) {
	n := 0
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return 0, err
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return 0, fmt.Errorf("cpuset %q", list)
			}
		}
		n += b - a + 1
	}
	return n, nil
}

// guestSpec is the config.json the guest's runx gets: the container's, with
// the root and bind mounts (mounts, from shareBinds) in the shared tree and
// what names host objects left out. sandbox (nil for a pod's first
// container) is the config.json of the pod's sandbox container, whose host
// pid is sandboxPid: namespaces of it that spec joins become its guest's.
//
// The net.* sysctls are returned apart: the container shares the guest's
// network namespace (the pod's), which the agent sets them in.
func guestSpec(spec *specs.Spec, id string, mounts []specs.Mount, sandbox *specs.Spec, sandboxPid int) ([]byte, map[string]string, error) {
	g := *spec
	root := *spec.Root
	root.Path = guestRoot(id)
	g.Root = &root
	g.Hooks = nil // host programs, run on the host (hooks.go)
	if spec.Hooks != nil && len(spec.Hooks.StartContainer) > 0 {
		g.Hooks = &specs.Hooks{StartContainer: spec.Hooks.StartContainer}
	}
	if spec.Process != nil {
		// The host's LSM policies are not loaded in the guest's kernel.
		p := *spec.Process
		p.ApparmorProfile, p.SelinuxLabel = "", ""
		g.Process = &p
	}
	// In the guest the container is the namespace mode's.
	g.Annotations = map[string]string{}
	for k, v := range spec.Annotations {
		if k != isolation.Annotation && !strings.HasPrefix(k, "dev.runx.microvm.") {
			g.Annotations[k] = v
		}
	}
	g.Mounts = mounts
	if spec.Linux != nil {
		l := *spec.Linux
		l.Namespaces = nil
		for _, ns := range spec.Linux.Namespaces {
			// The container shares the guest's network namespace, where
			// its NIC is (net.go); user namespaces are not done.
			if ns.Type == specs.UserNamespace || ns.Type == specs.NetworkNamespace {
				continue
			}
			switch {
			case ns.Path == "" || sandbox == nil:
				ns.Path = "" // a host namespace means nothing in the guest
			case ns.Type == specs.CgroupNamespace:
				ns.Path = ""
			case ns.Type != specs.MountNamespace && joinsSandbox(ns, sandbox, sandboxPid):
				ns.Path = podNamespace + nsFile(ns.Type)
			default:
				return nil, nil, fmt.Errorf("config.json: linux.namespaces: the %s namespace %s is not the pod sandbox's: in a VM a container can join only its pod's", ns.Type, ns.Path)
			}
			l.Namespaces = append(l.Namespaces, ns)
		}
		l.UIDMappings, l.GIDMappings = nil, nil
		// The guest's cgroup tree is the VM's alone: one simple path
		// whatever the host's driver named (a systemd slice means nothing
		// to the guest's runx).
		l.CgroupsPath = "/runx/" + id
		var net map[string]string
		if len(spec.Linux.Sysctl) > 0 {
			l.Sysctl = map[string]string{}
			for k, v := range spec.Linux.Sysctl {
				if strings.HasPrefix(k, "net.") {
					if net == nil {
						net = map[string]string{}
					}
					net[k] = v
				} else {
					l.Sysctl[k] = v
				}
			}
		}
		g.Linux = &l
		b, err := json.Marshal(&g)
		return b, net, err
	}
	b, err := json.Marshal(&g)
	return b, nil, err
}

// Create implements isolation.Mode. A pod's first container boots the VM,
// with its monitor as the container's process; a later one (pod.go) is made
// in that VM, with a relay as its process.
func (Mode) Create(req *isolation.CreateRequest) (int, error) {
	spec := req.Spec
	if spec.Process == nil || len(spec.Process.Args) == 0 {
		return -1, errors.New("config.json: process.args must name the program to run")
	}
	if err := isolation.CheckTerminal(!req.Run || req.Detach, spec.Process.Terminal, req.ConsoleSocket); err != nil {
		return -1, err
	}
	if spec.Root == nil || spec.Root.Path == "" {
		return -1, errors.New("config.json: root.path is required")
	}
	rootfs := isolation.RootfsOf(spec, req.Bundle)
	if st, err := os.Stat(rootfs); err != nil || !st.IsDir() {
		return -1, fmt.Errorf("config.json: root.path %s: not a directory", rootfs)
	}
	if req.PreserveFDs > 0 {
		return -1, errors.New("--preserve-fds is not supported in the microvm isolation mode yet")
	}
	netnsPath, err := networkNamespace(spec)
	if err != nil {
		return -1, err
	}
	pod := podSandbox(spec, req.ID)
	var vm *VMConfig
	var gc *guestContainer
	var podDir string
	if pod == "" {
		if vm, err = vmSettings(spec); err != nil {
			return -1, err
		}
		if gc, err = newGuestContainer(spec, req.Bundle, req.ID, rootfs, nil, 0); err != nil {
			return -1, err
		}
		if err := vm.boot(spec, gc); err != nil {
			return -1, err
		}
	} else {
		dir, sbSpec, sbPid, err := sandboxOf(req.Root, pod)
		if err != nil {
			return -1, err
		}
		if gc, err = newGuestContainer(spec, req.Bundle, req.ID, rootfs, sbSpec, sbPid); err != nil {
			return -1, err
		}
		podDir = dir
	}

	dir := filepath.Join(req.Root, req.ID)
	if err := os.MkdirAll(req.Root, 0o711); err != nil {
		return -1, err
	}
	if err := os.Mkdir(dir, 0o711); err != nil {
		if errors.Is(err, os.ErrExist) {
			return -1, fmt.Errorf("container with id exists: %s", req.ID)
		}
		return -1, err
	}
	c := &container{root: req.Root, id: req.ID, dir: dir}
	fail := func(err error) (int, error) {
		_ = c.destroy()
		return -1, err
	}
	boot := ""
	if v, ok := spec.Annotations[annBoot]; ok {
		if _, err := time.ParseDuration(v); err != nil {
			return fail(fmt.Errorf("config.json: annotations[%q]: %q is not a duration", annBoot, v))
		}
		boot = v
	}
	cg, err := hostCgroup(req.ID, spec, req.SystemdCgroup)
	if err != nil {
		return fail(err)
	}
	cfg := monitorConfig{ID: req.ID, Cgroup: cg}
	if pod == "" {
		vm.Dir = dir
		cfg = monitorConfig{ID: req.ID, VM: *vm, Hypervisor: vm.Hypervisor, GuestSpec: gc.Spec, BootLimit: boot, Cgroup: cg,
			Netns: netnsPath, Terminal: gc.Terminal, ConsoleSocket: req.ConsoleSocket, Sysctls: gc.Sysctls}
	}
	if err := writeJSON(filepath.Join(dir, "monitor.json"), cfg); err != nil {
		return fail(err)
	}
	if err := isolation.Record(req.Root, req.ID, Name); err != nil {
		return fail(err)
	}
	ann := maps.Clone(spec.Annotations)
	if vm != nil {
		// What the VM runs on, for state (runc's state has the config's
		// annotations; these are the runtime's choice).
		if ann == nil {
			ann = map[string]string{}
		}
		ann[annAccel] = vm.Accel
		ann[annHV] = vm.Hypervisor
	}
	st := &isolation.State{OCIVersion: spec.Version, ID: req.ID, Status: "creating", Bundle: req.Bundle,
		Rootfs: rootfs, Created: time.Now().UTC(), Owner: "", Annotations: ann}
	if err := c.saveNew(st, pod); err != nil {
		return fail(err)
	}
	var proc *exec.Cmd
	if pod == "" {
		proc, err = startMonitor(dir, netnsPath)
	} else {
		proc, err = startRelay(podDir, dir, control{Op: "create", ID: req.ID, Container: gc}, gc.Terminal, req.ConsoleSocket,
			"the container's relay ended before the container was created")
		if err == nil {
			if _, err = joinCgroup(cg, proc.Process.Pid); err != nil {
				_ = proc.Process.Kill()
				_ = proc.Wait()
			}
		}
	}
	if err != nil {
		return fail(err)
	}
	kill := func(err error) (int, error) {
		_ = proc.Process.Kill()
		_ = proc.Wait()
		return fail(err)
	}
	st.Pid = proc.Process.Pid
	st.Status = "created"
	if err := c.saveState(st); err != nil {
		return kill(err)
	}
	if err := saveLaterHooks(dir, spec); err != nil {
		return kill(err)
	}
	if err := createHooks(spec, c.ociState(st, specs.StateCreated)); err != nil {
		return kill(err)
	}
	if req.PidFile != "" {
		if err := isolation.WritePidFile(req.PidFile, st.Pid); err != nil {
			return kill(err)
		}
	}
	if !req.Run {
		return 0, nil
	}
	if err := c.Start(); err != nil {
		return kill(err)
	}
	if req.Detach {
		return 0, nil
	}
	// Foreground: the container's status is its process's, and signals to
	// runx run are the container's.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwarded...)
	go func() {
		for s := range sigs {
			_ = proc.Process.Signal(s)
		}
	}()
	err = proc.Wait()
	signal.Stop(sigs)
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		ws := ee.Sys().(syscall.WaitStatus)
		code = ws.ExitStatus()
		if ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	} else if err != nil {
		return -1, err
	}
	if !req.Keep {
		_ = c.destroy()
	}
	return code, nil
}

// boot completes the VM's settings for the pod's first container gc.
func (vm *VMConfig) boot(spec *specs.Spec, gc *guestContainer) error {
	if vm.Initrd == "" {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		if vm.Initrd, err = initrd(filepath.Dir(vm.Kernel), self); err != nil {
			return fmt.Errorf("guest initramfs for the kernel %s (its modules/ beside it): %w", vm.Kernel, err)
		}
	}
	khz, err := tscKHz()
	if err != nil {
		return err
	}
	// A panic resets the machine at once (panic=-1), by a triple fault
	// (reboot=t): the microvm machine has no keyboard controller, and the
	// kernel's other ways (ACPI, then the keyboard controller, in a loop)
	// spun for good in some panics on TCG. QEMU (-no-reboot) then exits.
	vm.Cmdline = fmt.Sprintf("console=ttyS0 panic=-1 reboot=t tsc_early_khz=%d tsc=reliable no_timer_check "+
		"cryptomgr.notests mitigations=off rdinit=/init", khz)
	if spec.Annotations[annDebug] == "true" {
		vm.Cmdline += " runx.debug"
	} else {
		vm.Cmdline += " quiet"
	}
	vm.Shares = gc.Shares
	return nil
}

// startMonitor starts runx as the VM's monitor with this process's stdio,
// in the container's network namespace (netnsPath, else a new one), and
// waits for it to report the container created.
func startMonitor(dir, netnsPath string) (*exec.Cmd, error) {
	start := func(cmd *exec.Cmd) error {
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
		return cmd.Start()
	}
	if netnsPath != "" {
		start = func(cmd *exec.Cmd) error {
			ns, err := netns.GetFromPath(netnsPath)
			if err != nil {
				return fmt.Errorf("config.json: the network namespace %s: %w", netnsPath, err)
			}
			defer ns.Close()
			return tap.InNetns(ns, cmd.Start)
		}
	}
	return startReporting([]string{monitorName, dir}, "the VM monitor ended before the container was created", start)
}

// startReporting starts runx as one of its microvm helpers (argv[0] names
// it), with this process's stdio and a pipe as fd 3 on which the helper
// writes "ok", or why not, and closes it; on anything but "ok" the helper is
// killed and the error is what it wrote, else ended.
func startReporting(argv []string, ended string, start func(*exec.Cmd) error) (*exec.Cmd, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	cmd := &exec.Cmd{Path: "/proc/self/exe", Args: argv,
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, ExtraFiles: []*os.File{w}}
	if start == nil {
		start = (*exec.Cmd).Start
	}
	if err := start(cmd); err != nil {
		w.Close()
		return nil, fmt.Errorf("starting %s: %w", argv[0], err)
	}
	w.Close()
	b, _ := io.ReadAll(r)
	if string(b) != "ok" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		msg := strings.TrimSpace(string(b))
		if msg == "" {
			msg = ended
		}
		return nil, errors.New(msg)
	}
	return cmd, nil
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return isolation.WriteFileAtomic(path, b, 0o600)
}

// Load implements isolation.Mode.
func (Mode) Load(root, id string) (isolation.Container, error) {
	dir := filepath.Join(root, id)
	if _, err := os.Stat(filepath.Join(dir, "state.json")); err != nil {
		return nil, isolation.ErrNotExist
	}
	return &container{root: root, id: id, dir: dir}, nil
}

type container struct {
	root, id, dir string
}

// savedState is the state file: runc's state and what tells the monitor's
// (or relay's) process from a later one with its pid.
type savedState struct {
	isolation.State
	MonitorStart uint64 `json:"monitorStart,omitempty"`
	Started      bool   `json:"started,omitempty"`
	// Pod is the sandbox container whose VM runs this one ("": its own).
	Pod string `json:"pod,omitempty"`
	// Paused: a pod's later container paused in the guest.
	Paused bool `json:"paused,omitempty"`
}

func (c *container) ID() string   { return c.id }
func (c *container) Mode() string { return Name }

func (c *container) load() (*savedState, error) {
	p := filepath.Join(c.dir, "state.json")
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var s savedState
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("container %s: state file %s: %w", c.id, p, err)
	}
	return &s, nil
}

// saveNew writes a new container's first state.
func (c *container) saveNew(st *isolation.State, pod string) error {
	return writeJSON(filepath.Join(c.dir, "state.json"), &savedState{State: *st, Pod: pod})
}

func (c *container) saveState(st *isolation.State) error {
	s := savedState{State: *st}
	if old, err := c.load(); err == nil {
		s.Started = old.Started
		s.MonitorStart = old.MonitorStart
		s.Pod = old.Pod
		s.Paused = old.Paused
	}
	if st.Pid > 0 && s.MonitorStart == 0 {
		s.MonitorStart = startTime(st.Pid)
	}
	return writeJSON(filepath.Join(c.dir, "state.json"), &s)
}

// startTime is the process's start time (clock ticks after boot), 0 when it
// is gone.
func startTime(pid int) uint64 {
	st, err := system.Stat(pid)
	if err != nil {
		return 0
	}
	return st.StartTime
}

// alive tells whether the monitor still runs (and is not a zombie).
func (s *savedState) alive() bool {
	if s.Pid <= 0 {
		return false
	}
	st, err := system.Stat(s.Pid)
	return err == nil && st.StartTime == s.MonitorStart && st.State != system.Zombie && st.State != system.Dead
}

// stop kills the container's monitor (its VM goes with it) and waits until
// its state reads stopped.
func (s *savedState) stop() {
	_ = unix.Kill(s.Pid, unix.SIGKILL)
	s.waitStopped()
}

// waitStopped waits, for a bounded time, until the monitor is gone.
func (s *savedState) waitStopped() {
	deadline := time.Now().Add(10 * time.Second)
	for s.alive() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
}

func (c *container) State() (*isolation.State, error) {
	s, err := c.load()
	if err != nil {
		return nil, err
	}
	st := s.State
	switch {
	case st.Status == "creating":
	case !s.alive():
		st.Status, st.Pid = "stopped", 0
	case s.Started:
		st.Status = "running"
		if s.Paused || c.vmFrozen(s) {
			st.Status = "paused"
		}
	default:
		st.Status = "created"
	}
	return &st, nil
}

// vmDir is the state directory of the container's VM: its own, or its pod
// sandbox's.
func (c *container) vmDir() string {
	if s, err := c.load(); err == nil && s.Pod != "" {
		return filepath.Join(c.root, s.Pod)
	}
	return c.dir
}

// vmFrozen tells whether the container's VM is frozen (pause of the pod's
// sandbox container).
func (c *container) vmFrozen(s *savedState) bool {
	vm := c
	if s.Pod != "" {
		vm = &container{root: c.root, id: s.Pod, dir: filepath.Join(c.root, s.Pod)}
	}
	cg, err := vm.cgroup()
	return err == nil && frozen(cg)
}

// call sends a request about this container to its VM's monitor and waits
// for the answer: what it wrote on stdout, or an error with what it wrote
// on stderr.
func (c *container) call(req control) (string, error) {
	req.ID = c.id
	cc, nc, err := request(c.vmDir(), req)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	var out, errOut []byte
	for {
		f, err := cc.recv()
		if err != nil {
			return "", fmt.Errorf("the VM monitor did not answer: %w", err)
		}
		switch f.kind {
		case kindStdout:
			out = append(out, f.payload...)
		case kindStderr:
			errOut = append(errOut, f.payload...)
		case kindExit:
			var ex exitMsg
			if err := json.Unmarshal(f.payload, &ex); err != nil {
				return "", err
			}
			if ex.Err != "" {
				return "", errors.New(ex.Err)
			}
			if ex.Status != 0 {
				msg := strings.TrimPrefix(strings.TrimSpace(string(errOut)), "runx: ")
				if msg == "" {
					msg = "in the guest: " + describe(ex)
				}
				return "", errors.New(msg)
			}
			return string(out), nil
		}
	}
}

// request connects to the monitor of the VM in dir and sends it req; the
// answer is to be read from the returned conn, closed with nc.
func request(dir string, req control) (cc *conn, nc net.Conn, err error) {
	nc, err = dialIn(dir, "monitor.sock", 5*time.Second)
	if err != nil {
		return nil, nil, isolation.ErrNotRunning
	}
	cc = &conn{rw: nc}
	if err := cc.sendJSON(kindRun, req); err != nil {
		nc.Close()
		return nil, nil, err
	}
	return cc, nc, nil
}

// guest runs a runx command on the container in its VM (one of
// guestCommands) and returns its stdout.
func (c *container) guest(input []byte, args ...string) (string, error) {
	s, err := c.load()
	if err != nil {
		return "", err
	}
	if !s.alive() {
		return "", isolation.ErrNotRunning
	}
	if c.vmFrozen(s) {
		return "", isolation.ErrPaused // the guest cannot answer
	}
	return c.call(control{Op: "runx", Args: args, Input: input})
}

func (c *container) Start() error {
	s, err := c.load()
	if err != nil {
		return err
	}
	if !s.alive() {
		return errors.New("cannot start a container that has stopped")
	}
	if s.Started {
		return errors.New("cannot start an already running container")
	}
	if _, err := c.call(control{Op: "start"}); err != nil {
		// As in the namespace mode (a startContainer hook failed in the
		// guest, say): a container whose start failed is stopped.
		s.stop()
		return err
	}
	s.Started = true
	if err := writeJSON(filepath.Join(c.dir, "state.json"), s); err != nil {
		return err
	}
	if err := loadLaterHooks(c.dir).poststart(c.ociState(&s.State, specs.StateRunning)); err != nil {
		s.stop()
		return err
	}
	return nil
}

// ociState is the state hooks get.
func (c *container) ociState(st *isolation.State, status specs.ContainerState) *specs.State {
	return &specs.State{Version: st.OCIVersion, ID: c.id, Status: status, Pid: st.Pid, Bundle: st.Bundle, Annotations: st.Annotations}
}

func (c *container) Signal(sig syscall.Signal, all bool) error {
	s, err := c.load()
	if err != nil {
		return err
	}
	if !s.alive() {
		return isolation.ErrNotRunning
	}
	if sig == 0 {
		// Only a check: the monitor (or a member's relay) lives as long as
		// the container's process in the guest.
		return nil
	}
	if sig == unix.SIGKILL && !all {
		// The monitor dies, and the VM with it; a relay dies, and its
		// container in the pod's VM with it.
		return unix.Kill(s.Pid, unix.SIGKILL)
	}
	if c.vmFrozen(s) || s.Paused {
		if all {
			return isolation.ErrPaused
		}
		if s.Pod == "" {
			// Pending on the monitor, which forwards it once thawed.
			return unix.Kill(s.Pid, sig)
		}
	}
	op := "signal"
	if all {
		op = "signal-all"
	}
	_, err = c.call(control{Op: op, Signal: int(sig)})
	return err
}

func (c *container) Delete(force bool) error {
	s, err := c.load()
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return isolation.ErrNotExist
		}
		if !force {
			return err
		}
		return c.destroy()
	}
	if s.alive() {
		if !force {
			st, _ := c.State()
			return fmt.Errorf("cannot delete container %s that is not stopped: %s", c.id, st.Status)
		}
		_ = unix.Kill(s.Pid, unix.SIGKILL)
		if cg, err := c.cgroup(); err == nil {
			_ = freeze(cg, cgroups.Thawed) // a paused VM dies once thawed
		}
		s.waitStopped()
	}
	return c.destroy()
}

// destroy kills what may be left of the VM, removes its cgroup and the
// state.
func (c *container) destroy() error {
	hooks := loadLaterHooks(c.dir)
	var st *specs.State
	s, err := c.load()
	if err == nil && hooks != nil {
		st = c.ociState(&s.State, specs.StateStopped)
		st.Pid = 0
	}
	if err == nil && s.Pod != "" {
		// A pod's later container: gone from the guest and the shared
		// tree too (unless the VM is gone already).
		if _, err := c.call(control{Op: "remove"}); err != nil && !errors.Is(err, isolation.ErrNotRunning) {
			return fmt.Errorf("container %s: %w", c.id, err)
		}
	}
	var cfg monitorConfig
	if b, err := os.ReadFile(filepath.Join(c.dir, "monitor.json")); err == nil && json.Unmarshal(b, &cfg) == nil && cfg.Netns != "" {
		// A namespace joined by path outlives the VM: a killed monitor
		// left its tap and redirects there.
		if ns, err := netns.GetFromPath(cfg.Netns); err == nil {
			_ = tap.InNetns(ns, func() error { unwireNetwork(); return nil })
			ns.Close()
		}
	}
	if cg, err := c.cgroup(); err == nil {
		if err := removeCgroup(cg); err != nil {
			return fmt.Errorf("container %s: removing the VM's cgroup: %w", c.id, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(c.dir, "vm.pids")); err == nil {
		var pids []int
		_ = json.Unmarshal(b, &pids)
		for _, p := range pids {
			// Only the VM's own processes, not a later one with a reused pid.
			if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", p)); exe == qemuBinary || exe == virtiofsd {
				_ = unix.Kill(p, unix.SIGKILL)
			}
		}
	}
	if err := os.RemoveAll(c.dir); err != nil {
		return err
	}
	if st != nil {
		hooks.poststop(st)
	}
	return nil
}

var errNotYet = errors.New("not supported in the microvm isolation mode yet")

// Processes are the host processes that stand for the container's (the
// monitor, and each exec's runx): what engines wait for and signal, as the
// pids runc lists are. The guest's own processes are in ps's table.
func (c *container) Processes() ([]int, error) {
	st, err := c.State()
	if err != nil {
		return nil, err
	}
	if st.Status == "stopped" {
		return nil, nil
	}
	out, err := c.call(control{Op: "pids"})
	if err != nil {
		return nil, err
	}
	var pids []int
	if err := json.Unmarshal([]byte(out), &pids); err != nil {
		return nil, fmt.Errorf("ps: the VM monitor's answer: %w", err)
	}
	return pids, nil
}

// ProcessTable is the guest's ps table: the container's processes in the
// VM, with the guest's pids, as ps -ef lays them out in the guest.
func (c *container) ProcessTable(psArgs []string) (string, error) {
	return c.guest(nil, append([]string{"ps", c.id}, psArgs...)...)
}

// Update changes the container's cgroup limits in the guest (the VM's size
// stays: its memory and vCPUs are fixed at boot).
func (c *container) Update(r *specs.LinuxResources) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = c.guest(b, "update", "--resources", "@input", c.id)
	return err
}

// Stats are the container's cgroup figures in the guest.
func (c *container) Stats() (*types.Stats, error) {
	out, err := c.guest(nil, "events", "--stats", c.id)
	if err != nil {
		return nil, err
	}
	var ev struct {
		Data json.RawMessage `json:"data"` // types.Event's is an any: numbers would lose bits
	}
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		return nil, fmt.Errorf("events --stats: the guest's answer %q: %w", out, err)
	}
	var st types.Stats
	if err := json.Unmarshal(ev.Data, &st); err != nil {
		return nil, fmt.Errorf("events --stats: the guest's figures: %w", err)
	}
	return &st, nil
}

// OOMNotify tells of the guest kernel's OOM kills in the container, as
// runx events in the guest reports them (runc's "oom" events).
func (c *container) OOMNotify() (<-chan struct{}, error) {
	// Its stats only every 10 years: the host's events reads them itself.
	cc, nc, err := request(c.vmDir(), control{Op: "runx", ID: c.id, Args: []string{"events", "--interval", "87600h", c.id}})
	if err != nil {
		return nil, err
	}
	ch := make(chan struct{}, 1)
	go func() {
		defer nc.Close()
		defer close(ch)
		var line []byte
		for {
			f, err := cc.recv()
			if err != nil || f.kind == kindExit {
				return
			}
			if f.kind != kindStdout {
				continue
			}
			line = append(line, f.payload...)
			for {
				i := bytes.IndexByte(line, '\n')
				if i < 0 {
					break
				}
				var ev struct {
					Type string `json:"type"`
				}
				if json.Unmarshal(line[:i], &ev) == nil && ev.Type == "oom" {
					select {
					case ch <- struct{}{}:
					default:
					}
				}
				line = line[i+1:]
			}
		}
	}()
	return ch, nil
}

func killPid(pid int) error { return unix.Kill(pid, unix.SIGKILL) }

// cgroup is the VM's host cgroup config.
func (c *container) cgroup() (*cgroups.Cgroup, error) {
	var cfg monitorConfig
	b, err := os.ReadFile(filepath.Join(c.dir, "monitor.json"))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &cfg); err != nil || cfg.Cgroup == nil {
		return nil, fmt.Errorf("container %s: %s/monitor.json names no cgroup", c.id, c.dir)
	}
	return cfg.Cgroup, nil
}

// Pause freezes the whole VM (the monitor, QEMU and virtiofsd), as runc
// freezes a container's processes; a pod's later container is paused in
// the guest.
func (c *container) Pause() error {
	st, err := c.State()
	if err != nil {
		return err
	}
	if st.Status != "running" {
		return isolation.ErrNotRunning
	}
	if s, err := c.load(); err == nil && s.Pod != "" {
		return c.pauseMember(s, true)
	}
	cg, err := c.cgroup()
	if err != nil {
		return err
	}
	return freeze(cg, cgroups.Frozen)
}

func (c *container) Resume() error {
	st, err := c.State()
	if err != nil {
		return err
	}
	if st.Status != "paused" {
		return isolation.ErrNotPaused
	}
	if s, err := c.load(); err == nil && s.Pod != "" && s.Paused {
		return c.pauseMember(s, false)
	}
	cg, err := c.cgroup()
	if err != nil {
		return err
	}
	return freeze(cg, cgroups.Thawed)
}

// pauseMember pauses or resumes a pod's later container in the guest.
func (c *container) pauseMember(s *savedState, pause bool) error {
	cmd := "resume"
	if pause {
		cmd = "pause"
	}
	if _, err := c.guest(nil, cmd, c.id); err != nil {
		return err
	}
	s.Paused = pause
	return writeJSON(filepath.Join(c.dir, "state.json"), s)
}
