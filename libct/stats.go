package libct

import (
	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/types"
)

// convertStats maps libcontainer's statistics onto runc's events JSON types, so
// that `runx events` prints what tools reading `runc events` expect.
func convertStats(ls *libcontainer.Stats) *types.Stats {
	s := &types.Stats{Hugetlb: map[string]types.Hugetlb{}, NetworkInterfaces: ls.Interfaces}
	cg := ls.CgroupStats
	if cg == nil {
		return s
	}
	s.Pids = types.Pids{Current: cg.PidsStats.Current, Limit: cg.PidsStats.Limit}

	u := cg.CpuStats.CpuUsage
	s.CPU.Usage = types.CpuUsage{
		Total: u.TotalUsage, Kernel: u.UsageInKernelmode, User: u.UsageInUsermode,
		Percpu: u.PercpuUsage, PercpuKernel: u.PercpuUsageInKernelmode, PercpuUser: u.PercpuUsageInUsermode,
	}
	t := cg.CpuStats.ThrottlingData
	s.CPU.Throttling = types.Throttling{Periods: t.Periods, ThrottledPeriods: t.ThrottledPeriods, ThrottledTime: t.ThrottledTime}
	s.CPU.PSI = cg.CpuStats.PSI
	s.CPUSet = types.CPUSet(cg.CPUSetStats)

	m := cg.MemoryStats
	s.Memory = types.Memory{
		Cache: m.Cache, Raw: m.Stats, PSI: m.PSI,
		Usage: memoryEntry(m.Usage), Swap: memoryEntry(m.SwapUsage),
		Kernel: memoryEntry(m.KernelUsage), KernelTCP: memoryEntry(m.KernelTCPUsage),
	}

	b := cg.BlkioStats
	s.Blkio = types.Blkio{
		IoServiceBytesRecursive: blkioEntries(b.IoServiceBytesRecursive),
		IoServicedRecursive:     blkioEntries(b.IoServicedRecursive),
		IoQueuedRecursive:       blkioEntries(b.IoQueuedRecursive),
		IoServiceTimeRecursive:  blkioEntries(b.IoServiceTimeRecursive),
		IoWaitTimeRecursive:     blkioEntries(b.IoWaitTimeRecursive),
		IoMergedRecursive:       blkioEntries(b.IoMergedRecursive),
		IoTimeRecursive:         blkioEntries(b.IoTimeRecursive),
		SectorsRecursive:        blkioEntries(b.SectorsRecursive),
		PSI:                     b.PSI,
	}
	for size, h := range cg.HugetlbStats {
		s.Hugetlb[size] = types.Hugetlb{Usage: h.Usage, Max: h.MaxUsage, Failcnt: h.Failcnt}
	}
	if rdt := ls.IntelRdtStats; rdt != nil {
		s.IntelRdt.L3CacheSchema = rdt.L3CacheSchema
		s.IntelRdt.MemBwSchema = rdt.MemBwSchema
		s.IntelRdt.Schemata = rdt.Schemata
	}
	return s
}

func memoryEntry(d cgroups.MemoryData) types.MemoryEntry {
	return types.MemoryEntry{Limit: d.Limit, Usage: d.Usage, Max: d.MaxUsage, Failcnt: d.Failcnt}
}

func blkioEntries(in []cgroups.BlkioStatEntry) []types.BlkioEntry {
	if len(in) == 0 {
		return nil
	}
	out := make([]types.BlkioEntry, len(in))
	for i, e := range in {
		out[i] = types.BlkioEntry{Major: e.Major, Minor: e.Minor, Op: e.Op, Value: e.Value}
	}
	return out
}
