package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/runx-dev/runx/isolation"
)

var checkCommand = &cli.Command{
	Name:      "check",
	Usage:     "tell, for each isolation mode, whether this host can run it and why not",
	ArgsUsage: "[mode...]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
	},
	Action: func(c *cli.Context) error {
		names := c.Args().Slice()
		if len(names) == 0 {
			names = isolation.Names()
		}
		var reports []isolation.Report
		for _, n := range names {
			m, err := isolation.Get(n)
			if err != nil {
				return err
			}
			reports = append(reports, m.Check())
		}
		switch c.String("format") {
		case "json":
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(reports)
		case "table":
		default:
			return fmt.Errorf("--format: invalid format %q (want table or json)", c.String("format"))
		}
		for _, r := range reports {
			verdict := "yes"
			if !r.Usable {
				verdict = "no: " + r.Why
			}
			fmt.Printf("%-10s %s\n", r.Mode, verdict)
			if len(r.Facts) > 0 {
				fmt.Printf("%-10s   %s\n", "", strings.Join(r.Facts, "; "))
			}
		}
		return nil
	},
}
