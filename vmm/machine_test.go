package vmm

import (
	"errors"
	"strings"
	"testing"
)

// Bad configurations are refused before anything is opened: no KVM
// needed, each error naming what is wrong.
func TestBadConfig(t *testing.T) {
	kernel := "/etc/passwd" // read only after the checks below pass
	for _, c := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no kernel", Config{MemMiB: 64}, "no kernel"},
		{"no memory", Config{Kernel: kernel}, "memory 0 MiB: must be positive"},
		{"negative memory", Config{Kernel: kernel, MemMiB: -1}, "memory -1 MiB: must be positive"},
		{"more memory than the host", Config{Kernel: kernel, MemMiB: 1 << 30}, "more than the host's"},
		{"too many vCPUs", Config{Kernel: kernel, MemMiB: 64, VCPUs: 255}, "255 vCPUs: 1 to 254"},
		{"not a kernel", Config{Kernel: kernel, MemMiB: 64, KVM: "/nonexistent/kvm"}, "the kernel is neither an ELF vmlinux with a PVH entry nor a bzImage"},
		{"no kernel file", Config{Kernel: "/nonexistent/vmlinux", MemMiB: 64}, "/nonexistent/vmlinux: no such file"},
	} {
		m, err := New(c.cfg)
		if err == nil {
			m.Close()
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrConfig and %q", c.name, err, c.want)
		}
	}
}
