package sandbox

import (
	"fmt"
	"sort"
	"strings"
)

// What the syscall table says, for people: `runx syscalls` and the coverage
// tables of README.md.

// SyscallInfo is one x86_64 system call in the sandbox.
type SyscallInfo struct {
	Nr      int    `json:"nr"`
	Name    string `json:"name"`
	Filter  string `json:"filter"`  // "all", "none", or the checks under which the filter passes it
	Support string `json:"support"` // unsupported, passed, checked, emulated, refused
	Note    string `json:"note"`    // why passing it is safe, and how the Sentry serves the rest
}

// Syscalls lists every x86_64 system call, in number order.
func Syscalls() []SyscallInfo {
	nrs := make([]int, 0, len(sysNames))
	for nr := range sysNames {
		nrs = append(nrs, nr)
	}
	sort.Ints(nrs)
	out := make([]SyscallInfo, 0, len(nrs))
	for _, nr := range nrs {
		info := SyscallInfo{Nr: nr, Name: sysNames[nr], Filter: "none", Support: unsupported.String(),
			Note: "ENOSYS, logged once"}
		if row := rowOf[nr]; row != nil {
			info.Filter = row.filterText()
			info.Support = row.support.String()
			var notes []string
			for _, s := range []string{row.why, row.how} {
				if s != "" {
					notes = append(notes, s)
				}
			}
			info.Note = strings.Join(notes, "; ")
		}
		out = append(out, info)
	}
	return out
}

func (r *syscallRow) filterText() string {
	switch {
	case r.filter == nil:
		return "none"
	case r.checks != "":
		return r.checks
	default:
		return "all"
	}
}

// statusLabel is the README's word for a support level.
var statusLabel = map[support]string{
	passed: "passed", checked: "checked, passed", emulated: "emulated", refused: "refused",
}

// CoverageMarkdown is README.md's two coverage tables: the calls the filter
// passes, and those the Sentry serves. Calls with the same text share a line,
// in the order of their first call.
func CoverageMarkdown() string {
	type line struct {
		names []string
		cols  [2]string
	}
	group := func(keep func(r *syscallRow) bool, cols func(r *syscallRow) [2]string) []*line {
		var lines []*line
		at := map[[2]string]*line{}
		for i := range syscallTable {
			r := &syscallTable[i]
			if !keep(r) {
				continue
			}
			c := cols(r)
			l := at[c]
			if l == nil {
				l = &line{cols: c}
				at[c] = l
				lines = append(lines, l)
			}
			l.names = append(l.names, "`"+sysName(r.nr)+"`")
		}
		return lines
	}
	var b strings.Builder
	write := func(title, head string, lines []*line, last string) {
		fmt.Fprintf(&b, "### %s\n\n%s\n|---|---|---|\n", title, head)
		for _, l := range lines {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", strings.Join(l.names, " "), l.cols[0], l.cols[1])
		}
		fmt.Fprintf(&b, "%s\n", last)
	}
	write("Passed to the host by the filter", "| System calls | Checks | Why it is safe |",
		group(func(r *syscallRow) bool { return r.filter != nil }, func(r *syscallRow) [2]string {
			checks := r.checks
			if checks == "" {
				checks = "none"
			}
			return [2]string{checks, r.why}
		}),
		"| any other architecture (`int 0x80`), x32 numbers | refused by the filter with `ENOSYS` | |")
	b.WriteString("\n")
	write("Served by the Sentry", "| System calls | Status | How |",
		group(func(r *syscallRow) bool { return r.handler != nil }, func(r *syscallRow) [2]string {
			return [2]string{statusLabel[r.support], r.how}
		}),
		"| everything else | `ENOSYS`, logged once | e.g. `io_uring_*`, `bpf`, `perf_event_open`, `pidfd_getfd`, `process_vm_*`, `kcmp`, `keyctl`, `name_to_handle_at` |")
	return b.String()
}
