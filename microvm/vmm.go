package microvm

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/runx-dev/runx/vmm"
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
// It starts as root of a user namespace of its own (its uid 0 a host user
// of its own, the jail's uid 1 another) and in a mount namespace of its
// own, takes an empty root and drops to uid 1 (vmm/jail.go): it has no
// path into the host's tree, no capability, and /dev/kvm only as the
// descriptor handed to it.
func vmmCommand(cfg *VMConfig, vfsConn net.Conn, log *os.File) (_ *exec.Cmd, err error) {
	defer vfsConn.Close()
	uid := uint32(jailBase + os.Getpid())
	var j jailFiles
	defer func() {
		if err != nil {
			j.close()
		}
	}()
	f, err := openVMFiles(&j, cfg, vsockSock, "the VM's vsock socket", vfsConn)
	if err != nil {
		return nil, err
	}
	kvm, err := os.OpenFile("/dev/kvm", os.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	args := []string{"vmm",
		"--kernel", "fd:" + f.kernel, "--initrd", "fd:" + f.initrd, "--kvm", "fd:" + j.add(kvm),
		"--cmdline", cfg.Cmdline + " " + agentVsockArg,
		"--mem", strconv.Itoa(cfg.MemoryMiB), "--cpus", strconv.Itoa(cfg.VCPUs),
		"--console", "fd:" + f.console, "--rng", "--jail", "--seccomp",
		"--vsock-cid", strconv.Itoa(guestCID), "--vsock-uds", "fd:" + f.channel,
		"--fs", shareTag + "=fd:" + f.vfs,
	}
	if f.tap != "" {
		args = append(args, "--net", "fd:"+f.tap)
	}
	hv := child("/proc/self/exe", args, "/", log)
	hv.Args[0] = "runx"
	hv.ExtraFiles = j.files
	ids := func(id uint32) []syscall.SysProcIDMap {
		return []syscall.SysProcIDMap{{ContainerID: 0, HostID: int(id + jailSetup), Size: 1}, {ContainerID: vmm.JailUID, HostID: int(id), Size: 1}}
	}
	hv.SysProcAttr.Cloneflags = syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS
	hv.SysProcAttr.UidMappings, hv.SysProcAttr.GidMappings = ids(uid), ids(uid)
	hv.SysProcAttr.GidMappingsEnableSetgroups = true
	hv.SysProcAttr.Credential = &syscall.Credential{Uid: 0, Gid: 0, Groups: []uint32{}}
	return hv, nil
}

// jailSetup is added to a jailed VMM's host uid and gid to make the ones
// it is set up as (its user namespace's root) before it drops to them:
// above every pid (pid_max is at most 2^22), still in the jail range.
const jailSetup = 1 << 22

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
