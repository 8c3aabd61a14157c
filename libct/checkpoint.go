package libct

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/opencontainers/runc/libcontainer"

	"github.com/runx-dev/runx/isolation"
)

// Checkpoint and restore are CRIU's, through libcontainer, for the namespace
// mode only: a sandbox's Sentry keeps workload state CRIU cannot see through
// (its seccomp notifications, its own tables), and a unikernel's is its
// tender's; both are refused until they have a design of their own.

// criuPresent names the cause when CRIU is not installed, before
// libcontainer's lower-level error.
func criuPresent(op string) error {
	if _, err := exec.LookPath("criu"); err != nil {
		return fmt.Errorf("%s needs CRIU, which is not installed (Debian's criu package): %w", op, err)
	}
	return nil
}

// Checkpoint implements isolation.Checkpointer.
func (c *container) Checkpoint(opts *isolation.CheckpointOptions) error {
	if c.mode != Name {
		return isolation.NamespaceModeOnly("checkpoint", c.mode)
	}
	status, err := c.c.Status()
	if err != nil {
		return err
	}
	if status == libcontainer.Created || status == libcontainer.Stopped {
		return fmt.Errorf("container cannot be checkpointed in %s state", status)
	}
	if err := criuPresent("checkpoint"); err != nil {
		return err
	}
	if err := c.c.Checkpoint(opts); err != nil {
		return fmt.Errorf("checkpoint of %s: %w (CRIU's log: %s)", c.c.ID(), err, criuLog(opts, "dump.log"))
	}
	if opts.LeaveRunning || opts.PreDump {
		return nil
	}
	// As runc: the checkpointed container is gone from the host; restore
	// makes it again.
	return c.destroy()
}

// Restore implements isolation.Restorer.
func (Mode) Restore(req *isolation.CreateRequest, opts *isolation.CheckpointOptions) (int, error) {
	if err := criuPresent("restore"); err != nil {
		return -1, err
	}
	// CRIU's images start with inventory.img; without it there is nothing to restore.
	if _, err := os.Stat(filepath.Join(opts.ImagesDirectory, "inventory.img")); err != nil {
		return -1, fmt.Errorf("--image-path %s holds no checkpoint: %w", opts.ImagesDirectory, err)
	}
	status, err := create(req, nil, opts)
	if err != nil && strings.Contains(err.Error(), "criu failed") {
		err = fmt.Errorf("%w (CRIU's log: %s)", err, criuLog(opts, "restore.log"))
	}
	return status, err
}

// criuLog is where CRIU wrote its log: the work directory, else the images'.
func criuLog(opts *isolation.CheckpointOptions, name string) string {
	dir := opts.WorkDirectory
	if dir == "" {
		dir = opts.ImagesDirectory
	}
	return filepath.Join(dir, name)
}
