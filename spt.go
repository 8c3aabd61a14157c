package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/runx-dev/runx/internal/exitlike"
	"github.com/runx-dev/runx/isolation"
	"github.com/runx-dev/runx/unikernel"
)

// sptCommand is a solo5-spt compatible tender: `runx spt [options] KERNEL [ARGS]`,
// or the binary called as solo5-spt. Its exit statuses are upstream's.
var sptCommand = &cli.Command{
	Name:            "spt",
	Usage:           "run a Solo5 spt unikernel, as solo5-spt does",
	ArgsUsage:       "[--mem=MiB] [--block:NAME=PATH] [--block-sector-size:NAME=N] [--net:NAME=IFACE] [--net-mac:NAME=MAC] [--] KERNEL [ARGS...]",
	SkipFlagParsing: true,
	Action: func(c *cli.Context) error {
		runSpt("runx spt", c.Args().Slice())
		return nil
	},
}

// Called by the name of upstream's tender, runx is that tender.
func init() {
	isolation.RegisterEntry("solo5-spt", func(args []string) {
		// In a unikernel container: before the guest (see isolation.SelfMounts).
		isolation.DropSelfStaging()
		runSpt("solo5-spt", args)
	})
}

// runSpt never returns: it exits with the guest's status, or 1 on a setup error.
func runSpt(prog string, args []string) {
	opts, err := unikernel.ParseArgs(args)
	var ue *unikernel.UsageError
	switch {
	case errors.Is(err, unikernel.ErrVersion):
		fmt.Fprintln(os.Stderr, unikernel.Version)
		os.Exit(0)
	case errors.Is(err, unikernel.ErrHelp):
		fmt.Fprintln(os.Stderr, unikernel.Usage)
		os.Exit(1)
	case errors.As(err, &ue):
		fmt.Fprintf(os.Stderr, "%s: %s\n%s\n", prog, ue.Msg, unikernel.Usage)
		os.Exit(1)
	case err != nil:
		sptFail(prog, err)
	}
	t, err := unikernel.Prepare(opts)
	if err != nil {
		if errors.As(err, &ue) {
			fmt.Fprintf(os.Stderr, "%s: %s\n%s\n", prog, ue.Msg, unikernel.Usage)
			os.Exit(1)
		}
		sptFail(prog, err)
	}
	pid, err := t.Start()
	if err != nil {
		sptFail(prog, err)
	}
	t.Close()
	exitlike.Exit(unikernel.Wait(pid))
}

func sptFail(prog string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", prog, err)
	os.Exit(1)
}
