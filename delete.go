package main

import (
	"errors"
	"fmt"

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
			id := c.Args().First()
			if errors.Is(err, isolation.ErrNotExist) {
				// A half-written state directory (runx killed during create)
				// goes, with the cgroups and processes it records; with --force
				// a missing container is not an error.
				if ferr := isolation.ForceRemove(c.String("root"), id); ferr != nil {
					return ferr
				}
				if c.Bool("force") {
					return nil
				}
			} else if c.Bool("force") && isolation.ValidateID(id) == nil {
				// A state that cannot be read: what the container holds is
				// found through its record instead.
				if ferr := isolation.ForceRemove(c.String("root"), id); ferr != nil {
					return fmt.Errorf("%w; removing it by its record: %w", err, ferr)
				}
				return nil
			}
			return err
		}
		return ct.Delete(c.Bool("force"))
	},
}
