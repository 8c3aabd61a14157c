package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/runx-dev/runx/microvm"
)

// tasksCommand lists the kernel's tasks and where each waits: what the
// microvm monitor asks a guest's agent for when the guest hangs.
var tasksCommand = &cli.Command{
	Name:   "tasks",
	Usage:  "list every task of this kernel with its state, wait channel and kernel stack",
	Hidden: true,
	Action: func(*cli.Context) error {
		microvm.WriteTasks(os.Stdout)
		return nil
	},
}
