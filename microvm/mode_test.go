package microvm

import (
	"runtime"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCpusOf(t *testing.T) {
	q := func(quota int64, period uint64) *specs.Linux {
		return &specs.Linux{Resources: &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: &quota, Period: &period}}}
	}
	set := func(cpus string) *specs.Linux {
		return &specs.Linux{Resources: &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: cpus}}}
	}
	host := runtime.NumCPU()
	for _, c := range []struct {
		name string
		l    *specs.Linux
		want int
	}{
		{"none", nil, 1},
		{"half a CPU", q(50000, 100000), 1},
		{"one and a half", q(150000, 100000), min(2, host)},
		{"more than the host", q(int64(host+8)*100000, 100000), host},
		{"unlimited quota", q(-1, 100000), 1},
		{"cpuset 0", set("0"), 1},
		{"cpuset 0-1", set("0-1"), min(2, host)},
		{"cpuset garbage", set("x"), 1},
	} {
		if got := cpusOf(c.l); got != c.want {
			t.Errorf("%s: cpusOf = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestPodSandbox(t *testing.T) {
	spec := func(ann map[string]string) *specs.Spec { return &specs.Spec{Annotations: ann} }
	for _, c := range []struct {
		name string
		ann  map[string]string
		id   string
		want string
	}{
		{"plain", nil, "c1", ""},
		{"containerd sandbox", map[string]string{"io.kubernetes.cri.sandbox-id": "s1", "io.kubernetes.cri.container-type": "sandbox"}, "s1", ""},
		{"containerd container", map[string]string{"io.kubernetes.cri.sandbox-id": "s1", "io.kubernetes.cri.container-type": "container"}, "c1", "s1"},
		{"cri-o container", map[string]string{"io.kubernetes.cri-o.SandboxID": "s2", "io.kubernetes.cri-o.ContainerType": "container"}, "c2", "s2"},
		{"names itself", map[string]string{"io.kubernetes.cri.sandbox-id": "c3"}, "c3", ""},
	} {
		if got := podSandbox(spec(c.ann), c.id); got != c.want {
			t.Errorf("%s: podSandbox = %q, want %q", c.name, got, c.want)
		}
	}
}
