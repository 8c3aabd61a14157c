package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/docker/go-units"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
)

var updateCommand = &cli.Command{
	Name:  "update",
	Usage: "update container resource constraints",
	ArgsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container.`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "resources", Aliases: []string{"r"}, Usage: `path to a file containing the resources to update or '-' to read from the standard input`},
		&cli.StringFlag{Name: "blkio-weight", Usage: "Specifies per cgroup weight, range is from 10 to 1000"},
		&cli.StringFlag{Name: "cpu-period", Usage: "CPU CFS period to be used for hardcapping (in usecs). 0 to use system default"},
		&cli.StringFlag{Name: "cpu-quota", Usage: "CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period"},
		&cli.StringFlag{Name: "cpu-burst", Usage: "CPU CFS hardcap burst limit (in usecs). Allowed accumulated cpu time additionally for burst a given period"},
		&cli.StringFlag{Name: "cpu-share", Usage: "CPU shares (relative weight vs. other containers)"},
		&cli.StringFlag{Name: "cpu-rt-period", Usage: "CPU realtime period to be used for hardcapping (in usecs). 0 to use system default"},
		&cli.StringFlag{Name: "cpu-rt-runtime", Usage: "CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period"},
		&cli.StringFlag{Name: "cpuset-cpus", Usage: "CPU(s) to use"},
		&cli.StringFlag{Name: "cpuset-mems", Usage: "Memory node(s) to use"},
		&cli.StringFlag{Name: "kernel-memory", Usage: "(obsoleted; do not use)"},
		&cli.StringFlag{Name: "kernel-memory-tcp", Usage: "(obsoleted; do not use)"},
		&cli.StringFlag{Name: "memory", Usage: "Memory limit (in bytes)"},
		&cli.StringFlag{Name: "cpu-idle", Usage: "set cgroup SCHED_IDLE or not, 0: default behavior, 1: SCHED_IDLE"},
		&cli.StringFlag{Name: "memory-reservation", Usage: "Memory reservation or soft_limit (in bytes)"},
		&cli.StringFlag{Name: "memory-swap", Usage: "Total memory usage (memory + swap); set '-1' to enable unlimited swap"},
		&cli.IntFlag{Name: "pids-limit", Usage: "Maximum number of pids allowed in the container"},
		&cli.StringFlag{Name: "l3-cache-schema", Usage: "The string of Intel RDT/CAT L3 cache schema"},
		&cli.StringFlag{Name: "mem-bw-schema", Usage: "The string of Intel RDT/MBA memory bandwidth schema"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, true); err != nil {
			return err
		}
		ct, err := getContainer(c)
		if err != nil {
			return err
		}
		r, err := updateResources(c)
		if err != nil {
			return err
		}
		return ct.Update(r)
	},
}

// decodeResources reads the resources JSON of --resources path from in.
func decodeResources(path string, in io.Reader) (*specs.LinuxResources, error) {
	r := &specs.LinuxResources{}
	if err := json.NewDecoder(in).Decode(r); err != nil {
		return nil, fmt.Errorf("--resources %s: malformed JSON: %w", path, err)
	}
	return r, nil
}

// updateResources reads -r (a runtime-spec LinuxResources JSON) and lays the
// individual flags on top of it.
func updateResources(c *cli.Context) (*specs.LinuxResources, error) {
	r := &specs.LinuxResources{}
	if path := c.String("resources"); path != "" {
		var in io.Reader = os.Stdin
		if path != "-" {
			f, err := os.Open(path)
			if err != nil {
				return nil, fmt.Errorf("--resources %s: %w", path, err)
			}
			defer f.Close()
			in = f
		}
		var err error
		if r, err = decodeResources(path, in); err != nil {
			return nil, err
		}
	}
	u64 := func(name string, dst **uint64) error {
		if !c.IsSet(name) {
			return nil
		}
		v, err := strconv.ParseUint(c.String(name), 10, 64)
		if err != nil {
			return fmt.Errorf("--%s: invalid value %q: %w", name, c.String(name), err)
		}
		*dst = &v
		return nil
	}
	i64 := func(name string, dst **int64) error {
		if !c.IsSet(name) {
			return nil
		}
		v, err := strconv.ParseInt(c.String(name), 10, 64)
		if err != nil {
			return fmt.Errorf("--%s: invalid value %q: %w", name, c.String(name), err)
		}
		*dst = &v
		return nil
	}
	// Memory sizes take units (512m) as in runc; -1 means unlimited.
	bytes := func(name string, dst **int64) error {
		if !c.IsSet(name) {
			return nil
		}
		s := c.String(name)
		var v int64 = -1
		if s != "-1" {
			var err error
			if v, err = units.RAMInBytes(s); err != nil {
				return fmt.Errorf("--%s: invalid value %q: %w", name, s, err)
			}
		}
		*dst = &v
		return nil
	}
	if r.CPU == nil {
		r.CPU = &specs.LinuxCPU{}
	}
	if r.Memory == nil {
		r.Memory = &specs.LinuxMemory{}
	}
	if r.BlockIO == nil {
		r.BlockIO = &specs.LinuxBlockIO{}
	}
	var weight *uint64
	for _, err := range []error{
		u64("cpu-period", &r.CPU.Period), i64("cpu-quota", &r.CPU.Quota), u64("cpu-burst", &r.CPU.Burst),
		u64("cpu-share", &r.CPU.Shares), u64("cpu-rt-period", &r.CPU.RealtimePeriod),
		i64("cpu-rt-runtime", &r.CPU.RealtimeRuntime), i64("cpu-idle", &r.CPU.Idle),
		bytes("memory", &r.Memory.Limit), bytes("memory-reservation", &r.Memory.Reservation),
		bytes("memory-swap", &r.Memory.Swap), u64("blkio-weight", &weight),
	} {
		if err != nil {
			return nil, err
		}
	}
	// Unlimited memory with swap left unsaid: unlimited swap too, as runc
	// does, since the kernel refuses a memory+swap limit below the memory one.
	if l := r.Memory.Limit; l != nil && *l == -1 && r.Memory.Swap == nil {
		r.Memory.Swap = ptr(int64(-1))
	}
	if weight != nil {
		if *weight > 1000 || (*weight != 0 && *weight < 10) {
			return nil, fmt.Errorf("--blkio-weight: %d is out of range 10 to 1000", *weight)
		}
		w := uint16(*weight)
		r.BlockIO.Weight = &w
	}
	if v := c.String("cpuset-cpus"); v != "" {
		r.CPU.Cpus = v
	}
	if v := c.String("cpuset-mems"); v != "" {
		r.CPU.Mems = v
	}
	if c.IsSet("pids-limit") {
		r.Pids = &specs.LinuxPids{Limit: ptr(int64(c.Int("pids-limit")))}
	}
	if c.IsSet("kernel-memory") || c.IsSet("kernel-memory-tcp") {
		return nil, fmt.Errorf("--kernel-memory and --kernel-memory-tcp are not supported: kernel memory limits are gone from current kernels")
	}
	if c.IsSet("l3-cache-schema") || c.IsSet("mem-bw-schema") {
		return nil, fmt.Errorf("--l3-cache-schema and --mem-bw-schema (Intel RDT) are not supported by runx")
	}
	return r, nil
}

func ptr[T any](v T) *T { return &v }
