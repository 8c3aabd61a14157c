package microvm

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// runxVMM is runx's own VMM (vmm/) as the microvm mode's hypervisor: runx
// itself, run as `runx vmm` under the same jail as QEMU (a user of its own,
// no capabilities, /dev/kvm through its group), handed its files as
// descriptors. The agent's channel is a virtio-vsock: the VMM listens on
// the VM's vsock socket and the monitor reaches the agent's port with
// Firecracker's CONNECT handshake.
type runxVMM struct{}

func (runxVMM) Name() string { return "runx" }

const vsockSock = "vsock.sock"

// guestCID is the guest's vsock address: each VM has its own VMM, so one
// address serves every VM.
const guestCID = 3

func (runxVMM) Boot(cfg *VMConfig) (VM, error) {
	v, err := bootProcs(cfg, "runx vmm", func(vfsConn net.Conn, log *os.File) (*exec.Cmd, error) {
		return vmmCommand(cfg, vfsConn, log)
	})
	if err != nil {
		return nil, err
	}
	v.dial = func(limit time.Duration) (net.Conn, error) {
		return dialVsock(cfg.Dir, vsockSock, agentVsockPort, v.done, limit)
	}
	return v, nil
}

// vmmCommand is the jailed `runx vmm` for cfg, its files in ExtraFiles.
func vmmCommand(cfg *VMConfig, vfsConn net.Conn, log *os.File) (_ *exec.Cmd, err error) {
	defer vfsConn.Close()
	uid := uint32(jailBase + os.Getpid())
	var files []*os.File
	defer func() {
		if err != nil {
			for _, f := range files {
				f.Close()
			}
		}
	}()
	fd := func(f *os.File) string {
		files = append(files, f)
		return strconv.Itoa(2 + len(files))
	}
	kernel, err := jailReadable(cfg.Kernel)
	if err != nil {
		return nil, fmt.Errorf("the guest kernel: %w", err)
	}
	kernelFd := fd(kernel)
	initrd, err := jailReadable(cfg.Initrd)
	if err != nil {
		return nil, fmt.Errorf("the guest initramfs: %w", err)
	}
	initrdFd := fd(initrd)
	console, err := os.OpenFile(filepath.Join(cfg.Dir, "console.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	consoleFd := fd(console)
	ln, err := listenIn(cfg.Dir, vsockSock)
	if err != nil {
		return nil, fmt.Errorf("the VM's vsock socket: %w", err)
	}
	ul := ln.(*net.UnixListener)
	ul.SetUnlinkOnClose(false)
	lf, err := ul.File()
	ul.Close()
	if err != nil {
		return nil, err
	}
	vsockFd := fd(lf)
	vf, err := vfsConn.(*net.UnixConn).File()
	if err != nil {
		return nil, err
	}
	vfsFd := fd(vf)
	gid, err := kvmGroup()
	if err != nil {
		return nil, err
	}
	args := []string{"vmm",
		"--kernel", "/proc/self/fd/" + kernelFd, "--initrd", "/proc/self/fd/" + initrdFd,
		"--cmdline", cfg.Cmdline + " " + agentVsockArg,
		"--mem", strconv.Itoa(cfg.MemoryMiB), "--cpus", strconv.Itoa(cfg.VCPUs),
		"--console", "fd:" + consoleFd, "--rng", "--seccomp",
		"--vsock-cid", strconv.Itoa(guestCID), "--vsock-uds", "fd:" + vsockFd,
		"--fs", shareTag + "=fd:" + vfsFd,
	}
	hv := child("/proc/self/exe", args, "/", log)
	hv.Args[0] = "runx"
	hv.ExtraFiles = files
	hv.SysProcAttr.Credential = &syscall.Credential{Uid: uid, Gid: uid, Groups: []uint32{gid}}
	return hv, nil
}

// dialVsock connects to the guest's vsock port through the VMM's socket
// name in dir: "CONNECT <port>\n", answered "OK <host port>\n" once a guest
// program accepted, else closed (nothing listens yet: tried again), until
// limit or the VM ended (exited).
func dialVsock(dir, name string, port uint32, exited <-chan struct{}, limit time.Duration) (net.Conn, error) {
	deadline := time.Now().Add(limit)
	for {
		nc, err := dialDaemon(dir, name, exited, time.Until(deadline))
		if err != nil {
			return nil, err
		}
		_ = nc.SetDeadline(deadline)
		var line string
		if _, err = fmt.Fprintf(nc, "CONNECT %d\n", port); err == nil {
			line, err = readLine(nc)
		}
		if err == nil && strings.HasPrefix(line, "OK ") {
			_ = nc.SetDeadline(time.Time{})
			return nc, nil
		}
		nc.Close()
		if os.IsTimeout(err) {
			return nil, fmt.Errorf("vsock port %d: nothing accepted within %v", port, limit)
		}
		select {
		case <-exited:
			return nil, errors.New("the VM ended")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// readLine reads up to a newline a byte at a time: what follows is the
// stream's, not a buffer's.
func readLine(c net.Conn) (string, error) {
	var b []byte
	one := make([]byte, 1)
	for len(b) < 64 {
		if _, err := c.Read(one); err != nil {
			return "", err
		}
		if one[0] == '\n' {
			return string(b), nil
		}
		b = append(b, one[0])
	}
	return "", errors.New("a handshake line too long")
}
