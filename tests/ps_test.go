package tests

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestPs(t *testing.T) {
	r := newRuntime(t)
	b := newBundle(t)
	id := newID(t)
	st := startContainer(r, b, id)
	pidFile := filepath.Join(t.TempDir(), "exec.pid")
	r.ok("exec", "-d", "--pid-file", pidFile, id, "sleep", "1003")
	extra := readPidFile(t, pidFile)

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
	for _, p := range []int{st.Pid, extra} {
		if !containsInt(tablePids, p) {
			t.Errorf("ps table lacks pid %d (has %v)\n%s", p, tablePids, res)
		}
	}
	if len(tablePids) != 2 {
		t.Errorf("ps table lists %v, want just the 2 container processes", tablePids)
	}

	// json: an array of pids
	res = r.ok("ps", "--format", "json", id)
	var pids []int
	if err := json.Unmarshal([]byte(res.stdout), &pids); err != nil {
		t.Fatalf("ps --format json: %v\n%s", err, res)
	}
	if len(pids) != 2 || !containsInt(pids, st.Pid) || !containsInt(pids, extra) {
		t.Errorf("ps --format json = %v, want [%d %d] in any order", pids, st.Pid, extra)
	}

	// extra ps options are passed on
	res = r.ok("ps", id, "-o", "pid,comm")
	if !strings.Contains(res.stdout, "sleep") || !strings.Contains(res.stdout, strconv.Itoa(st.Pid)) {
		t.Errorf("ps ID -o pid,comm\n%s", res)
	}
}
