package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestPauseResume(t *testing.T) {
	forEachMode(t, "pause", func(t *testing.T, m mode) {
		r := newRuntime(t)
		// the container bumps a counter file; while paused it must not move
		// (replaced by rename: a pause between truncate and write would
		// leave it empty for as long as the pause lasts)
		b := newBundle(t, "sh", "-c", `i=0; while true; do i=$((i+1)); echo $i > /tmp/count.new; mv /tmp/count.new /tmp/count; sleep 0.02; done`)
		m.apply(b)
		b.edit(func(s *specs.Spec) { s.Root.Readonly = false })
		id := newID(t)
		startContainer(r, b, id)
		counter := filepath.Join(b.rootfs, "tmp", "count")
		waitFile(t, counter, 10*time.Second)

		r.ok("pause", id)
		if st := r.state(id); st.Status != "paused" {
			t.Fatalf("status after pause = %q, want paused", st.Status)
		}
		// list agrees
		res := r.ok("list")
		if !strings.Contains(res.stdout, "paused") {
			t.Errorf("list does not show the container paused\n%s", res)
		}
		c1 := readCount(t, counter)
		time.Sleep(300 * time.Millisecond)
		if c2 := readCount(t, counter); c2 != c1 {
			t.Errorf("counter moved from %q to %q while paused", c1, c2)
		}

		r.ok("resume", id)
		if st := r.state(id); st.Status != "running" {
			t.Fatalf("status after resume = %q, want running", st.Status)
		}
		c1 = readCount(t, counter)
		deadline := time.Now().Add(5 * time.Second)
		for readCount(t, counter) == c1 {
			if time.Now().After(deadline) {
				t.Fatal("counter did not move after resume")
			}
			time.Sleep(20 * time.Millisecond)
		}

		// a paused container can be force-deleted
		r.ok("pause", id)
		r.ok("delete", "-f", id)
		assertNothingLeft(t, r.root, id, b.dir)
	})
}

// TestPauseBusySandbox pauses and resumes, many times, a sandbox whose
// workload makes trapped calls without pause: a call the Sentry has
// received keeps its thread in a killable wait, which a cgroup v2 freeze
// cannot stop, so a freeze that catches the Sentry before its reply must be
// undone and tried again (on cgroup v2 pause used to fail after 10 s and
// leave the container half frozen). TestCgroupV2 runs it on cgroup v2.
func TestPauseBusySandbox(t *testing.T) {
	requireRunx(t)
	r := newRuntime(t)
	b := sandboxBundle(t, "sh", "-c", `while :; do [ -e /nothing ]; done`)
	id := newID(t)
	startContainer(r, b, id)
	for i := 0; i < 20; i++ {
		r.ok("pause", id)
		if st := r.state(id); st.Status != "paused" {
			t.Fatalf("round %d: status after pause = %q, want paused", i, st.Status)
		}
		r.ok("resume", id)
		if st := r.state(id); st.Status != "running" {
			t.Fatalf("round %d: status after resume = %q, want running", i, st.Status)
		}
	}
	r.ok("delete", "-f", id)
	assertNothingLeft(t, r.root, id, b.dir)
}

func readCount(t testing.TB, path string) string {
	t.Helper()
	// the file may not be there yet: retry briefly
	for i := 0; i < 50; i++ {
		data, err := os.ReadFile(path)
		if err == nil && strings.TrimSpace(string(data)) != "" {
			return strings.TrimSpace(string(data))
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("cannot read %s", path)
	return ""
}

func TestPauseNotRunning(t *testing.T) {
	forEachMode(t, "bad-input", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		r.ok("create", "--bundle", b.dir, id)
		// resume of a container that is not paused fails
		res := r.run("resume", id)
		expectFailure(t, res, "not paused", "paused")
		if st := r.state(id); st.Status != "created" {
			t.Errorf("status = %q, want created", st.Status)
		}
		expectFailure(t, r.run("pause", "rxt-no-such-container"), "not exist", "rxt-no-such-container")
	})
}
