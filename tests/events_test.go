package tests

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestEventsStats(t *testing.T) {
	forEachMode(t, "events", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		startContainer(r, b, id)

		res := r.ok("events", "--stats", id)
		lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
		if len(lines) != 1 {
			t.Fatalf("events --stats: want exactly one line\n%s", res)
		}
		var ev struct {
			Type string                     `json:"type"`
			ID   string                     `json:"id"`
			Data map[string]json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal([]byte(lines[0]), &ev); err != nil {
			t.Fatalf("events --stats line is not JSON: %v\n%s", err, res)
		}
		if ev.Type != "stats" {
			t.Errorf("type = %q, want stats", ev.Type)
		}
		if ev.ID != id {
			t.Errorf("id = %q, want %q", ev.ID, id)
		}
		for _, k := range []string{"cpu", "memory", "pids"} {
			if _, ok := ev.Data[k]; !ok {
				t.Errorf("stats data lacks %q: %s", k, lines[0])
			}
		}
		var pids struct {
			Current int `json:"current"`
		}
		if err := json.Unmarshal(ev.Data["pids"], &pids); err != nil || pids.Current < 1 {
			t.Errorf("stats pids.current = %d (%v), want >= 1", pids.Current, err)
		}
	})
}

func TestEventsStatsMissing(t *testing.T) {
	r := newRuntime(t)
	expectFailure(t, r.run("events", "--stats", "rxt-missing"), "not exist", "rxt-missing")
}

// TestEventsOOM: an OOM kill in the container's cgroup is an "oom" event of
// runx events, as runc reports it.
func TestEventsOOM(t *testing.T) {
	forEachMode(t, "oom", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t, "sh", "-c", "sleep 2; dd if=/dev/zero of=/dev/null bs=200M count=1; sleep 1000")
		m.apply(b)
		b.edit(func(s *specs.Spec) {
			limit := int64(96 << 20)
			if s.Linux.Resources == nil {
				s.Linux.Resources = &specs.LinuxResources{}
			}
			s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &limit, Swap: &limit}
			if m.name == "microvm" {
				s.Annotations["dev.runx.microvm.memory"] = "384" // the guest's, above the container's limit
			}
		})
		id := newID(t)
		startContainer(r, b, id)
		cmd := execCommand(r, "events", "--interval", "1h", id)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
		got := make(chan bool, 1)
		go func() {
			sc := bufio.NewScanner(out)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				var ev struct {
					Type, ID string
				}
				if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Type == "oom" && ev.ID == id {
					got <- true
					return
				}
			}
			got <- false
		}()
		select {
		case ok := <-got:
			if !ok {
				t.Fatal("runx events ended without an oom event")
			}
		case <-time.After(60 * time.Second):
			t.Fatal("no oom event within 60 s of the container's dd of 200 MiB under a 96 MiB limit")
		}
	})
}
