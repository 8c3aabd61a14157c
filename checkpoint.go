package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/runx-dev/runx/isolation"
)

var checkpointCommand = &cli.Command{
	Name:  "checkpoint",
	Usage: "checkpoint a running container (with CRIU; the namespace isolation mode)",
	ArgsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container to be
checkpointed.`,
	Flags: append(criuFlags(),
		&cli.StringFlag{Name: "parent-path", Usage: "path for previous criu image files in pre-dump (relative to --image-path)"},
		&cli.BoolFlag{Name: "leave-running", Usage: "leave the process running after checkpointing"},
		&cli.BoolFlag{Name: "tcp-skip-in-flight", Usage: "skip in-flight tcp connections"},
		&cli.BoolFlag{Name: "link-remap", Usage: "allow one to link unlinked files back when possible"},
		&cli.StringFlag{Name: "page-server", Usage: "ADDRESS:PORT of the page server"},
		&cli.IntFlag{Name: "status-fd", Value: -1, Usage: "criu writes \\0 to this fd once lazy-pages is ready"},
		&cli.BoolFlag{Name: "pre-dump", Usage: "dump container's memory information only, leave the container running after this"},
	),
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, true); err != nil {
			return err
		}
		ct, err := getContainer(c)
		if err != nil {
			return err
		}
		cp, ok := ct.(isolation.Checkpointer)
		if !ok {
			return isolation.NamespaceModeOnly("checkpoint", ct.Mode())
		}
		opts, err := criuOptions(c)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(opts.ImagesDirectory, 0o700); err != nil {
			return fmt.Errorf("--image-path %s: %w", opts.ImagesDirectory, err)
		}
		if parent := c.String("parent-path"); parent != "" {
			// CRIU follows it from the image directory.
			if filepath.IsAbs(parent) {
				return fmt.Errorf("--parent-path %s: must be relative to --image-path", parent)
			}
			real := filepath.Join(opts.ImagesDirectory, parent)
			if fi, err := os.Stat(real); err != nil {
				return fmt.Errorf("--parent-path %s: %w", parent, err)
			} else if !fi.IsDir() {
				return fmt.Errorf("--parent-path %s: %s is not a directory", parent, real)
			}
			opts.ParentImage = parent
		}
		opts.LeaveRunning = c.Bool("leave-running")
		opts.TcpSkipInFlight = c.Bool("tcp-skip-in-flight")
		opts.LinkRemap = c.Bool("link-remap")
		opts.PreDump = c.Bool("pre-dump")
		opts.StatusFd = c.Int("status-fd")
		if ps := c.String("page-server"); ps != "" {
			host, port, err := net.SplitHostPort(ps)
			n, perr := strconv.ParseInt(port, 10, 32)
			if err != nil || perr != nil || host == "" {
				return fmt.Errorf("--page-server %q: want ADDRESS:PORT", ps)
			}
			opts.PageServer = libcontainer.CriuPageServerInfo{Address: host, Port: int32(n)}
		}
		return cp.Checkpoint(opts)
	},
}

// criuFlags are the flags checkpoint and restore share, as runc names them.
func criuFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "image-path", Usage: "path for saving criu image files (default: ./checkpoint)"},
		&cli.StringFlag{Name: "work-path", Usage: "path for saving work files and logs (default: the image path)"},
		&cli.BoolFlag{Name: "tcp-established", Usage: "allow open tcp connections"},
		&cli.BoolFlag{Name: "ext-unix-sk", Usage: "allow external unix sockets"},
		&cli.BoolFlag{Name: "shell-job", Usage: "allow shell jobs"},
		&cli.BoolFlag{Name: "file-locks", Usage: "handle file locks, for safety"},
		&cli.BoolFlag{Name: "lazy-pages", Usage: "use userfaultfd to lazily restore memory pages"},
		&cli.StringFlag{Name: "manage-cgroups-mode", Usage: "cgroups mode: soft (default), full, strict or ignore"},
		&cli.StringSliceFlag{Name: "empty-ns", Usage: "create a namespace, but don't restore its properties"},
		&cli.BoolFlag{Name: "auto-dedup", Usage: "enable auto deduplication of memory images"},
	}
}

// criuNamespaces are the names --empty-ns takes.
var criuNamespaces = map[string]uint32{
	"network": unix.CLONE_NEWNET, "pid": unix.CLONE_NEWPID, "ipc": unix.CLONE_NEWIPC,
	"uts": unix.CLONE_NEWUTS, "mount": unix.CLONE_NEWNS, "user": unix.CLONE_NEWUSER,
	"cgroup": unix.CLONE_NEWCGROUP,
}

// criuOptions reads the flags of criuFlags.
func criuOptions(c *cli.Context) (*isolation.CheckpointOptions, error) {
	image, err := absPath(c, "image-path")
	if err != nil {
		return nil, err
	}
	if image == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		image = filepath.Join(wd, "checkpoint")
	}
	work, err := absPath(c, "work-path")
	if err != nil {
		return nil, err
	}
	opts := &isolation.CheckpointOptions{
		ImagesDirectory:         image,
		WorkDirectory:           work,
		TcpEstablished:          c.Bool("tcp-established"),
		ExternalUnixConnections: c.Bool("ext-unix-sk"),
		ShellJob:                c.Bool("shell-job"),
		FileLocks:               c.Bool("file-locks"),
		LazyPages:               c.Bool("lazy-pages"),
		AutoDedup:               c.Bool("auto-dedup"),
		ManageCgroupsMode:       c.String("manage-cgroups-mode"),
		StatusFd:                -1,
	}
	switch opts.ManageCgroupsMode {
	case "", "soft", "full", "strict", "ignore":
	default:
		return nil, fmt.Errorf("--manage-cgroups-mode %q: want soft, full, strict or ignore", opts.ManageCgroupsMode)
	}
	for _, ns := range c.StringSlice("empty-ns") {
		f, ok := criuNamespaces[ns]
		if !ok {
			return nil, fmt.Errorf("--empty-ns %q: not a namespace CRIU can leave empty (network, pid, ipc, uts, mount, user, cgroup)", ns)
		}
		opts.EmptyNs |= f
	}
	if opts.LazyPages && c.Command.Name == "checkpoint" && c.Int("status-fd") < 0 && c.String("page-server") == "" {
		return nil, errors.New("--lazy-pages needs --page-server or --status-fd: something must serve the pages")
	}
	return opts, nil
}
