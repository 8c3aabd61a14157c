package microvm

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Pods: one VM per pod, as Kata runs them. The pod's sandbox container (the
// CRI pause container, or any container that names no other sandbox) boots
// the VM; a later container of the pod (its sandbox id in the engine's
// annotations) is made in that VM by the sandbox's monitor: its rootfs and
// bind sources join the shared tree, the guest's runx creates it, and on the
// host a relay (runx-vm-relay, in the container's cgroup) stands for it: the
// state's pid, exiting as the container's process exits. The containers of
// a pod share the guest's network namespace (localhost between them works)
// and join the sandbox's IPC, UTS and PID namespaces in the guest where
// config.json has them join the sandbox's on the host. The VM goes with
// the sandbox container.

// Annotations that name a container's pod sandbox and its kind.
var sandboxAnnotations = []struct{ id, kind string }{
	{"io.kubernetes.cri.sandbox-id", "io.kubernetes.cri.container-type"},   // containerd
	{"io.kubernetes.cri-o.SandboxID", "io.kubernetes.cri-o.ContainerType"}, // CRI-O
}

// podSandbox is the id of the sandbox container whose VM the container
// joins, "" when it boots its own.
func podSandbox(spec *specs.Spec, id string) string {
	for _, a := range sandboxAnnotations {
		sb := spec.Annotations[a.id]
		if sb != "" && sb != id && spec.Annotations[a.kind] != "sandbox" {
			return sb
		}
	}
	return ""
}

// guestContainer is a container as the VM's guest makes it.
type guestContainer struct {
	ID       string  `json:"id"`
	Spec     []byte  `json:"spec"`   // config.json for the guest's runx
	Shares   []Share `json:"shares"` // its rootfs and bind sources, in the tree under ID/
	Terminal bool    `json:"terminal,omitempty"`
	// Sysctls are its net.* sysctls, set in the guest's (the pod's)
	// network namespace.
	Sysctls map[string]string `json:"sysctls,omitempty"`
}

// newGuestContainer checks what of spec the VM needs from the host and
// makes the guest's container.
func newGuestContainer(spec *specs.Spec, bundle, id, rootfs string, sandbox *specs.Spec, sandboxPid int) (*guestContainer, error) {
	shares, mounts, err := shareBinds(spec, bundle, id, rootfs)
	if err != nil {
		return nil, err
	}
	gspec, sysctls, err := guestSpec(spec, id, mounts, sandbox, sandboxPid)
	if err != nil {
		return nil, err
	}
	return &guestContainer{ID: id, Spec: gspec, Sysctls: sysctls, Terminal: spec.Process.Terminal,
		Shares: append([]Share{{Name: id + "/rootfs", Path: rootfs}}, shares...)}, nil
}

// podNamespace is the placeholder, in a guest config.json, for a namespace
// of the pod's sandbox container in the guest: the monitor replaces it with
// that container's /proc/PID/ns path there.
const podNamespace = "/proc/@sandbox/ns/"

// joinsSandbox tells whether a namespace config.json names by path is the
// sandbox container's (the path its own config.json names, or its
// process's).
func joinsSandbox(ns specs.LinuxNamespace, sandbox *specs.Spec, sandboxPid int) bool {
	if ns.Path == fmt.Sprintf("/proc/%d/ns/%s", sandboxPid, nsFile(ns.Type)) {
		return true
	}
	if sandbox != nil && sandbox.Linux != nil {
		for _, s := range sandbox.Linux.Namespaces {
			if s.Type == ns.Type && s.Path == ns.Path {
				return true
			}
		}
	}
	return false
}

// nsFile is a namespace's file name in /proc/PID/ns.
func nsFile(t specs.LinuxNamespaceType) string {
	switch t {
	case specs.PIDNamespace:
		return "pid"
	case specs.MountNamespace:
		return "mnt"
	case specs.NetworkNamespace:
		return "net"
	}
	return string(t)
}

// sandboxOf loads a pod member's sandbox container: its state directory,
// config.json and monitor's pid.
func sandboxOf(root, id string) (dir string, spec *specs.Spec, pid int, err error) {
	c := &container{root: root, id: id, dir: filepath.Join(root, id)}
	s, err := c.load()
	if err != nil {
		return "", nil, 0, fmt.Errorf("the pod's sandbox container %s is not a microvm container of this runtime root (%s): %w", id, root, err)
	}
	if s.Pod != "" {
		return "", nil, 0, fmt.Errorf("the pod's sandbox container %s is itself a member of pod %s", id, s.Pod)
	}
	if !s.alive() {
		return "", nil, 0, fmt.Errorf("the pod's sandbox container %s is not running", id)
	}
	b, err := os.ReadFile(filepath.Join(s.Bundle, "config.json"))
	if err == nil {
		spec = &specs.Spec{}
		err = json.Unmarshal(b, spec)
	}
	if err != nil {
		return "", nil, 0, fmt.Errorf("the pod's sandbox container %s: its config.json: %w", id, err)
	}
	return c.dir, spec, s.Pid, nil
}

// member is a later container of the pod, as the monitor tracks it.
type member struct {
	create  *guestStream // its create's, then its process's
	pid     int          // its relay's host pid
	started bool
}

// createMember makes a pod's later container in the guest for its relay
// (cc), relays its stdio, and ends with its process's exit.
func (m *monitor) createMember(cc *conn, gc *guestContainer, relayPid int) {
	fail := func(err error) { _ = cc.sendJSON(kindExit, exitMsg{Status: 1 << 8, Err: err.Error()}) }
	if gc == nil || gc.ID == "" || gc.ID == m.cfg.ID {
		fail(errors.New("no container to create"))
		return
	}
	m.mu.Lock()
	_, exists := m.members[gc.ID]
	m.mu.Unlock()
	if exists {
		fail(fmt.Errorf("container with id exists in the pod's VM: %s", gc.ID))
		return
	}
	gspec := gc.Spec
	if strings.Contains(string(gspec), podNamespace) {
		ex, out := m.runx("state", m.cfg.ID)
		var st struct {
			Pid int `json:"pid"`
		}
		if ex.Status != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Pid <= 0 {
			fail(fmt.Errorf("the pod's sandbox container in the guest: %s", describe(ex)))
			return
		}
		gspec = []byte(strings.ReplaceAll(string(gspec), podNamespace, fmt.Sprintf("/proc/%d/ns/", st.Pid)))
	}
	if err := addShares(m.vm.SharePid(), gc.Shares); err != nil {
		fail(fmt.Errorf("sharing the container's files with the pod's VM: %w", err))
		return
	}
	g := m.newStream(frameWriter{cc, kindStdout}, frameWriter{cc, kindStderr}, nil)
	mb := &member{create: g, pid: relayPid}
	m.mu.Lock()
	m.members[gc.ID] = mb
	m.mu.Unlock()
	forget := func() {
		m.mu.Lock()
		delete(m.members, gc.ID)
		m.mu.Unlock()
	}
	if err := m.run(g, createRequest(gc.ID, gspec, gc.Sysctls, gc.Terminal, g.id)); err != nil {
		forget()
		fail(err)
		return
	}
	// The relay's frames: the container's stdin and terminal size, and
	// the signals sent to the relay. The relay gone (killed), the container
	// goes too, as a VM goes with its monitor.
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		for {
			f, err := cc.recv()
			if err != nil {
				_, _ = m.runx("kill", gc.ID, "KILL")
				return
			}
			switch f.kind {
			case kindStdin, kindEOF, kindResize:
				g.input(f)
			case kindSignal:
				if len(f.payload) == 1 {
					m.signalMember(gc.ID, unix.Signal(f.payload[0]))
				}
			}
		}
	}()
	ok, ex, err := m.waitCreated(g, "creating the pod's container "+gc.ID)
	if err != nil {
		ex.Err = err.Error()
		// Whatever the guest made of it goes (the guest may be hung: not waited for).
		go m.runx("delete", "--force", gc.ID)
	}
	if !ok {
		forget()
		_ = removeShares(m.vm.SharePid(), gc.ID)
		fail(fmt.Errorf("creating the container in the pod's VM failed (%s)", describe(ex)))
		return
	}
	_ = cc.send(kindStarted, nil)
	select {
	case ex := <-g.exited:
		_ = cc.sendJSON(kindExit, ex)
	case <-gone:
	}
}

// memberOf is a later container of the pod, nil when id is not one.
func (m *monitor) memberOf(id string) *member {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.members[id]
}

// startMember starts a later container and begins to wait for its exit.
func (m *monitor) startMember(id string) error {
	mb := m.memberOf(id)
	if mb == nil {
		return fmt.Errorf("container %s is not in the pod's VM", id)
	}
	if err := m.startGuest(id); err != nil {
		return err
	}
	m.mu.Lock()
	mb.started = true
	m.mu.Unlock()
	return nil
}

// signalMember sends sig to a later container's process.
func (m *monitor) signalMember(id string, sig unix.Signal) {
	mb := m.memberOf(id)
	if mb == nil {
		return
	}
	m.mu.Lock()
	started := mb.started
	m.mu.Unlock()
	if started {
		_ = mb.create.signal(sig)
		return
	}
	_, _ = m.runx("kill", id, fmt.Sprint(int(sig)))
}

// removeMember deletes a later container in the guest and takes its files
// out of the shared tree.
func (m *monitor) removeMember(id string) error {
	if id == m.cfg.ID {
		return errors.New("the pod's sandbox container goes with its VM")
	}
	ex, out := m.runx("delete", "--force", id)
	if !ex.ok() {
		if !strings.Contains(out, "does not exist") {
			return fmt.Errorf("deleting %s in the pod's VM: %s%s", id, out, describe(ex))
		}
	}
	return removeShares(m.vm.SharePid(), id)
}
