package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/runx-dev/runx/vmm"
)

// vmmCommand runs one VM in runx's own VMM, its serial console on stdout:
// what the microvm mode's monitor will start, and a way to try a kernel.
var vmmCommand = &cli.Command{
	Name:   "vmm",
	Usage:  "boot a Linux kernel in runx's own KVM virtual machine monitor (serial console on stdout)",
	Hidden: true,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "kernel", Usage: "an ELF vmlinux with a PVH entry, or a bzImage", Required: true},
		&cli.StringFlag{Name: "initrd", Usage: "an initramfs"},
		&cli.StringFlag{Name: "cmdline", Usage: "the kernel's command line"},
		&cli.IntFlag{Name: "mem", Usage: "guest memory in MiB", Value: 256},
		&cli.IntFlag{Name: "cpus", Usage: "vCPUs", Value: 1},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 0, true); err != nil {
			return err
		}
		m, err := vmm.New(vmm.Config{
			Kernel:  c.String("kernel"),
			Initrd:  c.String("initrd"),
			Cmdline: c.String("cmdline"),
			MemMiB:  c.Int("mem"),
			VCPUs:   c.Int("cpus"),
			Console: os.Stdout,
		})
		if err != nil {
			return err
		}
		defer m.Close()
		if end := m.Run(); end.Err != nil {
			return fmt.Errorf("the VM failed: %w", end.Err)
		}
		return nil
	},
}
