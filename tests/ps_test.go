package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPs(t *testing.T) {
	forEachMode(t, "ps", func(t *testing.T, m mode) {
		m.require(t, "exec") // the second process is an exec's
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		st := startContainer(r, b, id)
		pidFile := filepath.Join(t.TempDir(), "exec.pid")
		r.ok("exec", "-d", "--pid-file", pidFile, id, "sleep", "1003")
		extra := readPidFile(t, pidFile)
		// want is how many processes the container has; comm is what ps
		// calls the sleeps.
		want, comm := 2, "sleep"
		if m.name == "sandbox" {
			// In the sandbox the container's process is the Sentry and an
			// exec's (the one the pid file names) is its client,
			// runx-sentry --join; the workload processes they run are the
			// Sentry's children (sandbox/README.md, How a container starts)
			// and are named after the file they run, busybox (/proc and
			// /dev). ps lists all four.
			want, comm = 4, "busybox"
		}
		// exec -d may return before the process it starts is there
		deadline := time.Now().Add(5 * time.Second)
		for {
			var pids []int
			res := r.ok("ps", "--format", "json", id)
			if err := json.Unmarshal([]byte(res.stdout), &pids); err != nil || len(pids) >= want || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}

		// table: a header with a PID column, one row per process
		res := r.ok("ps", id)
		lines := strings.Split(strings.TrimRight(res.stdout, "\n"), "\n")
		if len(lines) < 3 {
			t.Fatalf("ps: want a header and two rows\n%s", res)
		}
		header := strings.Fields(lines[0])
		col := -1
		for i, h := range header {
			if h == "PID" {
				col = i
			}
		}
		if col < 0 {
			t.Fatalf("ps header %q has no PID column", lines[0])
		}
		var tablePids []int
		for _, l := range lines[1:] {
			f := strings.Fields(l)
			if len(f) > col {
				if n, err := strconv.Atoi(f[col]); err == nil {
					tablePids = append(tablePids, n)
				}
			}
		}
		if m.name == "microvm" {
			// The table is the guest's (microvm/README.md, ps): its
			// processes with guest pids, which are not the host's.
			if n := strings.Count(res.stdout, "sleep 100"); n != want {
				t.Errorf("the guest's ps table shows %d sleeps, want %d\n%s", n, want, res)
			}
		} else {
			for _, p := range []int{st.Pid, extra} {
				if !containsInt(tablePids, p) {
					t.Errorf("ps table lacks pid %d (has %v)\n%s", p, tablePids, res)
				}
			}
		}
		if len(tablePids) != want {
			t.Errorf("ps table lists %v, want just the %d container processes", tablePids, want)
		}
		if m.name == "sandbox" {
			for _, p := range tablePids {
				if p != st.Pid && p != extra && hostPPid(p) != st.Pid {
					t.Errorf("ps lists %d, which is not the Sentry's (%d) child", p, st.Pid)
				}
			}
		}

		// json: an array of pids
		res = r.ok("ps", "--format", "json", id)
		var pids []int
		if err := json.Unmarshal([]byte(res.stdout), &pids); err != nil {
			t.Fatalf("ps --format json: %v\n%s", err, res)
		}
		if len(pids) != want || !containsInt(pids, st.Pid) || !containsInt(pids, extra) {
			t.Errorf("ps --format json = %v, want %d pids with %d and %d", pids, want, st.Pid, extra)
		}

		if m.name == "microvm" {
			// The guest has no ps program to take them: refused, saying so.
			expectFailure(t, r.run("ps", id, "-o", "pid,comm"), "-o pid,comm", "no ps program")
			return
		}
		// extra ps options are passed on
		res = r.ok("ps", id, "-o", "pid,comm")
		if !strings.Contains(res.stdout, comm) || !strings.Contains(res.stdout, strconv.Itoa(st.Pid)) {
			t.Errorf("ps ID -o pid,comm\n%s", res)
		}
	})
}

// hostPPid is the parent of pid as the host sees it (0 when unknown).
func hostPPid(pid int) int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "PPid:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}
