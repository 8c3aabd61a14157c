package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/runx-dev/runx/isolation"
)

var listCommand = &cli.Command{
	Name:      "list",
	Usage:     "lists containers started by runx with the given root",
	ArgsUsage: " ",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: `select one of: table or json`},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "display only container IDs"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 0, true); err != nil {
			return err
		}
		format := c.String("format")
		if format != "table" && format != "json" {
			return fmt.Errorf("--format: invalid format %q (want table or json)", format)
		}
		states, err := listStates(c)
		if err != nil {
			return err
		}
		if c.Bool("quiet") {
			for _, s := range states {
				fmt.Println(s.ID)
			}
			return nil
		}
		if format == "json" {
			return json.NewEncoder(os.Stdout).Encode(states)
		}
		w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
		fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
		for _, s := range states {
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle,
				s.Created.Format(time.RFC3339Nano), s.Owner)
		}
		return w.Flush()
	},
}

func listStates(c *cli.Context) ([]*isolation.State, error) {
	root := c.String("root")
	if _, err := os.Stat(root); err != nil && c.IsSet("root") {
		return nil, fmt.Errorf("--root %s: %w", root, err)
	}
	ids, err := isolation.List(root)
	if err != nil {
		return nil, fmt.Errorf("--root %s: %w", root, err)
	}
	var states []*isolation.State
	for _, id := range ids {
		ct, err := isolation.Load(root, id)
		if err != nil {
			fmt.Fprintf(os.Stderr, "load container %s: %v\n", id, err)
			continue
		}
		st, err := ct.State()
		if err != nil {
			fmt.Fprintf(os.Stderr, "state for %s: %v\n", id, err)
			continue
		}
		st.Owner = owner(filepath.Join(root, id))
		states = append(states, st)
	}
	return states, nil
}

// owner is the user name owning a state directory, or #uid when it has none.
func owner(dir string) string {
	fi, err := os.Stat(dir)
	if err != nil {
		return ""
	}
	uid := strconv.Itoa(int(fi.Sys().(*syscall.Stat_t).Uid))
	if u, err := user.LookupId(uid); err == nil {
		return u.Username
	}
	return "#" + uid
}
