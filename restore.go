package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
)

var restoreCommand = &cli.Command{
	Name:  "restore",
	Usage: "restore a container from a previous checkpoint (with CRIU; the namespace isolation mode)",
	ArgsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container to be
restored.`,
	Flags: append(criuFlags(),
		&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Usage: "path to the root of the bundle directory, defaults to the current directory"},
		&cli.StringFlag{Name: "console-socket", Usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal"},
		&cli.StringFlag{Name: "pid-file", Usage: "specify the file to write the process id to"},
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "detach from the container's process"},
		&cli.BoolFlag{Name: "no-subreaper", Usage: "disable the use of the subreaper used to reap reparented processes"},
		&cli.BoolFlag{Name: "no-pivot", Usage: "do not use pivot root to jail process inside rootfs"},
		&cli.StringFlag{Name: "lsm-profile", Usage: "the LSM profile to restore the container with (type:label)"},
		&cli.StringFlag{Name: "lsm-mount-context", Usage: "the SELinux mount context to restore the container's mounts with"},
	),
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, true); err != nil {
			return err
		}
		opts, err := criuOptions(c)
		if err != nil {
			return err
		}
		if fi, err := os.Stat(opts.ImagesDirectory); err != nil {
			return fmt.Errorf("runx restore failed: --image-path %s: %w", opts.ImagesDirectory, err)
		} else if !fi.IsDir() {
			return fmt.Errorf("runx restore failed: --image-path %s: not a directory", opts.ImagesDirectory)
		}

		opts.LsmProfile = c.String("lsm-profile")
		opts.LsmMountContext = c.String("lsm-mount-context")
		status, err := restoreContainer(c, opts)
		if err != nil {
			return fmt.Errorf("runx restore failed: %w", err)
		}
		// As run: the restored process's exit status is runx's.
		os.Exit(status)
		return nil
	},
}
