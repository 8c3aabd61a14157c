package main

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

var killCommand = &cli.Command{
	Name:  "kill",
	Usage: "kill sends the specified signal (default: SIGTERM) to the container's init process",
	ArgsUsage: `<container-id> [signal]

Where "<container-id>" is the name for the instance of the container and
"[signal]" is the signal to be sent to the init process.`,
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "send the specified signal to all processes inside the container"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, false); err != nil {
			return err
		}
		if c.NArg() > 2 {
			return usageError{fmt.Errorf("\"kill\" requires a maximum of 2 arguments, got %d", c.NArg())}
		}
		sigArg := c.Args().Get(1)
		if sigArg == "" {
			sigArg = "SIGTERM"
		}
		sig, err := parseSignal(sigArg)
		if err != nil {
			return err
		}
		ct, err := getContainer(c)
		if err != nil {
			return err
		}
		return ct.Signal(sig, c.Bool("all"))
	},
}

// parseSignal accepts "KILL", "SIGKILL", "kill", "9", and 0, which delivers
// nothing and only checks that the process is there.
func parseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 64 {
			return 0, fmt.Errorf("unknown signal %q: signal numbers go from 0 to 64", s)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	if sig, ok := realtimeSignal(name); ok {
		return sig, nil
	}
	return 0, fmt.Errorf("unknown signal %q", s)
}

// realtimeSignal reads SIGRTMIN, SIGRTMIN+n, SIGRTMAX and SIGRTMAX-n (glibc's
// SIGRTMIN is 34: the two below it belong to the thread library).
func realtimeSignal(name string) (syscall.Signal, bool) {
	const rtmin, rtmax = 34, 64
	base, off, sign := name, "", 1
	if i := strings.IndexAny(name, "+-"); i > 0 {
		base, off = name[:i], name[i+1:]
		if name[i] == '-' {
			sign = -1
		}
	}
	n := 0
	if off != "" {
		var err error
		if n, err = strconv.Atoi(off); err != nil || n < 0 {
			return 0, false
		}
	}
	var sig int
	switch base {
	case "SIGRTMIN":
		sig = rtmin + sign*n
	case "SIGRTMAX":
		sig = rtmax + sign*n
	default:
		return 0, false
	}
	if sig < rtmin || sig > rtmax {
		return 0, false
	}
	return syscall.Signal(sig), true
}
