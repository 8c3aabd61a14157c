package tests

import (
	"encoding/json"
	"strings"
	"testing"
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
