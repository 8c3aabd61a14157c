package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/runx-dev/runx/isolation"
)

// Flags shared by create and run.
func containerFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Usage: "path to the root of the bundle directory, defaults to the current directory"},
		&cli.StringFlag{Name: "console-socket", Usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal"},
		&cli.StringFlag{Name: "pidfd-socket", Usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the init process"},
		&cli.StringFlag{Name: "pid-file", Usage: "specify the file to write the process id to"},
		&cli.BoolFlag{Name: "no-pivot", Usage: "do not use pivot root to jail process inside rootfs"},
		&cli.BoolFlag{Name: "no-new-keyring", Usage: "do not create a new session keyring for the container"},
		&cli.IntFlag{Name: "preserve-fds", Usage: "pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)"},
	}
}

var createCommand = &cli.Command{
	Name:  "create",
	Usage: "create a container",
	ArgsUsage: `<container-id>

Where "<container-id>" is your name for the instance of the container that you
are starting. The name you provide for the container instance must be unique on
your host.`,
	Flags: containerFlags(),
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, true); err != nil {
			return err
		}
		if _, err := startContainer(c, false); err != nil {
			return fmt.Errorf("runx create failed: %w", err)
		}
		return nil
	},
}

// startContainer is create (run=false) and run (run=true): it reads the bundle,
// picks the isolation mode and hands the container to it.
func startContainer(c *cli.Context, run bool) (int, error) {
	mode, req, err := createRequest(c, run)
	if err != nil {
		return -1, err
	}
	return mode.Create(req)
}

// restoreContainer is restore: a container made as run makes it, with its
// process restored from opts' checkpoint by a mode that can.
func restoreContainer(c *cli.Context, opts *isolation.CheckpointOptions) (int, error) {
	mode, req, err := createRequest(c, true)
	if err != nil {
		return -1, err
	}
	r, ok := mode.(isolation.Restorer)
	if !ok {
		return -1, isolation.NamespaceModeOnly("restore", mode.Name())
	}
	return r.Restore(req, opts)
}

// createRequest reads the bundle and the flags of create, run and restore,
// and picks the isolation mode.
func createRequest(c *cli.Context, run bool) (isolation.Mode, *isolation.CreateRequest, error) {
	id, err := containerID(c)
	if err != nil {
		return nil, nil, err
	}
	bundle, err := absPath(c, "bundle")
	if err != nil {
		return nil, nil, err
	}
	if bundle == "" {
		if bundle, err = os.Getwd(); err != nil {
			return nil, nil, err
		}
	}
	pidFile, err := absPath(c, "pid-file")
	if err != nil {
		return nil, nil, err
	}
	if s := c.String("console-socket"); s != "" {
		if fi, err := os.Stat(s); err != nil {
			return nil, nil, fmt.Errorf("--console-socket %s: %w", s, err)
		} else if fi.Mode()&os.ModeSocket == 0 {
			return nil, nil, fmt.Errorf("--console-socket %s: not a unix socket", s)
		}
	}
	spec, err := loadSpec(bundle)
	if err != nil {
		return nil, nil, err
	}
	mode, err := isolation.Select(spec, c.String("isolation"), os.Args[0])
	if err != nil {
		return nil, nil, err
	}
	root := c.String("root")
	if _, err := os.Stat(root + "/" + id); err == nil {
		return nil, nil, fmt.Errorf("container %q: container with given ID already exists", id)
	}
	if err := os.MkdirAll(root, 0o711); err != nil {
		return nil, nil, fmt.Errorf("--root %s: %w", root, err)
	}
	if err := os.Chdir(bundle); err != nil {
		return nil, nil, fmt.Errorf("bundle %s: %w", bundle, err)
	}
	return mode, &isolation.CreateRequest{
		Root:          root,
		ID:            id,
		Bundle:        bundle,
		Spec:          spec,
		PidFile:       pidFile,
		ConsoleSocket: c.String("console-socket"),
		PidfdSocket:   c.String("pidfd-socket"),
		NoPivot:       c.Bool("no-pivot"),
		NoNewKeyring:  c.Bool("no-new-keyring"),
		PreserveFDs:   c.Int("preserve-fds"),
		Run:           run,
		Detach:        c.Bool("detach"),
		Keep:          c.Bool("keep"),
		NoSubreaper:   c.Bool("no-subreaper"),
		SystemdCgroup: c.Bool("systemd-cgroup"),
		Rootless:      c.String("rootless"),
	}, nil
}
