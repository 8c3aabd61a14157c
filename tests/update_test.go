package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
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
		mem := limitOf(t, r, m, id, st.Pid, "memory")
		if got := mem(); got != "67108864" {
			t.Errorf("memory limit = %q, want 67108864 after update --memory 64M", got)
		}
		pids := limitOf(t, r, m, id, st.Pid, "pids")
		if got := pids(); got != "42" {
			t.Errorf("pids limit = %q, want 42 after update --pids-limit 42", got)
		}

		// a second update changes only what it names
		r.ok("update", "--pids-limit", "50", id)
		if got := pids(); got != "50" {
			t.Errorf("pids limit = %q, want 50", got)
		}
		if got := mem(); got != "67108864" {
			t.Errorf("memory limit = %q after a pids-only update, want it unchanged (67108864)", got)
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
		pids := limitOf(t, r, m, id, st.Pid, "pids")
		if got := pids(); got != "33" {
			t.Errorf("pids limit = %q, want 33", got)
		}
		// and from stdin
		r.okOpt(runOpts{stdin: strings.NewReader(`{"pids":{"limit":34}}`)}, "update", "-r", "-", id)
		if got := pids(); got != "34" {
			t.Errorf("pids limit = %q, want 34 after update -r -", got)
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

// limitOf returns a reader of the container's memory or pids limit: its
// cgroup's file on the host, or, in the microvm mode, where the limits are
// the guest's (microvm/README.md), the guest cgroup's figures that events
// --stats reads from the same files there.
func limitOf(t *testing.T, r *rt, m mode, id string, pid int, controller string) func() string {
	t.Helper()
	if m.name != "microvm" {
		file := map[string]string{"memory": cgroupFile(t, pid, "memory", "memory.limit_in_bytes", "memory.max"),
			"pids": cgroupFile(t, pid, "pids", "pids.max", "pids.max")}[controller]
		return func() string { return readTrim(t, file) }
	}
	return func() string {
		var ev struct {
			Data struct {
				Memory struct {
					Usage struct {
						Limit uint64 `json:"limit"`
					} `json:"usage"`
				} `json:"memory"`
				Pids struct {
					Limit uint64 `json:"limit"`
				} `json:"pids"`
			} `json:"data"`
		}
		res := r.ok("events", "--stats", id)
		if err := json.Unmarshal([]byte(res.stdout), &ev); err != nil {
			t.Fatalf("events --stats: %v\n%s", err, res)
		}
		if controller == "memory" {
			return strconv.FormatUint(ev.Data.Memory.Usage.Limit, 10)
		}
		return strconv.FormatUint(ev.Data.Pids.Limit, 10)
	}
}
