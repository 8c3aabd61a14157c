package tests

// runx killed (SIGKILL) at any moment of create or run: list and state still
// answer, delete --force removes everything the container held (state
// directory, cgroups, processes, mounts), though its state may never have
// been written.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestKilledRuntimeLeavesNothing(t *testing.T) {
	forEachMode(t, "crash", func(t *testing.T, m mode) {
		r := newRuntime(t)
		// An existing root: list of a missing --root is an error, as in
		// today's runc, and a create killed at once has not made it.
		if err := os.MkdirAll(r.root, 0o711); err != nil {
			t.Fatal(err)
		}
		b := newBundle(t)
		m.apply(b)
		null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer null.Close()
		kills := 0
		for _, args := range [][]string{{"create"}, {"run", "-d"}, {"run"}} {
			// 0 to 60 ms: before, during and after the moments create makes the
			// state directory, the cgroups, the init and the state file.
			for delay := time.Duration(0); delay <= 60*time.Millisecond; delay += 4 * time.Millisecond {
				id := newID(t)
				r.track(id)
				cmd := exec.Command(r.bin, append(append([]string{"--root", r.root}, args...), "--bundle", b.dir, id)...)
				cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(delay)
				if cmd.Process.Kill() == nil {
					kills++
				}
				_ = cmd.Wait()
				what := fmt.Sprintf("%s killed after %s", strings.Join(args, " "), delay)
				if res := r.run("list"); res.code != 0 {
					t.Errorf("%s: list fails\n%s", what, res)
				}
				if res := r.run("state", id); res.code != 0 && !strings.Contains(res.stderr, "does not exist") {
					t.Errorf("%s: state neither answers nor says the container does not exist\n%s", what, res)
				}
				if res := r.run("delete", "--force", id); res.code != 0 {
					t.Errorf("%s: delete --force fails\n%s", what, res)
				}
				assertNothingLeft(t, r.root, id, b.dir)
			}
		}
		t.Logf("%d runtimes killed mid-way", kills)
	})
}

// A state file damaged by hand or by a full disk: every command names it, and
// delete --force still removes the container's processes and cgroups.
func TestDamagedStateFile(t *testing.T) {
	forEachMode(t, "crash", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		st := startContainer(r, b, id)
		state := filepath.Join(r.root, id, "state.json")
		if err := os.WriteFile(state, []byte("garbage\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"state", id}, {"kill", id, "KILL"}, {"delete", id}, {"pause", id}} {
			expectFailure(t, r.run(args...), state)
		}
		if res := r.run("list"); res.code != 0 {
			t.Errorf("list fails over a damaged state file\n%s", res)
		}
		r.ok("delete", "--force", id)
		waitGone(t, st.Pid, 10*time.Second)
		assertNothingLeft(t, r.root, id, b.dir)
	})
}
