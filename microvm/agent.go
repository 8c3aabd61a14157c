package microvm

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The guest agent: runx is the guest's /init. It mounts what a container
// runtime needs, loads the kernel modules the initramfs carries, mounts the
// container's root file system that the host shares over virtio-fs, and
// then runs what the monitor asks on the agent port: runx's own commands
// (create, start, kill, ...), so that a container in the guest is made by
// the namespace mode's code with the whole OCI config, as on a host.

const (
	guestState = "/run/runx" // the guest runx's --root
	agentPort  = "agent"     // the virtio-serial port's name
	// agentVsockArg on the guest's command line: the agent listens on
	// vsock port agentVsockPort instead (runx's own VMM has no
	// virtio-serial; its host side reaches the port with Firecracker's
	// CONNECT handshake).
	agentVsockArg  = "runx.agent=vsock"
	agentVsockPort = 1024
)

// Where a container's files are in the guest: its config.json and pid file
// (written by the guest's runx), its root in the shared tree.
func guestBundle(id string) string  { return "/run/bundle/" + id }
func guestPidFile(id string) string { return guestBundle(id) + "/pid" }
func guestRoot(id string) string    { return guestShare + "/" + id + "/rootfs" }

func agentMain([]string) {
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "runx: /init is the microvm guest agent and runs as the guest's first process")
		os.Exit(2)
	}
	if err := agent(); err != nil {
		fmt.Fprintf(os.Stderr, "runx agent: %v\n", err)
	}
	// pid 1 must not exit: power off, which the monitor sees.
	unix.Sync()
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}

func agent() error {
	if err := leaveInitramfs(); err != nil {
		return err
	}
	if err := guestMounts(); err != nil {
		return err
	}
	cmdline := strings.Fields(readFile("/proc/cmdline"))
	debug = slices.Contains(cmdline, "runx.debug")
	debugf("mounted")
	loadModules("/lib/modules")
	debugf("modules loaded")
	var open func() (*os.File, error)
	if slices.Contains(cmdline, agentVsockArg) {
		l, err := listenVsock(agentVsockPort)
		if err != nil {
			return err
		}
		open = func() (*os.File, error) { return acceptOne(l) }
	} else {
		port, err := findPort(agentPort, 10*time.Second)
		if err != nil {
			return err
		}
		debugf("agent port %s", port)
		open = func() (*os.File, error) { return os.OpenFile(port, os.O_RDWR, 0) }
	}
	if err := loopbackUp(); err != nil {
		return fmt.Errorf("the guest's lo: %w", err)
	}
	if err := os.MkdirAll(guestShare, 0o755); err != nil {
		return err
	}
	// The rootfs is read-write, as a bundle's rootfs is on a host: runx in
	// the guest makes the mount points, then makes the container's root
	// read-only when root.readonly says so, as runc does.
	if err := unix.Mount(shareTag, guestShare, "virtiofs", 0, ""); err != nil {
		return fmt.Errorf("mount the host's shared tree (virtiofs %s): %w", shareTag, err)
	}
	f, err := open()
	if err != nil {
		return err
	}
	a := &agentState{byPid: map[int]*guestProc{}}
	go a.reap()
	debugf("ready")
	return serveAgent(f, a)
}

// leaveInitramfs moves the agent onto a tmpfs root and starts it again
// there: the initramfs is the mount namespace's first mount, from which no
// container can pivot_root (EINVAL). What the initramfs held is removed.
func leaveInitramfs() error {
	var st unix.Statfs_t
	if err := unix.Statfs("/", &st); err != nil {
		return err
	}
	if st.Type != unix.RAMFS_MAGIC && st.Type != unix.TMPFS_MAGIC {
		return nil
	}
	if _, err := os.Stat("/.runx-root"); err == nil {
		return nil // already on the tmpfs
	}
	const nr = "/newroot"
	if err := os.MkdirAll(nr, 0o755); err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", nr, "tmpfs", 0, "mode=0755"); err != nil {
		return fmt.Errorf("tmpfs for the guest's root: %w", err)
	}
	files := []string{"init", "lib/modules/order"}
	mods, _ := filepath.Glob("/lib/modules/*.ko")
	for _, m := range mods {
		files = append(files, strings.TrimPrefix(m, "/"))
	}
	for _, f := range files {
		b, err := os.ReadFile("/" + f)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(nr, filepath.Dir(f)), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if f == "init" {
			mode = 0o755
		}
		if err := os.WriteFile(filepath.Join(nr, f), b, mode); err != nil {
			return err
		}
		_ = os.Remove("/" + f) // the initramfs's memory back
	}
	for _, d := range []string{"dev", "proc", "sys", "run", "tmp"} {
		_ = os.Mkdir(filepath.Join(nr, d), 0o755)
	}
	if err := os.WriteFile(filepath.Join(nr, ".runx-root"), nil, 0o444); err != nil {
		return err
	}
	if err := os.Chdir(nr); err != nil {
		return err
	}
	if err := unix.Mount(".", "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("moving the guest's root: %w", err)
	}
	if err := unix.Chroot("."); err != nil {
		return err
	}
	if err := os.Chdir("/"); err != nil {
		return err
	}
	return unix.Exec("/init", []string{"/init"}, os.Environ())
}

var debug bool

func debugf(format string, a ...any) {
	if debug {
		fmt.Fprintf(os.Stderr, "runx agent: "+format+"\n", a...)
	}
}

// guestMounts makes the file systems runx and the container need.
func guestMounts() error {
	for _, m := range []struct{ src, dst, typ, data string }{
		{"proc", "/proc", "proc", ""},
		{"sysfs", "/sys", "sysfs", ""},
		{"devtmpfs", "/dev", "devtmpfs", ""},
		{"tmpfs", "/run", "tmpfs", "mode=0755"},
		{"tmpfs", "/tmp", "tmpfs", "mode=1777"},
		{"cgroup2", "/sys/fs/cgroup", "cgroup2", ""},
		{"devpts", "/dev/pts", "devpts", "newinstance,ptmxmode=0666"},
		{"tmpfs", "/dev/shm", "tmpfs", "mode=1777"},
	} {
		if err := os.MkdirAll(m.dst, 0o755); err != nil {
			return err
		}
		if err := unix.Mount(m.src, m.dst, m.typ, unix.MS_NOSUID, m.data); err != nil && err != unix.EBUSY {
			return fmt.Errorf("mount %s on %s: %w", m.typ, m.dst, err)
		}
	}
	// Every controller for the containers' cgroups.
	ctrls, _ := os.ReadFile("/sys/fs/cgroup/cgroup.controllers")
	var plus []string
	for _, c := range strings.Fields(string(ctrls)) {
		plus = append(plus, "+"+c)
	}
	_ = os.WriteFile("/sys/fs/cgroup/cgroup.subtree_control", []byte(strings.Join(plus, " ")), 0)
	return nil
}

// loadModules loads the initramfs's modules listed in dir/order, in passes
// until none more loads: a module whose dependencies are not loaded yet
// fails with ENOENT (an unknown symbol) and is tried again.
func loadModules(dir string) {
	left := strings.Fields(readFile(filepath.Join(dir, "order")))
	errs := map[string]error{}
	for len(left) > 0 {
		var again []string
		for _, n := range left {
			f, err := os.Open(filepath.Join(dir, n))
			if err != nil {
				errs[n] = err
				continue
			}
			err = unix.FinitModule(int(f.Fd()), "", 0)
			f.Close()
			if err != nil && err != unix.EEXIST {
				errs[n] = err
				again = append(again, n)
			}
		}
		if len(again) == len(left) {
			for _, n := range again {
				fmt.Fprintf(os.Stderr, "runx agent: module %s: %v\n", n, errs[n])
			}
			return
		}
		left = again
	}
}

// listenVsock listens on the guest's vsock port.
func listenVsock(port uint32) (int, error) {
	fd, err := unix.Socket(unix.AF_VSOCK, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("the agent's vsock: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrVM{CID: unix.VMADDR_CID_ANY, Port: port}); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("the agent's vsock port %d: %w", port, err)
	}
	if err := unix.Listen(fd, 1); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("the agent's vsock port %d: %w", port, err)
	}
	return fd, nil
}

// acceptOne takes the monitor's connection and closes the listener: the
// agent serves one host.
func acceptOne(l int) (*os.File, error) {
	defer unix.Close(l)
	for {
		fd, _, err := unix.Accept4(l, unix.SOCK_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("the agent's vsock: %w", err)
		}
		return os.NewFile(uintptr(fd), "vsock"), nil
	}
}

// findPort waits for the virtio-serial port called name to appear.
func findPort(name string, limit time.Duration) (string, error) {
	deadline := time.Now().Add(limit)
	for {
		ports, _ := filepath.Glob("/sys/class/virtio-ports/*")
		sort.Strings(ports)
		for _, p := range ports {
			if strings.TrimSpace(readFile(p+"/name")) == name {
				dev := "/dev/" + filepath.Base(p)
				if _, err := os.Stat(dev); err == nil {
					return dev, nil
				}
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no virtio-serial port named %q", name)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}
