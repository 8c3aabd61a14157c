package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"

	"github.com/runx-dev/runx/isolation"
)

var execCommand = &cli.Command{
	Name:  "exec",
	Usage: "execute new process inside the container",
	ArgsUsage: `<container-id> <command> [command options]  || -p process.json <container-id>

Where "<container-id>" is the name for the instance of the container and
"<command>" is the command to be executed in the container.`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "console-socket", Usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal"},
		&cli.StringFlag{Name: "pidfd-socket", Usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the exec process"},
		&cli.StringFlag{Name: "cwd", Usage: "current working directory in the container"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set environment variables"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-TTY"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "UID (format: <uid>[:<gid>])"},
		&cli.Int64SliceFlag{Name: "additional-gids", Aliases: []string{"g"}, Usage: "additional gids"},
		&cli.StringFlag{Name: "process", Aliases: []string{"p"}, Usage: "path to the process.json"},
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "detach from the container's process"},
		&cli.StringFlag{Name: "pid-file", Usage: "specify the file to write the process id to"},
		&cli.StringFlag{Name: "process-label", Usage: "set the asm process label for the process commonly used with selinux"},
		&cli.StringFlag{Name: "apparmor", Usage: "set the apparmor profile for the process"},
		&cli.BoolFlag{Name: "no-new-privs", Usage: "set the no new privileges value for the process"},
		&cli.StringSliceFlag{Name: "cap", Aliases: []string{"c"}, Usage: "add a capability to the bounding set for the process"},
		&cli.IntFlag{Name: "preserve-fds", Usage: "pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)"},
		&cli.StringSliceFlag{Name: "cgroup", Usage: "run the process in an (existing) sub-cgroup(s). Format is [<controller>:]<cgroup>."},
		&cli.BoolFlag{Name: "ignore-paused", Usage: "allow exec in a paused container"},
	},
	SkipFlagParsing: false,
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, false); err != nil {
			return err
		}
		status, err := execProcess(c)
		if err != nil {
			var ue usageError
			if errors.As(err, &ue) {
				return err
			}
			// As runc: 255 tells exec's own failure from the program's status.
			return exitStatus{fmt.Errorf("exec failed: %w", err), 255}
		}
		os.Exit(status)
		return nil
	},
}

func execProcess(c *cli.Context) (int, error) {
	ct, err := getContainer(c)
	if err != nil {
		return -1, err
	}
	st, err := ct.State()
	if err != nil {
		return -1, err
	}
	if st.Status == "stopped" {
		return -1, errors.New("cannot exec in a stopped container")
	}
	p, err := execSpec(c, st.Bundle)
	if err != nil {
		return -1, err
	}
	pidFile, err := absPath(c, "pid-file")
	if err != nil {
		return -1, err
	}
	if pidFile != "" {
		// Checked before the process starts, which then need not be undone.
		if _, err := os.Stat(filepath.Dir(pidFile)); err != nil {
			return -1, fmt.Errorf("--pid-file %s: %w", pidFile, err)
		}
	}
	if s := c.String("console-socket"); s != "" {
		if fi, err := os.Stat(s); err != nil {
			return -1, fmt.Errorf("--console-socket %s: %w", s, err)
		} else if fi.Mode()&os.ModeSocket == 0 {
			return -1, fmt.Errorf("--console-socket %s: not a unix socket", s)
		}
	}
	sub, err := parseSubCgroups(c.StringSlice("cgroup"))
	if err != nil {
		return -1, err
	}
	return ct.Exec(&isolation.ExecRequest{
		Process:       p,
		Detach:        c.Bool("detach"),
		PidFile:       pidFile,
		ConsoleSocket: c.String("console-socket"),
		PidfdSocket:   c.String("pidfd-socket"),
		PreserveFDs:   c.Int("preserve-fds"),
		SubCgroup:     sub,
		IgnorePaused:  c.Bool("ignore-paused"),
	})
}

// parseProcess decodes and checks the process JSON read from path (--process).
func parseProcess(path string, data []byte) (*specs.Process, error) {
	var p specs.Process
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("--process %s: malformed JSON: %s", path, jsonErrorPlace(data, err))
	}
	if err := validateProcess(&p); err != nil {
		return nil, fmt.Errorf("--process %s: %w", path, err)
	}
	return &p, nil
}

// execSpec builds the process to exec: --process, or the container's own
// process from its config.json with the command line's changes on top.
func execSpec(c *cli.Context, bundle string) (*specs.Process, error) {
	if path := c.String("process"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--process %s: %w", path, err)
		}
		return parseProcess(path, data)
	}
	data, err := os.ReadFile(filepath.Join(bundle, specConfig))
	if err != nil {
		return nil, fmt.Errorf("reading the container's %s: %w", specConfig, err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("the container's %s: %w", filepath.Join(bundle, specConfig), err)
	}
	if spec.Process == nil {
		return nil, fmt.Errorf("the container's %s has no process", filepath.Join(bundle, specConfig))
	}
	p := spec.Process
	p.Args = c.Args().Slice()[1:]
	if len(p.Args) == 0 {
		return nil, usageError{errors.New("exec: no command given (pass it after the container id, or use --process)")}
	}
	p.Terminal = c.Bool("tty")
	p.Env = append(p.Env, c.StringSlice("env")...)
	if cwd := c.String("cwd"); cwd != "" {
		p.Cwd = cwd
	}
	if c.IsSet("no-new-privs") {
		p.NoNewPrivileges = c.Bool("no-new-privs")
	}
	if v := c.String("apparmor"); v != "" {
		p.ApparmorProfile = v
	}
	if v := c.String("process-label"); v != "" {
		p.SelinuxLabel = v
	}
	if caps := c.StringSlice("cap"); len(caps) > 0 {
		if p.Capabilities == nil {
			p.Capabilities = &specs.LinuxCapabilities{}
		}
		for _, cp := range caps {
			cp = strings.ToUpper(cp)
			if !strings.HasPrefix(cp, "CAP_") {
				cp = "CAP_" + cp
			}
			p.Capabilities.Bounding = append(p.Capabilities.Bounding, cp)
			p.Capabilities.Effective = append(p.Capabilities.Effective, cp)
			p.Capabilities.Permitted = append(p.Capabilities.Permitted, cp)
		}
	}
	if u := c.String("user"); u != "" {
		uid, gid, hasGID := strings.Cut(u, ":")
		n, err := strconv.ParseUint(uid, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--user %q: uid must be a number", u)
		}
		p.User.UID = uint32(n)
		if hasGID {
			g, err := strconv.ParseUint(gid, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("--user %q: gid must be a number", u)
			}
			p.User.GID = uint32(g)
		}
	}
	for _, g := range c.Int64Slice("additional-gids") {
		if g < 0 {
			return nil, fmt.Errorf("--additional-gids: %d is not a valid gid", g)
		}
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(g))
	}
	if err := validateProcess(p); err != nil {
		return nil, err
	}
	return p, nil
}

// parseSubCgroups reads --cgroup values: "path" for every controller, or
// "ctrl[,ctrl]:path" for some.
func parseSubCgroups(vals []string) (map[string]string, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, v := range vals {
		ctrls, path, found := strings.Cut(v, ":")
		if !found {
			path = v
		}
		// Below the container's cgroup or the cgroup itself, in runc's words.
		if rel := filepath.Clean(strings.TrimLeft(path, "/")); rel == ".." || strings.HasPrefix(rel, "../") {
			return nil, fmt.Errorf("--cgroup %q: %s is not a sub cgroup path", v, path)
		}
		if !found {
			if len(vals) != 1 {
				return nil, fmt.Errorf("--cgroup %q: a path for all controllers cannot be combined with others", v)
			}
			m[""] = v
			continue
		}
		for _, ctrl := range strings.Split(ctrls, ",") {
			if _, dup := m[ctrl]; dup {
				return nil, fmt.Errorf("--cgroup %q: controller %s given twice", v, ctrl)
			}
			m[ctrl] = path
		}
	}
	return m, nil
}
