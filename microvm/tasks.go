package microvm

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/opencontainers/runc/libcontainer/system"
)

// WriteTasks writes the tasks of this kernel (the guest's, when the
// monitor asks its agent after a hang): pid/tid, state, name, where it
// sleeps (wchan) and, for a task not running, its kernel stack; kernel
// threads only when running or in uninterruptible sleep. What a hung
// guest's processes wait on, for vm.log.
func WriteTasks(w io.Writer) {
	pids, _ := filepath.Glob("/proc/[0-9]*")
	sort.Slice(pids, func(i, j int) bool { return procNum(pids[i]) < procNum(pids[j]) })
	for _, p := range pids {
		cmd := strings.ReplaceAll(strings.TrimRight(readFile(p+"/cmdline"), "\x00"), "\x00", " ")
		tids, _ := filepath.Glob(p + "/task/[0-9]*")
		sort.Slice(tids, func(i, j int) bool { return procNum(tids[i]) < procNum(tids[j]) })
		for _, t := range tids {
			st, err := system.Stat(procNum(t)) // /proc/TID/stat: the thread's own
			if err != nil {
				continue // gone meanwhile
			}
			name, state := st.Name, string(rune(st.State))
			if cmd == "" && state != "D" && state != "R" {
				continue // a kernel thread at rest
			}
			fmt.Fprintf(w, "%s/%s %s %s wchan=%s", filepath.Base(p), filepath.Base(t), state, name, readFile(t+"/wchan"))
			if filepath.Base(p) == filepath.Base(t) {
				fmt.Fprintf(w, " %s", cmd)
			}
			fmt.Fprintln(w)
			if state != "R" {
				for _, line := range strings.Split(strings.TrimSpace(readFile(t+"/stack")), "\n") {
					if line != "" {
						fmt.Fprintf(w, "\t%s\n", line)
					}
				}
			}
		}
	}
}

func procNum(p string) int {
	n, _ := strconv.Atoi(filepath.Base(p))
	return n
}

// Blocked picks WriteTasks' lines of tasks in uninterruptible sleep (D):
// a hang's short form.
func Blocked(tasks string) []string {
	var out []string
	for _, line := range strings.Split(tasks, "\n") {
		if f := strings.Fields(line); len(f) >= 4 && !strings.HasPrefix(line, "\t") && f[1] == "D" {
			out = append(out, strings.Join(f[:4], " "))
		}
	}
	return out
}
