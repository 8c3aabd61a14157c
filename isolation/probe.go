package isolation

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Host facts that decide which modes this machine can run.

// CgroupVersion returns "v2" (unified), "v1+v2 hybrid", "v1" or "none".
func CgroupVersion() string {
	var st unix.Statfs_t
	if unix.Statfs("/sys/fs/cgroup", &st) != nil {
		return "none"
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "v2"
	}
	if unix.Statfs("/sys/fs/cgroup/unified", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "v1+v2 hybrid"
	}
	return "v1"
}

// UserNamespaces tells whether unprivileged users can make user namespaces.
func UserNamespaces() (bool, string) {
	if b, err := os.ReadFile("/proc/sys/kernel/unprivileged_userns_clone"); err == nil && strings.TrimSpace(string(b)) == "0" {
		return false, "kernel.unprivileged_userns_clone is 0"
	}
	if b, err := os.ReadFile("/proc/sys/user/max_user_namespaces"); err == nil && strings.TrimSpace(string(b)) == "0" {
		return false, "user.max_user_namespaces is 0"
	}
	if _, err := os.Stat("/proc/self/ns/user"); err != nil {
		return false, "the kernel has no user namespaces"
	}
	return true, "user namespaces available"
}

// SeccompUserNotif tells whether the kernel has seccomp user notification.
func SeccompUserNotif() (bool, string) {
	b, err := os.ReadFile("/proc/sys/kernel/seccomp/actions_avail")
	if err != nil {
		return false, "no /proc/sys/kernel/seccomp/actions_avail: seccomp filters unsupported"
	}
	if strings.Contains(string(b), "user_notif") {
		return true, "seccomp user notification available"
	}
	return false, "seccomp user notification missing (kernel older than 5.0?)"
}

// KernelRelease is uname -r.
func KernelRelease() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// KVM reports whether /dev/kvm can be opened and what kind of KVM it is.
func KVM() (bool, string) {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, fmt.Sprintf("/dev/kvm: %v", err)
	}
	defer f.Close()
	const kvmGetAPIVersion = 0xAE00
	v, err := unix.IoctlRetInt(int(f.Fd()), kvmGetAPIVersion)
	if err != nil {
		return false, fmt.Sprintf("/dev/kvm: KVM_GET_API_VERSION: %v", err)
	}
	kind := "hardware-assisted KVM"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		s := string(b)
		switch {
		case strings.Contains(s, " hypervisor") && !HardwareVirt():
			kind = "KVM without VMX/SVM in the guest CPU (nested or paravirtualized, e.g. PVM): slow guest kernel"
		case strings.Contains(s, " hypervisor"):
			kind = "nested KVM"
		}
	}
	return true, fmt.Sprintf("/dev/kvm API version %d, %s", v, kind)
}

// HardwareVirt tells whether the CPU flags show VMX or SVM: hardware
// virtualization a KVM guest can use (a nested PVM /dev/kvm has neither).
func HardwareVirt() bool {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "flags" {
			for _, f := range strings.Fields(v) {
				if f == "vmx" || f == "svm" {
					return true
				}
			}
			return false
		}
	}
	return false
}

// WritePidFile writes pid to path (--pid-file) atomically: a reader never
// sees a partial file.
func WritePidFile(path string, pid int) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path))
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("--pid-file %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("--pid-file %s: %w", path, err)
	}
	return nil
}
