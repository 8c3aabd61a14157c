package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/urfave/cli/v2"

	"github.com/runx-dev/runx/internal/tap"
	"github.com/runx-dev/runx/vmm"
	"github.com/runx-dev/runx/vmm/devices/vsock"
)

func init() {
	// The jail's parent-death signal is armed by the main thread (the one
	// the kernel looks at): the command runs there when it is the first
	// argument, as the microvm monitor starts it.
	if len(os.Args) > 1 && os.Args[1] == "vmm" {
		runtime.LockOSThread()
		// Its name in ps and top (started as /proc/self/exe: "exe").
		_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&[]byte("runx-vmm\x00")[0])), 0, 0, 0)
	}
}

// vmmCommand runs one VM in runx's own VMM, its serial console on stdout:
// what the microvm mode's monitor will start, and a way to try a kernel.
var vmmCommand = &cli.Command{
	Name:   "vmm",
	Usage:  "boot a Linux kernel in runx's own KVM virtual machine monitor (serial console on stdout)",
	Hidden: true,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "kernel", Usage: "an ELF vmlinux with a PVH entry, or a bzImage", Required: true},
		&cli.StringFlag{Name: "initrd", Usage: "an initramfs"},
		&cli.StringFlag{Name: "cmdline", Usage: "the kernel's command line"},
		&cli.IntFlag{Name: "mem", Usage: "guest memory in MiB", Value: 256},
		&cli.IntFlag{Name: "cpus", Usage: "vCPUs", Value: 1},
		&cli.StringFlag{Name: "console", Usage: "where the serial console's output goes (a file, or fd:N an inherited descriptor; default stdout)"},
		&cli.BoolFlag{Name: "rng", Usage: "a virtio-rng device"},
		&cli.Uint64Flag{Name: "vsock-cid", Usage: "the guest's vsock address (a virtio-vsock device when given)"},
		&cli.StringFlag{Name: "vsock-uds", Usage: "the vsock's Unix socket (or fd:N a listening one): host programs connect and write \"CONNECT <port>\\n\"; a guest's connection to host port P goes to PATH_P"},
		&cli.StringFlag{Name: "kvm", Usage: "the KVM device (or fd:N an inherited descriptor of it)", Value: "/dev/kvm"},
		&cli.BoolFlag{Name: "jail", Usage: "take an empty root and drop to uid 1 once every file is open: the caller started this VMM as root of a user and mount namespace of its own (vmm/jail.go)"},
		&cli.BoolFlag{Name: "seccomp", Usage: "run under the VMM's seccomp filters (vmm/seccomp.go)"},
		&cli.StringSliceFlag{Name: "net", Usage: "TAP[,mac=MAC]: a virtio-net device on the existing tap device TAP (or fd:N one attached with IFF_VNET_HDR)"},
		&cli.StringSliceFlag{Name: "block", Usage: "FILE[,ro][,id=SERIAL]: a virtio-blk disk on FILE, a raw image or block device (or fd:N an inherited descriptor of one)"},
		&cli.StringSliceFlag{Name: "fs", Usage: "TAG=SOCKET: a virtio-fs device served by the vhost-user back end (virtiofsd) at SOCKET (or fd:N a connected socket)"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 0, true); err != nil {
			return err
		}
		cfg := vmm.Config{
			Kernel:  c.String("kernel"),
			Initrd:  c.String("initrd"),
			Cmdline: c.String("cmdline"),
			MemMiB:  c.Int("mem"),
			VCPUs:   c.Int("cpus"),
			Console: os.Stdout,
			RNG:     c.Bool("rng"),
			Seccomp: c.Bool("seccomp"),
		}
		if v := c.String("console"); v != "" {
			f, err := openArg(v, func(p string) (*os.File, error) { return os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600) })
			if err != nil {
				return fmt.Errorf("--console: %w", err)
			}
			defer f.Close()
			cfg.Console = f
		}
		if c.IsSet("vsock-cid") {
			v, err := vmmVsock(c.Uint64("vsock-cid"), c.String("vsock-uds"))
			if err != nil {
				return err
			}
			defer v.Listener.Close()
			cfg.Vsock = v
		}
		for _, f := range c.StringSlice("fs") {
			tag, sock, ok := strings.Cut(f, "=")
			if !ok {
				return fmt.Errorf("--fs %q: not TAG=SOCKET", f)
			}
			conn, err := unixConn(sock)
			if err != nil {
				return fmt.Errorf("--fs %s: the vhost-user back end: %w", tag, err)
			}
			cfg.FS = append(cfg.FS, vmm.FS{Tag: tag, Backend: conn})
		}
		for _, b := range c.StringSlice("block") {
			disk, err := vmmBlock(b)
			if err != nil {
				return fmt.Errorf("--block %s: %w", b, err)
			}
			defer disk.File.Close()
			cfg.Block = append(cfg.Block, disk)
		}
		for _, n := range c.StringSlice("net") {
			nic, err := vmmNet(n)
			if err != nil {
				return fmt.Errorf("--net %s: %w", n, err)
			}
			defer nic.Tap.Close()
			cfg.Net = append(cfg.Net, nic)
		}
		// Every file is read or opened before the jail: it has no paths.
		var err error
		if cfg.KernelImage, err = readArg(cfg.Kernel); err != nil {
			return fmt.Errorf("--kernel: %w", err)
		}
		if cfg.Initrd != "" {
			if cfg.InitrdImage, err = readArg(cfg.Initrd); err != nil {
				return fmt.Errorf("--initrd: %w", err)
			}
		}
		// KVM by path is opened by vmm.New once the configuration is
		// checked; inherited, or before the jail, here.
		if f, ok, err := inheritedFile(c.String("kvm")); ok {
			if err != nil {
				return fmt.Errorf("--kvm: %w", err)
			}
			cfg.KVMFile = f
		} else if c.Bool("jail") {
			if cfg.KVMFile, err = os.OpenFile(c.String("kvm"), os.O_RDWR, 0); err != nil {
				return fmt.Errorf("--kvm: %w", err)
			}
		} else {
			cfg.KVM = c.String("kvm")
		}
		if cfg.KVMFile != nil {
			defer cfg.KVMFile.Close()
		}
		if c.Bool("jail") {
			if err := vmm.EnterJail(); err != nil {
				return err
			}
		}
		m, err := vmm.New(cfg)
		if err != nil {
			return err
		}
		// The kernel and initramfs are in guest memory now: their copies
		// (tens of MiB) go back to the host before the guest runs.
		cfg.KernelImage, cfg.InitrdImage = nil, nil
		debug.FreeOSMemory()
		defer m.Close()
		if end := m.Run(); end.Err != nil {
			return fmt.Errorf("the VM failed: %w", end.Err)
		}
		return nil
	},
}

// vmmVsock listens on path for host programs (Firecracker's uds_path);
// guests' connections to host port P go to path_P. With fd:N the listener
// is inherited and guests' connections are refused.
func vmmVsock(cid uint64, path string) (*vsock.Config, error) {
	if path == "" {
		return nil, fmt.Errorf("--vsock-cid needs --vsock-uds")
	}
	if f, ok, err := inheritedFile(path); ok {
		if err != nil {
			return nil, fmt.Errorf("--vsock-uds: %w", err)
		}
		defer f.Close()
		l, err := net.FileListener(f)
		if err != nil {
			return nil, fmt.Errorf("--vsock-uds %s: %w", path, err)
		}
		ul, ok := l.(*net.UnixListener)
		if !ok {
			l.Close()
			return nil, fmt.Errorf("--vsock-uds %s: not a Unix socket", path)
		}
		return &vsock.Config{CID: cid, Listener: ul}, nil
	}
	_ = os.Remove(path)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("--vsock-uds: %w", err)
	}
	return &vsock.Config{CID: cid, Listener: l, Dial: func(port uint32) (net.Conn, error) {
		return net.Dial("unix", fmt.Sprintf("%s_%d", path, port))
	}}, nil
}

// readArg reads a file named by path or inherited as fd:N.
func readArg(arg string) ([]byte, error) {
	f, err := openArg(arg, os.Open)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// vmmBlock opens the file of a --block argument, FILE[,ro][,id=SERIAL].
func vmmBlock(arg string) (vmm.Block, error) {
	parts := strings.Split(arg, ",")
	var b vmm.Block
	for _, o := range parts[1:] {
		switch {
		case o == "ro":
			b.ReadOnly = true
		case strings.HasPrefix(o, "id="):
			b.ID = o[3:]
		default:
			return b, fmt.Errorf("%q: the options are ro and id=", o)
		}
	}
	flag := os.O_RDWR
	if b.ReadOnly {
		flag = os.O_RDONLY
	}
	f, err := openArg(parts[0], func(p string) (*os.File, error) { return os.OpenFile(p, flag, 0) })
	if err != nil {
		return b, err
	}
	b.File = f
	return b, nil
}

// vmmNet opens the tap of a --net argument, TAP[,mac=MAC].
func vmmNet(arg string) (vmm.Net, error) {
	name, opt, _ := strings.Cut(arg, ",")
	var n vmm.Net
	if opt != "" {
		v, ok := strings.CutPrefix(opt, "mac=")
		if !ok {
			return n, fmt.Errorf("%q: the only option is mac=", opt)
		}
		mac, err := net.ParseMAC(v)
		if err != nil || len(mac) != 6 {
			return n, fmt.Errorf("mac=%s: not a MAC address", v)
		}
		n.MAC = mac
	}
	fd, ok, err := inheritedFD(name)
	if !ok {
		fd, err = tap.Open(name, unix.IFF_TAP|unix.IFF_NO_PI|unix.IFF_VNET_HDR)
	}
	if err != nil {
		return n, err
	}
	// An inherited descriptor came through exec blocking: the device's
	// reader must be able to stop (Go's poller, deadlines).
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return n, err
	}
	n.Tap = os.NewFile(uintptr(fd), name)
	return n, nil
}

// inheritedFile is the descriptor N of an argument fd:N (ok false for a
// path).
func inheritedFile(arg string) (*os.File, bool, error) {
	fd, ok, err := inheritedFD(arg)
	if !ok || err != nil {
		return nil, ok, err
	}
	return os.NewFile(uintptr(fd), arg), true, nil
}

// inheritedFD is inheritedFile's descriptor, close-on-exec.
func inheritedFD(arg string) (int, bool, error) {
	n, ok := strings.CutPrefix(arg, "fd:")
	if !ok {
		return -1, false, nil
	}
	fd, err := strconv.Atoi(n)
	if err != nil || fd < 3 {
		return -1, true, fmt.Errorf("%s: not fd:N with N an inherited descriptor (3 or more)", arg)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
		return -1, true, fmt.Errorf("%s: %w", arg, err)
	}
	unix.CloseOnExec(fd)
	return fd, true, nil
}

// openArg opens a path with open, or takes an inherited fd:N.
func openArg(arg string, open func(string) (*os.File, error)) (*os.File, error) {
	if f, ok, err := inheritedFile(arg); ok {
		return f, err
	}
	return open(arg)
}

// unixConn connects to a Unix socket, or takes an inherited connected one.
func unixConn(arg string) (*net.UnixConn, error) {
	f, ok, err := inheritedFile(arg)
	if !ok {
		return net.DialUnix("unix", nil, &net.UnixAddr{Name: arg, Net: "unix"})
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("%s: not a Unix socket", arg)
	}
	return uc, nil
}
