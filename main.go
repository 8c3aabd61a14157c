// runx is an OCI container runtime with the command line of runc and a choice of
// isolation modes per container (namespace, sandbox, microvm, unikernel).
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/opencontainers/runc/libcontainer"
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
	"github.com/opencontainers/runc/libcontainer/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/runx-dev/runx/isolation"
	_ "github.com/runx-dev/runx/libct"
	_ "github.com/runx-dev/runx/microvm"
	_ "github.com/runx-dev/runx/sandbox"
	_ "github.com/runx-dev/runx/unikernel"
)

// Set at build time.
var (
	version   = "0.1.0"
	gitCommit = ""
)

func init() {
	// libcontainer re-executes this binary as "<argv0> init" to set up the
	// container from inside its namespaces; nsenter's constructor has already run.
	if len(os.Args) > 1 && os.Args[1] == "init" {
		libcontainer.Init()
	}
}

const usage = `an OCI container runtime with a choice of isolation per container

runx runs OCI bundles exactly as runc does (same commands, flags, state and exit
codes) under the isolation each bundle asks for: the annotation
"dev.runx.isolation" in config.json, else the --isolation flag, else the name
runx was called by (runx-namespace, runx-sandbox, ...), else "namespace".

    # runx run [ -b bundle ] <container-id>`

func main() {
	// The tender skips the command-line framework: its start-up time is the
	// unikernel's (the spt command below only serves help and global flags).
	if len(os.Args) > 1 && os.Args[1] == "spt" {
		runSpt("runx spt", os.Args[2:])
	}
	// A mode's own program (solo5-spt, the Sentry, a guest agent, ...), by
	// the name runx was started as.
	if entry := isolation.EntryFor(os.Args[0]); entry != nil {
		entry(os.Args[1:])
	}
	app := newApp()
	if err := app.Run(interspersed(app, os.Args)); err != nil {
		fatal(err)
	}
}

func newApp() *cli.App {
	app := cli.NewApp()
	app.Name = "runx"
	app.Usage = usage
	app.Version = version
	app.HideHelpCommand = true
	app.DisableSliceFlagSeparator = true // "--env A=b,c" is one variable
	cli.VersionPrinter = printVersion
	app.Flags = []cli.Flag{
		&cli.BoolFlag{Name: "debug", Usage: "enable debug logging"},
		&cli.StringFlag{Name: "log", Usage: "set the log file to write runx logs to (default is '/dev/stderr')"},
		&cli.StringFlag{Name: "log-format", Value: "text", Usage: "set the log format ('text' (default), or 'json')"},
		&cli.StringFlag{Name: "root", Value: defaultRoot(), Usage: "root directory for storage of container state (this should be located in tmpfs)"},
		&cli.BoolFlag{Name: "systemd-cgroup", Usage: "enable systemd cgroup support, expects cgroupsPath to be of form \"slice:prefix:name\""},
		&cli.StringFlag{Name: "rootless", Value: "auto", Usage: "ignore cgroup permission errors ('true', 'false', or 'auto')"},
		&cli.StringFlag{Name: "isolation", Usage: "isolation mode for new containers when config.json does not name one (" + strings.Join(isolation.Names(), ", ") + ")"},
	}
	app.Commands = []*cli.Command{
		checkCommand, checkpointCommand, createCommand, deleteCommand, eventsCommand, execCommand,
		featuresCommand, killCommand, listCommand, pauseCommand, psCommand,
		restoreCommand, resumeCommand, runCommand, specCommand, startCommand, stateCommand,
		updateCommand, sptCommand, syscallsCommand, tasksCommand, vmmCommand,
	}
	app.Before = setupGlobal
	app.CommandNotFound = func(_ *cli.Context, name string) {
		// runc's words (urfave/cli's) first: scripts match on them.
		fatal(usageError{fmt.Errorf("No help topic for '%s': unknown command %q (see runx --help)", name, name)})
	}
	app.ExitErrHandler = func(*cli.Context, error) {} // main reports errors itself
	app.OnUsageError = func(c *cli.Context, err error, _ bool) error {
		return usageError{err}
	}
	return app
}

func defaultRoot() string {
	if os.Geteuid() != 0 {
		if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
			return filepath.Join(d, "runx")
		}
	}
	return "/run/runx"
}

// usageError is a bad flag or argument: reported like runc, with exit status 1.
type usageError struct{ error }

// exitStatus is an error reported with a status other than 1: exec's own
// failures exit 255, as runc's do, so that callers tell them from the status
// of the program run.
type exitStatus struct {
	error
	code int
}

func (e exitStatus) Unwrap() error { return e.error }

func setupGlobal(c *cli.Context) error {
	if err := configureLogging(c); err != nil {
		return err
	}
	switch c.String("rootless") {
	case "auto", "true", "false":
	default:
		return fmt.Errorf("--rootless: invalid value %q (want true, false or auto)", c.String("rootless"))
	}
	if v := c.String("isolation"); v != "" {
		if _, err := isolation.Get(v); err != nil {
			return fmt.Errorf("--isolation: %w", err)
		}
	}
	if c.Bool("systemd-cgroup") {
		if _, err := os.Stat("/run/systemd/system"); err != nil {
			return errors.New("--systemd-cgroup: systemd is not running on this host (no /run/systemd/system); drop the flag to use cgroupfs")
		}
	}
	root, err := filepath.Abs(c.String("root"))
	if err != nil {
		return fmt.Errorf("--root %s: %w", c.String("root"), err)
	}
	return c.Set("root", root)
}

// logToStderr is true when logs already go to stderr, so errors are not printed twice.
var logToStderr = true

func configureLogging(c *cli.Context) error {
	if c.Bool("debug") {
		logrus.SetLevel(logrus.DebugLevel)
	}
	if path := c.String("log"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_SYNC, 0o644)
		if err != nil {
			return fmt.Errorf("--log %s: %w", path, err)
		}
		logrus.SetOutput(f)
		logToStderr = false
	} else {
		logrus.SetOutput(os.Stderr)
	}
	switch c.String("log-format") {
	case "text":
	case "json":
		logrus.SetFormatter(new(logrus.JSONFormatter))
	default:
		return fmt.Errorf("--log-format: unknown format %q (want text or json)", c.String("log-format"))
	}
	return nil
}

// fatal logs err where --log points, prints it on stderr and exits 1 (or
// the status an exitStatus carries).
func fatal(err error) {
	code := 1
	var es exitStatus
	if errors.As(err, &es) {
		code = es.code
	}
	var ue usageError
	if errors.As(err, &ue) {
		err = ue.error
	}
	msg := isolation.HookWording(err.Error())
	if logToStderr {
		if !strings.HasPrefix(msg, "runx ") { // "runx create failed: ..." names itself
			msg = "runx: " + msg
		}
		fmt.Fprintln(os.Stderr, msg)
	} else {
		logrus.Error(msg)
		fmt.Fprintln(os.Stderr, msg)
	}
	os.Exit(code)
}

func printVersion(c *cli.Context) {
	w := c.App.Writer
	fmt.Fprintf(w, "runx version %s\n", c.App.Version)
	if gitCommit != "" {
		fmt.Fprintf(w, "commit: %s\n", gitCommit)
	}
	fmt.Fprintf(w, "spec: %s\n", specs.Version)
	fmt.Fprintf(w, "go: %s\n", runtime.Version())
	if major, minor, micro := seccomp.Version(); major+minor+micro > 0 {
		fmt.Fprintf(w, "libseccomp: %d.%d.%d\n", major, minor, micro)
	}
	fmt.Fprintf(w, "isolation modes: %s\n", strings.Join(isolation.Names(), ", "))
}
