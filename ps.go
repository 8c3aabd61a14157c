package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/runc/libcontainer/system"
	"github.com/runx-dev/runx/isolation"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

var psCommand = &cli.Command{
	Name:      "ps",
	Usage:     "ps displays the processes running inside a container",
	ArgsUsage: `<container-id> [ps options]`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: `select one of: table or json`},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, false); err != nil {
			return err
		}
		format := c.String("format")
		if format != "table" && format != "json" {
			return fmt.Errorf("--format: invalid format %q (want table or json)", format)
		}
		ct, err := getContainer(c)
		if err != nil {
			return err
		}
		pids, err := ct.Processes()
		if err != nil {
			return err
		}
		if format == "json" {
			if pids == nil {
				pids = []int{}
			}
			return json.NewEncoder(os.Stdout).Encode(pids)
		}
		if t, ok := ct.(isolation.ProcessTabler); ok {
			out, err := t.ProcessTable(c.Args().Slice()[1:])
			if err != nil {
				return err
			}
			fmt.Print(out)
			return nil
		}
		return psTable(pids, c.Args().Slice()[1:])
	},
}

// psTable runs the host's ps and keeps the header and the container's lines.
func psTable(pids []int, psArgs []string) error {
	if len(psArgs) == 0 {
		psArgs = []string{"-ef"}
	}
	out, err := exec.Command("ps", psArgs...).Output()
	if errors.Is(err, exec.ErrNotFound) && slices.Equal(psArgs, []string{"-ef"}) {
		// No ps program (a microvm guest has none): the same table from /proc.
		return procTable(pids)
	}
	if errors.Is(err, exec.ErrNotFound) {
		return fmt.Errorf("ps %s: there is no ps program here to take options (runx ps ID alone prints the table itself)", strings.Join(psArgs, " "))
	}
	if err != nil {
		return fmt.Errorf("ps %s: %w", strings.Join(psArgs, " "), err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	pidCol := -1
	for i, name := range strings.Fields(lines[0]) {
		if name == "PID" {
			pidCol = i
		}
	}
	if pidCol < 0 {
		return fmt.Errorf("ps %s: its output has no PID column", strings.Join(psArgs, " "))
	}
	in := map[int]bool{}
	for _, p := range pids {
		in[p] = true
	}
	fmt.Println(lines[0])
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) <= pidCol {
			continue
		}
		if p, err := strconv.Atoi(f[pidCol]); err == nil && in[p] {
			fmt.Println(l)
		}
	}
	return nil
}

// procTable prints pids as ps -ef does, read from /proc: UID, PID, PPID, C
// (CPU use in percent), STIME, TTY, TIME and CMD.
func procTable(pids []int) error {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return err
	}
	boot := time.Now().Add(-time.Duration(si.Uptime) * time.Second)
	const hz = 100 // USER_HZ
	fmt.Printf("%-8s %7s %7s %2s %5s %-8s %8s %s\n", "UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD")
	for _, pid := range pids {
		st, err := system.Stat(pid)
		if err != nil {
			continue // gone since
		}
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// After the command's closing parenthesis: state ppid pgrp session tty_nr ... utime(12) stime(13).
		f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		tty, _ := strconv.Atoi(f[4])
		ut, _ := strconv.ParseUint(f[11], 10, 64)
		stt, _ := strconv.ParseUint(f[12], 10, 64)
		cpu := time.Duration(ut+stt) * time.Second / hz
		started := boot.Add(time.Duration(st.StartTime) * time.Second / hz)
		c := 0
		if life := time.Since(started); life > 0 {
			c = int(cpu * 100 / life)
		}
		ttyName := "?"
		if tty != 0 {
			ttyName = fmt.Sprintf("pts/%d", unix.Minor(uint64(tty)))
		}
		stime := started.Format("15:04")
		if time.Since(started) > 24*time.Hour {
			stime = started.Format("Jan02")
		}
		cmd := st.Name
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && len(b) > 0 {
			cmd = strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
		} else {
			cmd = "[" + cmd + "]"
		}
		uid := "?"
		if status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
			for _, l := range strings.Split(string(status), "\n") {
				if v, ok := strings.CutPrefix(l, "Uid:"); ok {
					if u := strings.Fields(v); len(u) > 0 {
						uid = u[0]
					}
				}
			}
		}
		if uid == "0" {
			uid = "root"
		}
		t := int(cpu / time.Second)
		fmt.Printf("%-8s %7d %7d %2d %5s %-8s %02d:%02d:%02d %s\n", uid, pid, ppid, c, stime, ttyName, t/3600, t/60%60, t%60, cmd)
	}
	return nil
}
