package libct

import (
	"os"

	"github.com/runx-dev/runx/isolation"
)

// Check implements isolation.Mode: namespaces and cgroups are all it needs.
func (Mode) Check() isolation.Report {
	r := isolation.Report{Mode: Name, Built: true, Usable: true}
	cg := isolation.CgroupVersion()
	r.Facts = append(r.Facts, "kernel "+isolation.KernelRelease(), "cgroup "+cg)
	if _, err := os.Stat("/proc/self/ns/pid"); err != nil {
		r.Usable, r.Why = false, "the kernel has no namespaces (/proc/self/ns/pid missing)"
	}
	_, u := isolation.UserNamespaces()
	r.Facts = append(r.Facts, u)
	if cg == "none" {
		r.Facts = append(r.Facts, "no cgroup file system: containers run without resource limits")
	}
	if os.Geteuid() != 0 {
		r.Facts = append(r.Facts, "not root: rootless containers only (spec --rootless)")
	}
	return r
}
