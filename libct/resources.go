package libct

import (
	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// applyResources merges the limits set in r into res; what r leaves unset stays.
func applyResources(res *cgroups.Resources, r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	if m := r.Memory; m != nil {
		if m.Limit != nil {
			res.Memory = *m.Limit
		}
		if m.Reservation != nil {
			res.MemoryReservation = *m.Reservation
		}
		if m.Swap != nil {
			res.MemorySwap = *m.Swap
		}
		if m.Swappiness != nil {
			res.MemorySwappiness = m.Swappiness
		}
		if m.CheckBeforeUpdate != nil {
			res.MemoryCheckBeforeUpdate = *m.CheckBeforeUpdate
		}
	}
	if c := r.CPU; c != nil {
		if c.Shares != nil {
			res.CpuShares = *c.Shares
			res.CpuWeight = cgroups.ConvertCPUSharesToCgroupV2Value(*c.Shares)
		}
		if c.Quota != nil {
			res.CpuQuota = *c.Quota
		}
		if c.Burst != nil {
			res.CpuBurst = c.Burst
		}
		if c.Period != nil {
			res.CpuPeriod = *c.Period
		}
		if c.RealtimeRuntime != nil {
			res.CpuRtRuntime = *c.RealtimeRuntime
		}
		if c.RealtimePeriod != nil {
			res.CpuRtPeriod = *c.RealtimePeriod
		}
		if c.Cpus != "" {
			res.CpusetCpus = c.Cpus
		}
		if c.Mems != "" {
			res.CpusetMems = c.Mems
		}
		if c.Idle != nil {
			res.CPUIdle = c.Idle
		}
	}
	if p := r.Pids; p != nil && p.Limit != nil {
		limit := *p.Limit
		res.PidsLimit = &limit
	}
	if b := r.BlockIO; b != nil {
		if b.Weight != nil {
			res.BlkioWeight = *b.Weight
		}
		if b.LeafWeight != nil {
			res.BlkioLeafWeight = *b.LeafWeight
		}
		if b.ThrottleReadBpsDevice != nil {
			res.BlkioThrottleReadBpsDevice = throttles(b.ThrottleReadBpsDevice)
		}
		if b.ThrottleWriteBpsDevice != nil {
			res.BlkioThrottleWriteBpsDevice = throttles(b.ThrottleWriteBpsDevice)
		}
		if b.ThrottleReadIOPSDevice != nil {
			res.BlkioThrottleReadIOPSDevice = throttles(b.ThrottleReadIOPSDevice)
		}
		if b.ThrottleWriteIOPSDevice != nil {
			res.BlkioThrottleWriteIOPSDevice = throttles(b.ThrottleWriteIOPSDevice)
		}
	}
	if len(r.Unified) > 0 {
		if res.Unified == nil {
			res.Unified = map[string]string{}
		}
		for k, v := range r.Unified {
			res.Unified[k] = v
		}
	}
	return nil
}

func throttles(in []specs.LinuxThrottleDevice) []*cgroups.ThrottleDevice {
	out := make([]*cgroups.ThrottleDevice, 0, len(in))
	for _, d := range in {
		out = append(out, cgroups.NewThrottleDevice(d.Major, d.Minor, d.Rate))
	}
	return out
}
