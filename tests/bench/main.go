// Command bench compares the start-up cost of runx with a reference OCI
// runtime (runc by default): wall time and peak memory of the runtime
// processes for a short container's lifecycle and for an exec into a running
// container. Runtimes are measured alternately so that drift in the machine's
// state affects them alike. The sbx-* cases (sandbox.go) compare the sandbox
// isolation mode with gVisor's runsc and with the namespace mode, on start-up
// and on workloads that also time themselves inside the container.
//
// Usage: go run ./tests/bench [flags] /abs/path/to/runx
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

var errInterrupted = errors.New("interrupted")

// rtState is one runtime's working state within one case.
type rtState struct {
	idx     int
	rt      Runtime
	root    string // private --root
	bundle  string
	ids     []string // containers this program asked for, for cleanup
	longID  string
	samples []Sample
}

// Bench holds the run-wide settings and bookkeeping.
type Bench struct {
	workdir     string
	busybox     string
	timeout     time.Duration
	specMode    string
	verbose     bool
	rotate      bool
	interrupted atomic.Bool
	caseName    string
	states      []*rtState // every runtime state ever set up, for cleanup
	extraDirs   []string   // removed at cleanup
	// pendingNotes are notes for the report that a case's hooks leave for
	// the case being run (e.g. where its rootfs came from).
	pendingNotes []string
}

type cmdResult struct {
	wallMs    float64
	maxRSSKiB int64
}

func (b *Bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// containerID returns a fresh container id for st and records it for cleanup.
func (b *Bench) containerID(st *rtState, tag string) string {
	id := fmt.Sprintf("bx%d-%s-%d-%s", os.Getpid(), b.caseName, st.idx, tag)
	st.ids = append(st.ids, id)
	return id
}

// runtimeCmd runs `<runtime> --root R args...` to completion, timing it from
// just before fork to just after wait4, and reports the ru_maxrss that wait4
// returned. It refuses to start anything once an interrupt has arrived.
func (b *Bench) runtimeCmd(st *rtState, args ...string) (cmdResult, error) {
	if b.interrupted.Load() {
		return cmdResult{}, errInterrupted
	}
	return b.rawCmd(st, args...)
}

func (b *Bench) rawCmd(st *rtState, args ...string) (cmdResult, error) {
	r, _, err := b.rawCmdOut(st, false, args...)
	return r, err
}

// runtimeCmdOut is runtimeCmd that also returns what the command (and so a
// foreground container) wrote on its stdout.
func (b *Bench) runtimeCmdOut(st *rtState, args ...string) (cmdResult, string, error) {
	if b.interrupted.Load() {
		return cmdResult{}, "", errInterrupted
	}
	return b.rawCmdOut(st, true, args...)
}

func (b *Bench) rawCmdOut(st *rtState, wantOut bool, args ...string) (cmdResult, string, error) {
	argv := append(append(append([]string{}, st.rt.Argv...), "--root", st.root), args...)
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	// Stdin and stdout stay nil (/dev/null). Stderr goes to a file rather than
	// a pipe: a detached container inherits it and would keep a pipe open.
	logf, err := os.CreateTemp(b.workdir, "cmd-*.log")
	if err != nil {
		return cmdResult{}, "", err
	}
	defer os.Remove(logf.Name())
	defer logf.Close()
	cmd.Stderr = logf
	var outf *os.File
	if wantOut {
		// A file too, for the same reason.
		if outf, err = os.CreateTemp(b.workdir, "cmd-*.out"); err != nil {
			return cmdResult{}, "", err
		}
		defer os.Remove(outf.Name())
		defer outf.Close()
		cmd.Stdout = outf
	}
	// Own process group: a Ctrl-C on the terminal reaches only this program,
	// which finishes the current step and then cleans up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}

	start := time.Now()
	err = cmd.Start()
	if err == nil {
		err = cmd.Wait()
	}
	wall := time.Since(start)
	if err != nil {
		msg, _ := os.ReadFile(logf.Name())
		return cmdResult{}, "", fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(msg)))
	}
	res := cmdResult{wallMs: float64(wall.Nanoseconds()) / 1e6}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.maxRSSKiB = ru.Maxrss // kilobytes on Linux
	}
	var out []byte
	if outf != nil {
		if out, err = os.ReadFile(outf.Name()); err != nil {
			return cmdResult{}, "", err
		}
	}
	return res, string(out), nil
}

// makeBundle builds bundle/rootfs with a static busybox and its applet links
// (plus what Case.Populate adds), and writes config.json from the given spec with the case's edits applied.
// With a shared rootfs (Case.Rootfs), root.path names it instead and the
// bundle holds only config.json.
func (b *Bench) makeBundle(dir string, spec []byte, c Case, sharedRootfs string, rt Runtime) error {
	args := c.Bundle
	if sharedRootfs == "" {
		if err := b.busyboxRootfs(filepath.Join(dir, "rootfs")); err != nil {
			return err
		}
		if c.Populate != nil {
			if err := c.Populate(b, filepath.Join(dir, "rootfs")); err != nil {
				return err
			}
		}
	} else if len(rt.Files) > 0 {
		return fmt.Errorf("%s: Runtime.Files cannot go into a shared rootfs", rt.Label)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var cfg map[string]any
	if err := json.Unmarshal(spec, &cfg); err != nil {
		return fmt.Errorf("parsing generated config.json: %w", err)
	}
	proc, _ := cfg["process"].(map[string]any)
	if proc == nil {
		proc = map[string]any{}
		cfg["process"] = proc
	}
	proc["args"] = args
	if rt.Args != nil {
		proc["args"] = rt.Args
	}
	proc["terminal"] = false
	if sharedRootfs != "" {
		cfg["root"] = map[string]any{"path": sharedRootfs, "readonly": true}
	}
	for dst, src := range rt.Files {
		if err := copyFile(src, filepath.Join(dir, "rootfs", dst), 0o755); err != nil {
			return err
		}
	}
	if rt.EditConfig != nil {
		rt.EditConfig(cfg)
	}
	out, err := json.MarshalIndent(cfg, "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "config.json"), out, 0o644)
}

// busyboxRootfs makes a rootfs with a static busybox and a few applet links.
func (b *Bench) busyboxRootfs(rootfs string) error {
	bin := filepath.Join(rootfs, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	if err := copyFile(b.busybox, filepath.Join(bin, "busybox"), 0o755); err != nil {
		return err
	}
	for _, applet := range []string{"sh", "true", "false", "sleep", "echo", "cat", "ls", "ps"} {
		if err := os.Symlink("busybox", filepath.Join(bin, applet)); err != nil {
			return err
		}
	}
	return nil
}

// generateSpec runs `<runtime> spec` in a scratch directory and returns the
// config.json it wrote.
func (b *Bench) generateSpec(rt Runtime, scratch string) ([]byte, error) {
	if err := os.MkdirAll(scratch, 0o755); err != nil {
		return nil, err
	}
	argv := append(append([]string{}, rt.Argv...), "spec")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = scratch
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s spec: %v: %s", rt.Label, err, strings.TrimSpace(string(out)))
	}
	return os.ReadFile(filepath.Join(scratch, "config.json"))
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// setupCase prepares one state (root, bundle) per runtime of c.
func (b *Bench) setupCase(ci int, c Case) ([]*rtState, error) {
	caseDir := filepath.Join(b.workdir, fmt.Sprintf("%d-%s", ci, c.Name))
	var shared []byte
	if b.specMode == "peer" {
		// One config.json, from the reference (last) runtime, for all: the
		// runtimes then do exactly the same work.
		var err error
		shared, err = b.generateSpec(c.Runtimes[len(c.Runtimes)-1], filepath.Join(caseDir, "spec"))
		if err != nil {
			return nil, err
		}
	}
	var sharedRootfs string
	if c.Rootfs != nil {
		var err error
		if sharedRootfs, err = c.Rootfs(b); err != nil {
			return nil, err
		}
	}
	var states []*rtState
	for i, rt := range c.Runtimes {
		st := &rtState{
			idx:    i,
			rt:     rt,
			root:   filepath.Join(caseDir, fmt.Sprintf("root-%d", i)),
			bundle: filepath.Join(caseDir, fmt.Sprintf("bundle-%d", i)),
		}
		b.states = append(b.states, st)
		states = append(states, st)
		if err := os.MkdirAll(st.root, 0o711); err != nil {
			return nil, err
		}
		spec := shared
		if spec == nil {
			var err error
			spec, err = b.generateSpec(rt, filepath.Join(caseDir, fmt.Sprintf("spec-%d", i)))
			if err != nil {
				return nil, err
			}
		}
		if err := b.makeBundle(st.bundle, spec, c, sharedRootfs, rt); err != nil {
			return nil, err
		}
	}
	return states, nil
}

// runCase runs warm-up rounds and then n counted rounds; in each round every
// runtime is measured once, in the order listed (runx, runc, runx, runc, ...),
// or with -order rotate, in an order rotated by one each round (runx, runc,
// runc, runx, ...) to cancel any advantage of going first.
//
// An Optional runtime whose first measurement fails is dropped from the case;
// the returned notes say why.
func (b *Bench) runCase(ci int, c Case, warmup, n int) (states []*rtState, notes []string, err error) {
	b.caseName = c.Name
	b.pendingNotes = nil
	defer func() { notes = append(b.pendingNotes, notes...) }()
	if c.Prepare != nil {
		if err := c.Prepare(b); err != nil {
			return nil, nil, err
		}
	}
	states, err = b.setupCase(ci, c)
	if err != nil {
		return nil, nil, err
	}
	var setUp []*rtState
	defer func() {
		if c.Teardown != nil {
			for _, st := range setUp {
				c.Teardown(b, st)
			}
		}
	}()
	if c.Setup != nil {
		for _, st := range states {
			setUp = append(setUp, st)
			if err := c.Setup(b, st); err != nil {
				return nil, nil, fmt.Errorf("%s/%s setup: %w", c.Name, st.rt.Label, err)
			}
		}
	} else {
		setUp = states
	}
	seq := 0
	dropped := map[*rtState]bool{}
	for round := 0; round < warmup+n; round++ {
		for k := range states {
			st := states[k]
			if b.rotate {
				// Start each round one runtime further on, so that every
				// runtime takes every position equally often.
				st = states[(k+round)%len(states)]
			}
			if dropped[st] {
				continue
			}
			s, err := c.Measure(b, st, seq)
			if err != nil && round == 0 && st.rt.Optional && !errors.Is(err, errInterrupted) {
				dropped[st] = true
				msg := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", " | ")
				note := fmt.Sprintf("%s dropped: its first run failed: %s", st.rt.Label, msg)
				notes = append(notes, note)
				b.logf("%s: %s", c.Name, note)
				continue
			}
			if err != nil {
				return nil, nil, fmt.Errorf("%s/%s: %w", c.Name, st.rt.Label, err)
			}
			if round >= warmup {
				st.samples = append(st.samples, s)
			}
			if b.verbose {
				what := fmt.Sprintf("round %d", round-warmup+1)
				if round < warmup {
					what = fmt.Sprintf("warm-up %d", round+1)
				}
				b.logf("%s %s %s: %.2f ms, %d KiB", c.Name, st.rt.Label, what, s.WallMs, s.PeakKiB)
			}
		}
		seq++
	}
	b.logf("%s: done (%d warm-up + %d rounds)", c.Name, warmup, n)
	var kept []*rtState
	for _, st := range states {
		if !dropped[st] {
			kept = append(kept, st)
		}
	}
	return kept, notes, nil
}

// cleanup force-deletes every container this program may have left behind in
// any of its private roots: the ids it handed out plus whatever `list -q`
// still reports.
func (b *Bench) cleanup() {
	for _, d := range b.extraDirs {
		os.RemoveAll(d)
	}
	for _, st := range b.states {
		ids := map[string]bool{}
		for _, id := range st.ids {
			ids[id] = true
		}
		argv := append(append([]string{}, st.rt.Argv...), "--root", st.root, "list", "-q")
		if out, err := exec.Command(argv[0], argv[1:]...).Output(); err == nil {
			for _, id := range strings.Fields(string(out)) {
				ids[id] = true
			}
		}
		for id := range ids {
			if _, err := b.rawCmd(st, "delete", "--force", id); err != nil {
				b.logf("cleanup: %v", err)
			}
		}
	}
	b.unmountLeftovers()
}

// unmountLeftovers detaches whatever a runtime left mounted in the work
// directory (today's runsc leaves an nsfs bind mount at <root>/null-netns),
// deepest first, so that the directory can be removed.
func (b *Bench) unmountLeftovers() {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], b.workdir+"/") {
			points = append(points, f[4])
		}
	}
	for i := len(points) - 1; i >= 0; i-- {
		if err := syscall.Unmount(points[i], syscall.MNT_DETACH); err != nil {
			b.logf("cleanup: unmounting %s: %v", points[i], err)
		}
	}
}

func main() {
	os.Exit(run())
}

func run() int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: bench [flags] /abs/path/to/runx\n")
		fs.PrintDefaults()
	}
	n := fs.Int("n", 20, "counted iterations per runtime and case")
	warmup := fs.Int("warmup", 2, "warm-up iterations per runtime and case, not counted")
	peer := fs.String("peer", "/usr/sbin/runc", "reference runtime to compare against")
	peerLabel := fs.String("peer-label", "", "label of the reference runtime (default: its file name)")
	busybox := fs.String("busybox", "/bin/busybox", "static busybox binary for the rootfs")
	out := fs.String("out", "", "also write the report to this file")
	only := fs.String("cases", "", "comma-separated case names to run (default: all)")
	specMode := fs.String("spec", "peer", "config.json source: 'peer' (the reference runtime's spec, shared) or 'own' (each runtime's own spec)")
	timeout := fs.Duration("timeout", 60*time.Second, "limit for any single runtime command")
	keep := fs.Bool("keep", false, "keep the work directory (containers are still deleted)")
	verbose := fs.Bool("v", false, "log every measurement on stderr")
	var sb sandboxOpts
	fs.StringVar(&sb.runsc, "runsc", "/usr/bin/runsc", "Debian's runsc (gVisor of 2022), compared with the sandbox mode (cases sbx-*); skipped with a note when missing or failing")
	fs.StringVar(&sb.runscToday, "runsc-today", "", "today's runsc (systrap), the reference of the sbx-* targets (run.sh builds it with runsc-today.sh); skipped with a note when missing or failing")
	fs.StringVar(&sb.runscFlags, "runsc-flags", "--network=none", "global flags for both runsc (e.g. --platform=ptrace, --ignore-cgroups)")
	fs.IntVar(&sb.sysN, "sys-n", 10000, "sbx-syscall: getpid() and stat(\"/\") calls per run")
	fs.IntVar(&sb.writeN, "write-n", 50000, "sbx-write: 64 KiB writes to /dev/null per run")
	order := fs.String("order", "alternate", "'alternate': runx, runc, runx, runc, ...; 'rotate': the order shifts by one each round (runx, runc, runc, runx, ...)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if fs.NArg() != 1 || *n < 1 || *warmup < 0 || (*specMode != "peer" && *specMode != "own") ||
		(*order != "alternate" && *order != "rotate") {
		fs.Usage()
		return 2
	}
	runx, err := filepath.Abs(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if *peerLabel == "" {
		*peerLabel = filepath.Base(*peer)
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench: must run as root")
		return 2
	}

	b := &Bench{busybox: *busybox, timeout: *timeout, specMode: *specMode, verbose: *verbose, rotate: *order == "rotate"}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		for s := range sigs {
			if !b.interrupted.Swap(true) {
				fmt.Fprintf(os.Stderr, "\nbench: %v: stopping after the current step and cleaning up\n", s)
			}
		}
	}()

	b.workdir, err = os.MkdirTemp("", "runx-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		b.cleanup()
		if *keep {
			b.logf("work directory kept: %s", b.workdir)
		} else if err := os.RemoveAll(b.workdir); err != nil {
			b.logf("removing %s: %v", b.workdir, err)
		}
	}()

	want := map[string]bool{}
	for _, name := range strings.Split(*only, ",") {
		if name = strings.TrimSpace(name); name != "" {
			want[name] = true
		}
	}
	var results []caseResult
	for ci, c := range defaultCases(runx, *peer, *peerLabel, sb) {
		if len(want) > 0 && !want[c.Name] {
			continue
		}
		if c.Unavailable != nil {
			if why := c.Unavailable(); why != "" {
				results = append(results, caseResult{c: c, skipped: "skipped: " + why})
				continue
			}
		}
		var notes []string
		c, notes = dropMissingOptional(c)
		if missing := missingBinary(c); missing != "" {
			if c.Optional {
				results = append(results, caseResult{c: c, skipped: "skipped: " + missing + " not found", notes: notes})
				continue
			}
			fmt.Fprintf(os.Stderr, "bench: case %s: %s not found or not executable\n", c.Name, missing)
			return 1
		}
		states, runNotes, err := b.runCase(ci, c, *warmup, *n)
		notes = append(notes, runNotes...)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			if errors.Is(err, errInterrupted) {
				return 130
			}
			return 1
		}
		results = append(results, caseResult{c: c, states: states, notes: notes})
	}
	if len(results) == 0 {
		fmt.Fprintln(os.Stderr, "bench: no case selected")
		return 2
	}

	report := formatReport(results, *n, *warmup, *specMode, *order)
	fmt.Print(report)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(report), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			return 1
		}
		b.logf("report written to %s", *out)
	}
	return 0
}

// dropMissingOptional removes from c the Optional runtimes whose binary is
// missing, with a note for each.
func dropMissingOptional(c Case) (Case, []string) {
	var kept []Runtime
	var notes []string
	for _, rt := range c.Runtimes {
		if rt.Optional && !isExecutable(rt.Argv[0]) {
			notes = append(notes, fmt.Sprintf("%s dropped: %s not found or not executable", rt.Label, rt.Argv[0]))
			continue
		}
		kept = append(kept, rt)
	}
	c.Runtimes = kept
	return c, notes
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

func missingBinary(c Case) string {
	for _, rt := range c.Runtimes {
		fi, err := os.Stat(rt.Argv[0])
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return rt.Argv[0]
		}
	}
	return ""
}
