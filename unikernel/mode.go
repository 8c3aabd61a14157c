package unikernel

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/docker/go-units"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runx-dev/runx/isolation"
	"github.com/runx-dev/runx/libct"
)

// Name is the isolation mode's name.
const Name = "unikernel"

// Annotations that configure a unikernel container.
const (
	annBlock  = "dev.runx.unikernel.block."  // + NAME = path of the image in the rootfs
	annSector = "dev.runx.unikernel.sector." // + NAME = sector size of that image
	annNet    = "dev.runx.unikernel.net."    // + NAME = interface in the container's network namespace
	annMAC    = "dev.runx.unikernel.mac."    // + NAME = MAC address of the guest's interface
	annMemory = "dev.runx.unikernel.memory"  // guest memory, e.g. "256" (MiB) or "256m"

	// tenderPath is where the container sees runx, under the name of
	// upstream's tender, mounted read-only on the container's own /dev.
	tenderPath = "/dev/.runx/solo5-spt"
	// tenderHeadroom is left of a memory limit for the tender process itself.
	tenderHeadroom = 32
)

// Mode runs a Solo5 spt unikernel as the container's process: the tender
// (runx, as solo5-spt) is the process the engine sees, inside the container's
// namespaces and cgroup, and the guest is its only, filtered, child.
type Mode struct{}

func init() { isolation.Register(Mode{}) }

// Name implements isolation.Mode.
func (Mode) Name() string { return Name }

// Check implements isolation.Mode.
func (Mode) Check() isolation.Report {
	r := isolation.Report{Mode: Name, Built: true, Usable: true,
		Facts: []string{"kernel " + isolation.KernelRelease()}}
	if ok, why := isolation.SeccompUserNotif(); !ok && strings.Contains(why, "unsupported") {
		r.Usable, r.Why = false, why
	}
	if b, err := os.ReadFile("/proc/sys/kernel/seccomp/actions_avail"); err == nil && !strings.Contains(string(b), "kill_process") {
		r.Usable, r.Why = false, "seccomp cannot kill a whole process (kernel older than 4.14)"
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		r.Facts = append(r.Facts, "no /dev/net/tun: unikernels without network devices only")
	}
	return r
}

// Load implements isolation.Mode.
func (Mode) Load(root, id string) (isolation.Container, error) {
	c, err := libct.LoadAs(root, id, Name)
	if err != nil {
		return nil, err
	}
	return container{c}, nil
}

type container struct{ isolation.Container }

func (container) Exec(*isolation.ExecRequest) (int, error) {
	return -1, errors.New("a unikernel container runs one guest and nothing else: exec is not supported in the unikernel isolation mode")
}

// Create implements isolation.Mode: it checks the unikernel and its devices,
// then creates a namespace-mode container whose process is the tender.
func (Mode) Create(req *isolation.CreateRequest) (int, error) {
	spec := req.Spec
	// A pod's sandbox (pause) container holds the pod's namespaces: it is no
	// unikernel and runs in the namespace mode, as runnc ran /pause itself.
	if podSandbox(spec) {
		return libct.Create(req, nil)
	}
	rootfs := isolation.RootfsOf(spec, req.Bundle)
	args := spec.Process.Args
	kernelPath := filepath.Join(rootfs, filepath.Clean("/"+args[0]))
	k, err := LoadKernel(kernelPath)
	if err != nil {
		return -1, fmt.Errorf("process.args[0]: %w", err)
	}
	mem, err := guestMemory(spec)
	if err != nil {
		return -1, err
	}
	if mem > MaxMemMiB {
		return -1, fmt.Errorf("guest memory of %d MiB is more than the %d MiB runx's tender can give (%s or linux.resources.memory.limit)", mem, MaxMemMiB, annMemory)
	}
	tender := []string{tenderPath, fmt.Sprintf("--mem=%d", mem)}
	nets := map[string]string{}
	for _, key := range sortedKeys(spec.Annotations) {
		val := spec.Annotations[key]
		switch {
		case strings.HasPrefix(key, annBlock):
			name := strings.TrimPrefix(key, annBlock)
			if i := k.Manifest.find(name); i < 0 || k.Manifest.Entries[i].Type != DevBlock {
				return -1, fmt.Errorf("annotations[%q]: the unikernel declares no block device %q", key, name)
			}
			host := filepath.Join(rootfs, filepath.Clean("/"+val))
			if _, err := os.Stat(host); err != nil {
				return -1, fmt.Errorf("annotations[%q]: block image %s: %w", key, val, errors.Unwrap(err))
			}
			tender = append(tender, fmt.Sprintf("--block:%s=%s", name, filepath.Clean("/"+val)))
			// The image stays writable, as upstream opens it, when root.readonly is set.
			spec.Mounts = append(spec.Mounts, specs.Mount{Destination: filepath.Clean("/" + val),
				Type: "bind", Source: host, Options: []string{"bind", "rw", "nosuid", "nodev", "noexec"}})
		case strings.HasPrefix(key, annSector):
			tender = append(tender, fmt.Sprintf("--block-sector-size:%s=%s", strings.TrimPrefix(key, annSector), val))
		case strings.HasPrefix(key, annNet):
			name := strings.TrimPrefix(key, annNet)
			if i := k.Manifest.find(name); i < 0 || k.Manifest.Entries[i].Type != DevNet {
				return -1, fmt.Errorf("annotations[%q]: the unikernel declares no network device %q", key, name)
			}
			nets[name] = val
			tender = append(tender, fmt.Sprintf("--net:%s=%s", name, tapName(name)))
		case strings.HasPrefix(key, annMAC):
			tender = append(tender, fmt.Sprintf("--net-mac:%s=%s", strings.TrimPrefix(key, annMAC), val))
		}
	}
	for _, e := range k.Manifest.Entries[1:] {
		if e.Type >= devReservedBase {
			continue
		}
		prefix := annBlock
		if e.Type == DevNet {
			prefix = annNet
		}
		if _, ok := spec.Annotations[prefix+e.Name]; !ok {
			return -1, fmt.Errorf("the unikernel %s declares the %s device %q: give it with the annotation %s%s",
				args[0], typeName(e.Type), e.Name, prefix, e.Name)
		}
	}
	tender = append(tender, "--", filepath.Clean("/"+args[0]))
	tender = append(tender, args[1:]...)

	self, err := isolation.SelfMounts(rootfs, tenderPath)
	if err != nil {
		return -1, err
	}
	spec.Process.Args = tender
	spec.Mounts = append(spec.Mounts, self...)
	if len(nets) > 0 {
		addTunDevice(spec)
	}
	extra := &libct.Extra{Mode: Name}
	if len(nets) > 0 {
		uid, gid := int(spec.Process.User.UID), int(spec.Process.User.GID)
		extra.Prepared = func(pid int) error { return wireTaps(pid, nets, uid, gid) }
	}
	return libct.Create(req, extra)
}

// podSandbox tells whether containerd's or CRI-O's CRI made spec for a pod's
// sandbox container.
func podSandbox(spec *specs.Spec) bool {
	return spec.Annotations["io.kubernetes.cri.container-type"] == "sandbox" ||
		spec.Annotations["io.kubernetes.cri-o.ContainerType"] == "sandbox"
}

// guestMemory is the annotation in MiB (units allowed), else the memory
// limit less the tender's headroom, else 512 MiB as upstream.
func guestMemory(spec *specs.Spec) (uint64, error) {
	if v, ok := spec.Annotations[annMemory]; ok {
		if n, err := strconv.ParseUint(v, 10, 64); err == nil && n > 0 {
			return n, nil
		}
		b, err := units.RAMInBytes(v)
		if err != nil || b < 1<<20 {
			return 0, fmt.Errorf("annotations[%q]: %q is not a memory size (MiB, or with a unit such as 256m)", annMemory, v)
		}
		return uint64(b) >> 20, nil
	}
	if l := spec.Linux; l != nil && l.Resources != nil && l.Resources.Memory != nil && l.Resources.Memory.Limit != nil && *l.Resources.Memory.Limit > 0 {
		mib := uint64(*l.Resources.Memory.Limit) >> 20
		if mib <= tenderHeadroom+2 {
			return 0, fmt.Errorf("linux.resources.memory.limit: %d MiB leaves no room for a unikernel (the tender needs %d MiB)", mib, tenderHeadroom)
		}
		return mib - tenderHeadroom, nil
	}
	return 512, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
