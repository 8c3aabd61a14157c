package tests

// runx killed (SIGKILL) at any moment of create, run, start, exec or
// delete, or the processes it started killed under it: list and state
// still answer, delete --force removes everything the container held (state
// directory and its exec fifo, cgroups, processes, mounts; no network
// device appears on the host), though its state may never have been
// written.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
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
		kills := 0
		links := hostLinks(t)
		defer noNewLinks(t, links)
		for _, args := range [][]string{{"create"}, {"run", "-d"}, {"run"}} {
			// 0 to 60 ms: before, during and after the moments create makes the
			// state directory, the cgroups, the init and the state file.
			for _, delay := range crashDelays(m, 60*time.Millisecond, 4*time.Millisecond) {
				id := newID(t)
				r.track(id)
				if killAt(t, r, append(append(args, "--bundle", b.dir), id), delay, false) {
					kills++
				}
				checkRecovered(t, r, id, b.dir, fmt.Sprintf("%s killed after %s", strings.Join(args, " "), delay))
			}
		}
		t.Logf("%d runtimes killed mid-way", kills)
	})
}

// checkRecovered: after what (a kill), list and state answer (or the
// container does not exist), and delete --force leaves nothing of id or
// the bundle.
func checkRecovered(t *testing.T, r *rt, id, bundle, what string) {
	t.Helper()
	if res := r.run("list"); res.code != 0 {
		t.Errorf("%s: list fails\n%s", what, res)
	}
	if res := r.run("state", id); res.code != 0 && !strings.Contains(res.stderr, "does not exist") {
		t.Errorf("%s: state neither answers nor says the container does not exist\n%s", what, res)
	}
	if res := r.run("delete", "--force", id); res.code != 0 {
		t.Errorf("%s: delete --force fails\n%s", what, res)
	}
	assertNothingLeft(t, r.root, id, bundle)
}

// crashDelays are the moments to kill at: 0 to max by step, or for the
// microvm mode, whose create boots a VM (seconds under TCG), moments spread
// over the boot: before QEMU and virtiofsd start, while the guest boots,
// while the agent makes the container.
func crashDelays(m mode, max, step time.Duration) []time.Duration {
	if m.name == "microvm" {
		return []time.Duration{0, 150 * time.Millisecond, 600 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second}
	}
	var out []time.Duration
	for d := time.Duration(0); d <= max; d += step {
		out = append(out, d)
	}
	return out
}

// killAt starts runx with args, SIGKILLs it after delay (or, with children
// set, every process it started, leaving runx itself to cope), and waits
// for it: a runx whose child died must end on its own. It reports whether
// the kill hit something still running. The container's id is args' last.
func killAt(t *testing.T, r *rt, args []string, delay time.Duration, children bool) bool {
	t.Helper()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	cmd := exec.Command(r.bin, append([]string{"--root", r.root}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(delay)
	hit := false
	if children {
		for _, pid := range descendants(cmd.Process.Pid) {
			if unix.Kill(pid, unix.SIGKILL) == nil {
				hit = true
			}
		}
	} else {
		hit = cmd.Process.Kill() == nil
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
		return hit
	case <-time.After(time.Second):
	}
	// Still running: a foreground run whose container's process was
	// started after the kill waits for it, as it should. Ended, that
	// process lets run end; a run waiting for a dead process does not.
	// (A runx still cleaning up is left to finish: the kill then fails.)
	// Killed as soon as it runs (a VM boots for seconds).
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		if children {
			_ = exec.Command(r.bin, "--root", r.root, "kill", args[len(args)-1], "KILL").Run()
		}
		select {
		case <-done:
			return hit
		case <-tick.C:
		case <-deadline:
			tree := processTree(cmd.Process.Pid)
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("runx %s hangs after its children's death %s after its start: %v", strings.Join(args, " "), delay, tree)
			return hit
		}
	}
}

// hostLinks lists the host's network devices.
func hostLinks(t *testing.T) map[string]bool {
	entries, err := os.ReadDir("/sys/class/net")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, e := range entries {
		out[e.Name()] = true
	}
	return out
}

// noNewLinks fails t if the host has a network device it did not have
// before (runx's taps and veths live in the container's namespace).
func noNewLinks(t *testing.T, before map[string]bool) {
	t.Helper()
	for name := range hostLinks(t) {
		if !before[name] {
			t.Errorf("network device %s left on the host", name)
		}
	}
}

// processTree describes pid and its descendants (pid and command).
func processTree(pid int) []string {
	var out []string
	for _, p := range append([]int{pid}, descendants(pid)...) {
		cl, _ := os.ReadFile("/proc/" + strconv.Itoa(p) + "/cmdline")
		out = append(out, fmt.Sprintf("%d %.80s", p, strings.ReplaceAll(string(cl), "\x00", " ")))
	}
	return out
}

// descendants lists the processes under pid, children first.
func descendants(pid int) []int {
	parent := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
		if len(f) < 2 {
			continue
		}
		pp, _ := strconv.Atoi(f[1])
		parent[pp] = append(parent[pp], p)
	}
	var out []int
	for queue := parent[pid]; len(queue) > 0; queue = queue[1:] {
		out = append(out, queue[0])
		queue = append(queue, parent[queue[0]]...)
	}
	return out
}

// The later steps: runx killed during start, exec and delete, and the
// processes runx starts (libcontainer's init, the Sentry, the tender) killed
// under create and run while runx goes on. After each: list and state
// answer, an exec'd process's death leaves its container running and
// usable, and delete --force leaves nothing.
func TestKilledRuntimeLaterSteps(t *testing.T) {
	forEachMode(t, "crash", func(t *testing.T, m mode) {
		r := newRuntime(t)
		if err := os.MkdirAll(r.root, 0o711); err != nil {
			t.Fatal(err)
		}
		b := newBundle(t, "sleep", "100")
		m.apply(b)
		kills := map[string]int{}
		links := hostLinks(t)
		defer noNewLinks(t, links)
		delays := crashDelays(m, 40*time.Millisecond, 5*time.Millisecond)
		if m.name == "microvm" {
			delays = []time.Duration{delays[0], delays[2], delays[4]} // a VM per try: seconds each
		}
		for _, delay := range delays {
			for _, step := range []string{"start", "delete", "exec"} {
				if step == "exec" && m.name == "unikernel" {
					continue // refused by design (TestExec)
				}
				id := newID(t)
				r.track(id)
				r.ok("create", "--bundle", b.dir, id)
				if step != "start" {
					r.ok("start", id)
				}
				var args []string
				switch step {
				case "start":
					args = []string{"start", id}
				case "delete":
					args = []string{"delete", "--force", id}
				case "exec":
					args = []string{"exec", id, "sleep", "30"}
				}
				if killAt(t, r, args, delay, false) {
					kills[step]++
				}
				what := fmt.Sprintf("%s killed after %s", step, delay)
				if step == "exec" {
					if st := r.state(id); st.Status != "running" {
						t.Errorf("%s: the container is %q, want running", what, st.Status)
					}
					if res := r.run("exec", id, "true"); res.code != 0 {
						t.Errorf("%s: a later exec fails\n%s", what, res)
					}
				}
				checkRecovered(t, r, id, b.dir, what)
			}
			for _, args := range [][]string{{"create"}, {"run", "-d"}, {"run"}} {
				id := newID(t)
				r.track(id)
				if killAt(t, r, append(append(args, "--bundle", b.dir), id), delay, true) {
					kills[args[0]+" (children)"]++
				}
				checkRecovered(t, r, id, b.dir, fmt.Sprintf("the children of %s killed after %s", strings.Join(args, " "), delay))
			}
		}
		t.Logf("kills that hit a running runx or child: %v", kills)
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
