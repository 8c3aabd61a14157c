package microvm

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"path/filepath"

	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/runx-dev/runx/internal/tap"
	"golang.org/x/sys/unix"
)

// Hypervisor boots a VM: QEMU, or runx's own VMM (vmm/) where the host has
// hardware virtualization. hypervisors names them as
// dev.runx.microvm.hypervisor does.
type Hypervisor interface {
	Name() string
	// Boot starts the VM described by cfg; the VM runs until Stop or its
	// kernel powers off.
	Boot(cfg *VMConfig) (VM, error)
}

var hypervisors = map[string]Hypervisor{"qemu": qemu{}, "runx": runxVMM{}}

// VM is a running virtual machine.
type VM interface {
	// Pids are the host processes of the VM (hypervisor, device daemons).
	Pids() []int
	// SharePid is the process whose mount namespace holds the shared tree
	// (virtiofsd), where a pod's later containers' files are added.
	SharePid() int
	// DialAgent connects to the guest agent's channel, waiting at most
	// limit for the hypervisor to offer it.
	DialAgent(limit time.Duration) (net.Conn, error)
	// Wait returns when the VM has ended.
	Wait() error
	// Stop ends the VM at once.
	Stop()
}

// VMConfig is what a VM is made of.
type VMConfig struct {
	Kernel, Initrd string
	Cmdline        string
	MemoryMiB      int
	VCPUs          int
	Hypervisor     string // qemu or runx (hypervisors)
	Accel          string // tcg or kvm (QEMU's; runx's VMM is KVM only)
	Dir            string // sockets and logs of this VM
	// Shares are the host paths the guest sees in the virtio-fs tree (tag
	// "share"): the rootfs, and the sources of bind mounts.
	Shares []Share
	// Tap is the tap device of the VM's NIC ("": none).
	Tap string
}

// Paths of the programs QEMU's backend runs (Debian's qemu-system-x86 and
// qemu-system-common).
var (
	qemuBinary = "/usr/bin/qemu-system-x86_64"
	virtiofsd  = "/usr/lib/qemu/virtiofsd"
)

// procVM is a VM made of two host processes: the hypervisor and virtiofsd.
type procVM struct {
	vfs, hv *exec.Cmd
	done    chan struct{} // closed when both have ended
	err     error
	dial    func(limit time.Duration) (net.Conn, error)
}

func (v *procVM) Pids() []int { return []int{v.hv.Process.Pid, v.vfs.Process.Pid} }

func (v *procVM) SharePid() int { return v.vfs.Process.Pid }

func (v *procVM) DialAgent(limit time.Duration) (net.Conn, error) { return v.dial(limit) }

func (v *procVM) Wait() error {
	<-v.done
	return v.err
}

// Stop kills the hypervisor and its daemon and waits for them.
func (v *procVM) Stop() {
	_ = v.hv.Process.Kill()
	_ = v.vfs.Process.Kill()
	<-v.done
}

// child makes a command that dies with its parent (the monitor), in dir:
// socket paths are given relative to it, as a state directory's full path
// may be longer than a unix socket's address can be.
func child(path string, args []string, dir string, log *os.File) *exec.Cmd {
	c := exec.Command(path, args...)
	c.Dir = dir
	c.Stdout, c.Stderr = log, log
	c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	return c
}

// bootProcs starts virtiofsd on the VM's shared tree, then the hypervisor
// that command makes (handed the connection to virtiofsd); name is the
// hypervisor's, for errors.
func bootProcs(cfg *VMConfig, name string, command func(vfsConn net.Conn, log *os.File) (*exec.Cmd, error)) (*procVM, error) {
	log, err := os.OpenFile(cfg.Dir+"/vm.log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	// virtiofsd names its pid file (in /run/virtiofsd) after the socket's
	// path as given: each VM's must differ.
	sum := sha256.Sum256([]byte(cfg.Dir))
	vfsSock := "virtiofs-" + hex.EncodeToString(sum[:8]) + ".sock"
	// runx-vm-share makes the tree in a mount namespace of its own and
	// becomes virtiofsd (share.go).
	vfsArgs := []string{shareName, cfg.Dir, virtiofsd, "--socket-path=" + vfsSock, "-o", "source=" + filepath.Join(cfg.Dir, shareDir),
		"-o", "cache=none", "-o", "announce_submounts"}
	vfs := child("/proc/self/exe", nil, cfg.Dir, log)
	vfs.Args = vfsArgs
	vfs.SysProcAttr.Unshareflags = syscall.CLONE_NEWNS
	if err := vfs.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", virtiofsd, err)
	}
	vfsDone := make(chan struct{})
	go func() { _ = vfs.Wait(); close(vfsDone) }()
	vfsConn, err := dialDaemon(cfg.Dir, vfsSock, vfsDone, 10*time.Second)
	if err != nil {
		_ = vfs.Process.Kill()
		<-vfsDone
		return nil, fmt.Errorf("%s: %w (its log: %s)", virtiofsd, err, tail(cfg.Dir+"/vm.log"))
	}
	hv, err := command(vfsConn, log)
	if err == nil {
		err = hv.Start()
		for _, f := range hv.ExtraFiles {
			f.Close()
		}
	}
	if err != nil {
		_ = vfs.Process.Kill()
		<-vfsDone
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	v := &procVM{vfs: vfs, hv: hv, done: make(chan struct{})}
	go func() {
		err := hv.Wait()
		_ = vfs.Process.Kill()
		<-vfsDone
		if err != nil {
			v.err = fmt.Errorf("%s: %w (its log: %s)", name, err, tail(cfg.Dir+"/vm.log"))
		}
		close(v.done)
	}()
	return v, nil
}

type qemu struct{}

func (qemu) Name() string { return "qemu" }

const agentSock = "agent.sock"

func (qemu) Boot(cfg *VMConfig) (VM, error) {
	v, err := bootProcs(cfg, qemuBinary, func(vfsConn net.Conn, log *os.File) (*exec.Cmd, error) {
		return qemuCommand(cfg, agentSock, vfsConn, log)
	})
	if err != nil {
		return nil, err
	}
	// QEMU listens on the agent's socket itself (the virtio-serial port's
	// host end): it accepts before the guest opened the port.
	v.dial = func(limit time.Duration) (net.Conn, error) { return dialDaemon(cfg.Dir, agentSock, nil, limit) }
	return v, nil
}

// The hypervisor's jail. QEMU runs as a user of its own, without
// capabilities, under its own seccomp filter (-sandbox: no obsolete system
// calls, no privilege changes, no process spawning, no scheduler or
// resource changes); what it needs of the host the monitor opens and hands
// it as file descriptors (kernel, initramfs, console log, the agent's
// socket, virtiofsd's socket, the tap), so it needs no path into the state
// directory or the image cache, and no /dev/net/tun.

// jailBase plus the monitor's pid is the user and group QEMU runs as: one
// per running VM (no VM's QEMU may signal or trace another's), in a range
// systemd leaves unused (0x70000000-0x7ffdffff), far above the subordinate
// ranges of user namespaces.
const jailBase = 0x78000000

const qemuSandbox = "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"

// jailFiles are the host files a jailed hypervisor is handed: its
// ExtraFiles, descriptor 3 on.
type jailFiles struct{ files []*os.File }

// add hands f over and returns its number in the hypervisor.
func (j *jailFiles) add(f *os.File) string {
	j.files = append(j.files, f)
	return strconv.Itoa(2 + len(j.files))
}

func (j *jailFiles) close() {
	for _, f := range j.files {
		f.Close()
	}
}

// vmFiles are the numbers of what every jailed hypervisor is handed.
type vmFiles struct {
	kernel, initrd, console, channel, vfs string
	tap                                   string // "": no NIC
	consoleFile                           *os.File
}

// openVMFiles opens into j the guest kernel and initramfs, the console log,
// a listener on the agent channel's socket channel in the VM's directory
// (what), virtiofsd's connection, and the tap of the VM's NIC if it has one.
func openVMFiles(j *jailFiles, cfg *VMConfig, channel, what string, vfsConn net.Conn) (v vmFiles, err error) {
	kernel, err := jailReadable(cfg.Kernel)
	if err != nil {
		return v, fmt.Errorf("the guest kernel: %w", err)
	}
	v.kernel = j.add(kernel)
	initrd, err := jailReadable(cfg.Initrd)
	if err != nil {
		return v, fmt.Errorf("the guest initramfs: %w", err)
	}
	v.initrd = j.add(initrd)
	if v.consoleFile, err = os.OpenFile(filepath.Join(cfg.Dir, "console.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600); err != nil {
		return v, err
	}
	v.console = j.add(v.consoleFile)
	ln, err := listenIn(cfg.Dir, channel)
	if err != nil {
		return v, fmt.Errorf("%s: %w", what, err)
	}
	ul := ln.(*net.UnixListener)
	ul.SetUnlinkOnClose(false)
	lf, err := ul.File()
	ul.Close()
	if err != nil {
		return v, err
	}
	v.channel = j.add(lf)
	vf, err := vfsConn.(*net.UnixConn).File()
	if err != nil {
		return v, err
	}
	v.vfs = j.add(vf)
	if cfg.Tap != "" {
		t, err := tap.Open(cfg.Tap, unix.IFF_TAP|unix.IFF_NO_PI|unix.IFF_VNET_HDR)
		if err != nil {
			return v, fmt.Errorf("the VM's tap %s: %w", cfg.Tap, err)
		}
		v.tap = j.add(os.NewFile(uintptr(t), cfg.Tap))
	}
	return v, nil
}

// qemuCommand is the jailed QEMU for cfg, its files in ExtraFiles (the
// caller closes them once it started); vfsConn is the connection to
// virtiofsd that QEMU is to take over.
func qemuCommand(cfg *VMConfig, agentSock string, vfsConn net.Conn, log *os.File) (_ *exec.Cmd, err error) {
	defer vfsConn.Close() // QEMU gets a descriptor of its own
	uid := uint32(jailBase + os.Getpid())
	var j jailFiles
	defer func() {
		if err != nil {
			j.close()
		}
	}()
	f, err := openVMFiles(&j, cfg, agentSock, "the agent's socket", vfsConn)
	if err != nil {
		return nil, err
	}
	// QEMU opens the console by its /proc/self/fd path: as its own user.
	if err := f.consoleFile.Chown(int(uid), int(uid)); err != nil {
		return nil, err
	}
	mem := strconv.Itoa(cfg.MemoryMiB) + "M"
	args := []string{
		"-M", "microvm,accel=" + cfg.Accel + ",memory-backend=mem,rtc=on",
		"-cpu", "max", "-smp", strconv.Itoa(cfg.VCPUs), "-m", mem,
		"-object", "memory-backend-memfd,id=mem,size=" + mem + ",share=on",
		"-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
		"-sandbox", qemuSandbox,
		"-serial", "file:/proc/self/fd/" + f.console,
		"-kernel", "/proc/self/fd/" + f.kernel, "-initrd", "/proc/self/fd/" + f.initrd, "-append", cfg.Cmdline,
		"-global", "virtio-mmio.force-legacy=false",
		"-device", "virtio-serial-device",
		"-chardev", "socket,id=agent,fd=" + f.channel + ",server=on,wait=off",
		"-device", "virtserialport,chardev=agent,name=" + agentPort,
		"-chardev", "socket,id=vfs,fd=" + f.vfs,
		"-device", "vhost-user-fs-device,chardev=vfs,tag=" + shareTag,
	}
	if f.tap != "" {
		args = append(args, "-netdev", "tap,id=net0,fd="+f.tap, "-device", "virtio-net-device,netdev=net0")
	}
	var groups []uint32
	if cfg.Accel == "kvm" {
		gid, err := kvmGroup()
		if err != nil {
			return nil, err
		}
		groups = append(groups, gid)
	}
	hv := child(qemuBinary, args, "/", log)
	hv.ExtraFiles = j.files
	hv.SysProcAttr.Credential = &syscall.Credential{Uid: uid, Gid: uid, Groups: groups}
	return hv, nil
}

// kvmGroup is /dev/kvm's group, through which a jailed hypervisor opens
// it: never root's.
func kvmGroup() (uint32, error) {
	var st unix.Stat_t
	if err := unix.Stat("/dev/kvm", &st); err != nil {
		return 0, fmt.Errorf("/dev/kvm: %w", err)
	}
	if st.Gid == 0 || st.Mode&0o060 != 0o060 {
		return 0, fmt.Errorf("/dev/kvm (mode %#o, group %d): the jailed hypervisor opens it through its group, which must not be root's and must read and write it (udev gives it group kvm, mode 0660)", st.Mode&0o777, st.Gid)
	}
	return st.Gid, nil
}

// jailReadable opens a file the jailed QEMU is to read through its
// descriptor: reopening /proc/self/fd/N checks the file's mode against the
// jail's user, so a file others may not read is copied into a memfd (a
// guest kernel or initramfs named by an annotation; runx's own are
// world-readable).
func jailReadable(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil || st.Mode().Perm()&0o004 != 0 {
		return f, err
	}
	defer f.Close()
	mfd, err := unix.MemfdCreate("runx-"+filepath.Base(path), unix.MFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	m := os.NewFile(uintptr(mfd), path)
	if _, err := io.Copy(m, f); err != nil {
		m.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// inDir calls f with a short path to name in dir, however long dir's path
// (a unix socket's address holds 107 bytes): through the directory's
// /proc/self/fd link, open while f runs.
func inDir(dir, name string, f func(path string) error) error {
	d, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(d)
	return f(fmt.Sprintf("/proc/self/fd/%d/%s", d, name))
}

// dialIn connects to the unix socket name in dir.
func dialIn(dir, name string, timeout time.Duration) (c net.Conn, err error) {
	err = inDir(dir, name, func(p string) error { c, err = net.DialTimeout("unix", p, timeout); return err })
	return c, err
}

// listenIn listens on the unix socket name in dir.
func listenIn(dir, name string) (l net.Listener, err error) {
	err = inDir(dir, name, func(p string) error { l, err = net.Listen("unix", p); return err })
	return l, err
}

// dialDaemon connects to a daemon's socket name in dir, waiting, at most
// limit, for the daemon to make it and listen on it (a connection is
// refused between its bind and its listen), unless exited (nil: never)
// says the daemon ended first.
func dialDaemon(dir, name string, exited <-chan struct{}, limit time.Duration) (net.Conn, error) {
	deadline := time.Now().Add(limit)
	for {
		nc, err := dialIn(dir, name, time.Second)
		if err == nil {
			return nc, nil
		}
		if !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ECONNREFUSED) {
			return nil, err
		}
		select {
		case <-exited:
			return nil, errors.New("exited before it listened on its socket")
		default:
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("not listening on %s after %v: %w", name, limit, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// tscKHz is the host's TSC rate, which the microvm machine's guest cannot
// calibrate against a PIT it does not have (without it most boots hang).
func tscKHz() (int, error) {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "cpu MHz" {
			mhz, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil && mhz > 0 {
				return int(mhz * 1000), nil
			}
		}
	}
	return 0, errors.New("/proc/cpuinfo has no cpu MHz")
}

// tail is the end of a log, for an error message.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	s := strings.TrimSpace(string(b))
	// A panic's reason and the lines before it say more than its trace.
	if i := strings.Index(s, "Kernel panic - not syncing"); i >= 0 {
		start := i
		for n := 0; n < 4 && start > 0; n++ {
			start = strings.LastIndexByte(s[:start-1], '\n') + 1
		}
		end := i + strings.IndexByte(s[i:]+"\n", '\n')
		return strings.ReplaceAll(s[start:end], "\n", "; ")
	}
	if len(s) > 400 {
		s = "..." + s[len(s)-400:]
	}
	if s == "" {
		return "empty"
	}
	return strings.ReplaceAll(s, "\n", "; ")
}
