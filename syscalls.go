package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/runx-dev/runx/sandbox"
)

// syscallsCommand lists what the sandbox mode does with each x86_64 system
// call, from its syscall table (sandbox/syscalls.go), as `runsc syscalls`
// does for gVisor.
var syscallsCommand = &cli.Command{
	Name:      "syscalls",
	Usage:     "list the system calls of the sandbox mode and how each is served",
	ArgsUsage: " ",
	Description: `For every x86_64 system call: its number, what the workload's seccomp filter
passes to the host kernel ("all", "none", or the checks it makes), the support
level (passed, checked, emulated, refused, unsupported) and a note.`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Value: "table", Usage: "table, json, csv or markdown (the coverage tables of sandbox/README.md)"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 0, true); err != nil {
			return err
		}
		list := sandbox.Syscalls()
		switch f := c.String("format"); f {
		case "json":
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(list)
		case "csv":
			w := csv.NewWriter(os.Stdout)
			_ = w.Write([]string{"nr", "name", "filter", "support", "note"})
			for _, s := range list {
				_ = w.Write([]string{strconv.Itoa(s.Nr), s.Name, s.Filter, s.Support, s.Note})
			}
			w.Flush()
			return w.Error()
		case "markdown":
			fmt.Print(sandbox.CoverageMarkdown())
			return nil
		case "table":
			w := tabwriter.NewWriter(os.Stdout, 0, 8, 2, ' ', 0)
			fmt.Fprintln(w, "NR\tNAME\tSUPPORT\tFILTER")
			for _, s := range list {
				filter := s.Filter
				if len(filter) > 60 {
					filter = filter[:57] + "..."
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", s.Nr, s.Name, s.Support, filter)
			}
			return w.Flush()
		default:
			return usageError{fmt.Errorf("--format: %q is not one of table, json, csv, markdown", f)}
		}
	},
}
