package libct

import (
	"testing"

	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestApplyResourcesKeepsUnsetFields(t *testing.T) {
	res := &cgroups.Resources{Memory: 100, CpuShares: 512}
	limit := int64(50)
	pids := int64(7)
	if err := applyResources(res, &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: &limit},
		Pids:   &specs.LinuxPids{Limit: &pids},
	}); err != nil {
		t.Fatal(err)
	}
	if res.Memory != 50 || res.CpuShares != 512 || res.PidsLimit == nil || *res.PidsLimit != 7 {
		t.Errorf("resources after update: %+v", res)
	}
}

func TestApplyResourcesConvertsShares(t *testing.T) {
	res := &cgroups.Resources{}
	shares := uint64(1024)
	if err := applyResources(res, &specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: &shares}}); err != nil {
		t.Fatal(err)
	}
	if res.CpuWeight == 0 {
		t.Error("cpu shares were not converted to a cgroup v2 weight")
	}
}
