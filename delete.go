package main

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/runx-dev/runx/isolation"
)

var deleteCommand = &cli.Command{
	Name:  "delete",
	Usage: "delete any resources held by the container often used with detached container",
	ArgsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container.`,
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "Forcibly deletes the container if it is still running (uses SIGKILL)"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, true); err != nil {
			return err
		}
		ct, err := getContainer(c)
		if err != nil {
			if errors.Is(err, isolation.ErrNotExist) {
				// A half-written state directory (a crash during create) is removed
				// anyway; with --force a missing container is not an error.
				_ = os.RemoveAll(filepath.Join(c.String("root"), c.Args().First()))
				if c.Bool("force") {
					return nil
				}
			}
			return err
		}
		return ct.Delete(c.Bool("force"))
	},
}
