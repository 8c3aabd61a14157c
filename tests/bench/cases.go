package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// A Runtime is one side of a comparison: a label for the report and the
// command prefix (binary plus any global flags) that selects it. Each runtime
// in a case gets a private --root directory and its own bundle copies.
type Runtime struct {
	Label string
	Argv  []string
	// EditConfig, if set, adjusts this runtime's copy of config.json after the
	// common edits (for example an annotation that selects an isolation mode).
	EditConfig func(cfg map[string]any)
	// Args, if set, replaces the case's process.args for this runtime.
	Args []string
	// Files are copied into this runtime's rootfs (rootfs path -> host path).
	Files map[string]string
	// Optional runtimes may be unusable on this machine: when the binary is
	// missing, or when the first warm-up run fails, the runtime is dropped
	// from the case with a note rather than failing the bench.
	Optional bool
}

// A Case is one benchmark. Its runtimes are measured alternately, one
// measurement each per iteration; the report gives the ratio of the first
// runtime to the second (the subject over the reference).
type Case struct {
	Name     string
	Desc     string
	Bundle   []string // process.args of the container the case runs or starts
	Runtimes []Runtime
	// Targets are the goals the report checks, on medians.
	Targets []Target
	// Optional cases are skipped (with a note) when a runtime binary is
	// missing; otherwise a missing binary is an error.
	Optional bool
	// Unavailable, if set, says why the case cannot run on this machine
	// ("" when it can): it is then skipped with that note.
	Unavailable func() string

	// Prepare runs once before the case's bundles are made, untimed.
	Prepare func(b *Bench) error
	// Populate, if set, adds files to each runtime's busybox rootfs.
	Populate func(b *Bench, rootfs string) error
	// Rootfs, if set, returns the absolute path of a prepared rootfs that all
	// the runtimes of the case share (config.json's root.path, read-only),
	// instead of a busybox rootfs per bundle. It runs after Prepare.
	Rootfs func(b *Bench) (string, error)
	// Setup runs once per runtime before the first iteration, untimed.
	Setup func(b *Bench, st *rtState) error
	// Measure runs one timed iteration; seq is unique within the case and runtime.
	Measure func(b *Bench, st *rtState, seq int) (Sample, error)
	// Teardown runs once per runtime after the last iteration, and also after a
	// failure or an interrupt, so it should use b.rawCmd, which runs regardless.
	Teardown func(b *Bench, st *rtState)
}

// A Target bounds the ratio of the case's first runtime to the runtime
// labelled Ref, on the median of Figure: "wall", or the name of one of the
// in-container Metrics (for a *_MBps figure the ratio is inverted, so that
// above 1 always means slower).
type Target struct {
	Figure string
	Ref    string
	Max    float64
}

// Sample is one timed measurement: wall time across all the processes of the
// timed step, and the largest ru_maxrss among them.
type Sample struct {
	WallMs  float64
	PeakKiB int64
	// Metrics are figures the workload measured itself and printed on its
	// stdout as "name value" lines (see progs/sysloop.c).
	Metrics map[string]float64
}

// defaultCases is the table of benchmarks. To compare another mode or runtime,
// append a Case with its own Runtimes list, e.g.
//
//	{Name: "run-sandbox", Runtimes: []Runtime{
//		{Label: "runx-sandbox", Argv: []string{runx}, EditConfig: withIsolation("sandbox")},
//		{Label: "runsc", Argv: []string{"/usr/local/bin/runsc"}}}, ...}
//
// Cases whose runtime binaries are missing are skipped with a note. The
// sandbox cases (sbx-*, in sandbox.go) do this per runtime instead: runsc is
// Optional there.
func defaultCases(runx, peer, peerLabel string, sb sandboxOpts) []Case {
	pair := []Runtime{
		{Label: "runx", Argv: []string{runx}},
		{Label: peerLabel, Argv: []string{peer}},
	}
	guests := unikernelGuests()
	return append([]Case{
		{
			Name:     "run",
			Desc:     "run --bundle B <id> of /bin/true, waited, then delete --force <id>; peak RSS = max over the two processes",
			Bundle:   []string{"/bin/true"},
			Runtimes: pair,
			Measure:  measureRun,
		},
		{
			Name:     "exec",
			Desc:     "exec <id> /bin/true into a running sleep container (one per runtime, started with run -d beforehand)",
			Bundle:   []string{"/bin/sleep", "3600"},
			Runtimes: pair,
			Setup:    startLongRunning,
			Measure:  measureExec,
			Teardown: deleteLongRunning,
		},
		{
			Name:     "spt",
			Desc:     "runx spt --mem=2 hello (a Solo5 spt test unikernel), start to exit; upstream solo5-spt: 0.59 ms (measured by the team), target <= 1 ms",
			Bundle:   []string{"/bin/true"},
			Runtimes: []Runtime{{Label: "runx-spt", Argv: []string{runx}}},
			Measure: func(b *Bench, st *rtState, _ int) (Sample, error) {
				r, err := b.runtimeCmd(st, "spt", "--mem=2", guests.hello)
				return Sample{WallMs: r.wallMs, PeakKiB: r.maxRSSKiB}, err
			},
			Prepare: guests.build,
		},
		{
			Name:   "run-unikernel",
			Desc:   "runx run of a unikernel bundle (hello) beside runx run of /bin/true in namespace mode, each then delete --force",
			Bundle: []string{"/bin/true"},
			Runtimes: []Runtime{
				{Label: "runx-unikernel", Argv: []string{runx}, EditConfig: withIsolation("unikernel"),
					Args: []string{"/hello.spt"}, Files: map[string]string{"/hello.spt": guests.hello}},
				{Label: "runx-namespace", Argv: []string{runx}},
			},
			Prepare: guests.build,
			Measure: measureRun,
		},
	}, append(sandboxCases(runx, sb), microvmCases(runx)...)...)
}

// withIsolation edits a config.json to run in runx's isolation mode mode.
func withIsolation(mode string) func(cfg map[string]any) {
	return func(cfg map[string]any) {
		ann, _ := cfg["annotations"].(map[string]any)
		if ann == nil {
			ann = map[string]any{}
			cfg["annotations"] = ann
		}
		ann["dev.runx.isolation"] = mode
	}
}

// measureRun times the whole lifecycle of a short container. In the
// foreground, run creates, starts, waits for and normally destroys the
// container; the following delete --force removes whatever is left (it is a
// cheap no-op for runc, which has already destroyed it) so that a runtime that
// leaves state behind pays for it here. The two processes run one after the
// other, so the peak memory of the step is the larger of their ru_maxrss;
// each includes the runtime's own helper children (e.g. runc init), which the
// runtime reaps itself.
func measureRun(b *Bench, st *rtState, seq int) (Sample, error) {
	id := b.containerID(st, fmt.Sprint(seq))
	r1, err := b.runtimeCmd(st, "run", "--bundle", st.bundle, id)
	if err != nil {
		return Sample{}, err
	}
	r2, err := b.runtimeCmd(st, "delete", "--force", id)
	if err != nil {
		return Sample{}, err
	}
	return Sample{WallMs: r1.wallMs + r2.wallMs, PeakKiB: max(r1.maxRSSKiB, r2.maxRSSKiB)}, nil
}

func startLongRunning(b *Bench, st *rtState) error {
	st.longID = b.containerID(st, "long")
	if _, err := b.runtimeCmd(st, "run", "-d", "--bundle", st.bundle, st.longID); err != nil {
		return fmt.Errorf("starting the long-running container: %w", err)
	}
	return nil
}

// measureExec times one exec of /bin/true; ru_maxrss covers the exec process
// and the helper it forks to enter the container.
func measureExec(b *Bench, st *rtState, seq int) (Sample, error) {
	r, err := b.runtimeCmd(st, "exec", st.longID, "/bin/true")
	if err != nil {
		return Sample{}, err
	}
	return Sample{WallMs: r.wallMs, PeakKiB: r.maxRSSKiB}, nil
}

func deleteLongRunning(b *Bench, st *rtState) {
	if st.longID == "" {
		return
	}
	if _, err := b.rawCmd(st, "delete", "--force", st.longID); err != nil {
		b.logf("warning: %v", err)
	}
}

// guestSet builds the Solo5 test unikernels once, with tests/unikernel/build.sh.
type guestSet struct {
	dir, hello string
	built      bool
}

// unikernelGuests names the guests; the first case that needs them builds
// them, and the bench's cleanup removes them.
func unikernelGuests() *guestSet {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("runx-bench-guests-%d", os.Getpid()))
	return &guestSet{dir: dir, hello: filepath.Join(dir, "hello.spt")}
}

func (g *guestSet) build(b *Bench) error {
	if g.built {
		return nil
	}
	b.extraDirs = append(b.extraDirs, g.dir)
	script, err := filepath.Abs("tests/unikernel/build.sh")
	if err != nil {
		return err
	}
	if out, err := exec.Command("bash", script, g.dir).CombinedOutput(); err != nil {
		return fmt.Errorf("building the test unikernels: %v: %s", err, out)
	}
	g.built = true
	return nil
}
