package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUpdateMemoryAndPids(t *testing.T) {
	forEachMode(t, "update", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		st := startContainer(r, b, id)

		r.ok("update", "--memory", "64M", "--pids-limit", "42", id)
		mem := cgroupFile(t, st.Pid, "memory", "memory.limit_in_bytes", "memory.max")
		if got := readTrim(t, mem); got != "67108864" {
			t.Errorf("%s = %q, want 67108864 after update --memory 64M", mem, got)
		}
		pids := cgroupFile(t, st.Pid, "pids", "pids.max", "pids.max")
		if got := readTrim(t, pids); got != "42" {
			t.Errorf("%s = %q, want 42 after update --pids-limit 42", pids, got)
		}

		// a second update changes only what it names
		r.ok("update", "--pids-limit", "50", id)
		if got := readTrim(t, pids); got != "50" {
			t.Errorf("%s = %q, want 50", pids, got)
		}
		if got := readTrim(t, mem); got != "67108864" {
			t.Errorf("%s = %q after a pids-only update, want it unchanged (67108864)", mem, got)
		}
		if st := r.state(id); st.Status != "running" {
			t.Errorf("status after update = %q", st.Status)
		}
	})
}

func TestUpdateFromResourcesFile(t *testing.T) {
	forEachMode(t, "update", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		st := startContainer(r, b, id)
		res := map[string]any{"pids": map[string]any{"limit": 33}}
		data, _ := json.Marshal(res)
		path := filepath.Join(t.TempDir(), "resources.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r.ok("update", "--resources", path, id)
		pids := cgroupFile(t, st.Pid, "pids", "pids.max", "pids.max")
		if got := readTrim(t, pids); got != "33" {
			t.Errorf("%s = %q, want 33", pids, got)
		}
		// and from stdin
		r.okOpt(runOpts{stdin: strings.NewReader(`{"pids":{"limit":34}}`)}, "update", "-r", "-", id)
		if got := readTrim(t, pids); got != "34" {
			t.Errorf("%s = %q, want 34 after update -r -", pids, got)
		}
	})
}

func TestUpdateBadValue(t *testing.T) {
	forEachMode(t, "update", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		startContainer(r, b, id)
		res := r.run("update", "--memory", "lots", id)
		expectFailure(t, res, "lots", "memory")
	})
}
