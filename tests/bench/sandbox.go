package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// runscToday labels today's gVisor, the reference of the sandbox's targets.
const runscToday = "runsc-2026"

// sandboxOpts are the command-line settings of the sandbox cases.
type sandboxOpts struct {
	runsc      string // Debian's runsc (gVisor of 2022, ptrace platform)
	runscToday string // today's runsc from the module proxy (systrap platform)
	runscFlags string // their global flags, space-separated
	sysN       int    // sbx-syscall: calls of each kind per run
	writeN     int    // sbx-write: 64 KiB writes per run
}

const (
	readFileMiB = 64 // sbx-read: size of the file read
	readPasses  = 8  // sbx-read: times it is read in a run
)

// sandboxCases compares the sandbox isolation mode with gVisor's runsc, of
// today (systrap, the one users compare with: the targets' reference) and of
// Debian 12 (2022, ptrace), and with runx's namespace mode. Every case lists
// the runtimes in that order, so the report's ratios are runx-sandbox over
// each. Both runsc are Optional: when one is missing or its first run
// fails, the case goes on without it and the report says why.
func sandboxCases(runx string, o sandboxOpts) []Case {
	runsc := func(label, bin string) Runtime {
		return Runtime{Label: label, Argv: append([]string{bin}, strings.Fields(o.runscFlags)...), Optional: true}
	}
	runtimes := []Runtime{
		{Label: "runx-sandbox", Argv: []string{runx}, EditConfig: withIsolation("sandbox")},
		runsc(runscToday, o.runscToday),
		runsc("runsc-2022", o.runsc),
		{Label: "runx-namespace", Argv: []string{runx}},
	}
	// The fd I/O cases also run the namespace mode under a one-rule seccomp
	// profile (default allow): any seccomp filter sends every system call
	// through the kernel's slower entry path, which is what the sandbox
	// mode adds to a call its filter allows; this runtime measures that
	// part alone, in the same run.
	withFilter := func(cfg map[string]any) {
		linux, _ := cfg["linux"].(map[string]any)
		if linux == nil {
			linux = map[string]any{}
			cfg["linux"] = linux
		}
		linux["seccomp"] = map[string]any{
			"defaultAction": "SCMP_ACT_ALLOW",
			"architectures": []string{"SCMP_ARCH_X86_64"},
			"syscalls":      []map[string]any{{"names": []string{"kexec_load"}, "action": "SCMP_ACT_ERRNO"}},
		}
	}
	fdRuntimes := append(append([]Runtime(nil), runtimes...),
		Runtime{Label: "runx-namespace-seccomp", Argv: []string{runx}, EditConfig: withFilter})
	prog := &sysloopProg{}
	py := &pythonRootfs{}
	withSysloop := func(b *Bench, rootfs string) error {
		return copyFile(prog.path, filepath.Join(rootfs, "bin", "sysloop"), 0o755)
	}
	return []Case{
		{
			Name:     "sbx-run",
			Desc:     "start-up: run --bundle B <id> of /bin/true (busybox rootfs), waited, then delete --force <id>; target runx-sandbox <= 0.5x " + runscToday,
			Bundle:   []string{"/bin/true"},
			Runtimes: runtimes,
			Measure:  measureRun,
			Targets:  []Target{{Figure: "wall", Ref: runscToday, Max: 0.5}},
		},
		{
			Name: "sbx-syscall",
			Desc: fmt.Sprintf("trapped system calls: run of progs/sysloop (gcc -static -O2) doing %d getpid(), %d stat(\"/\"), then %d open()+close() of a regular file; "+
				"getpid_ns/stat_ns/open_ns = ns per call (pair) as the program times it (CLOCK_MONOTONIC), wall = run + delete; target: each per call <= "+runscToday, o.sysN, o.sysN, o.sysN),
			Bundle:   []string{"/bin/sysloop", "sys", strconv.Itoa(o.sysN)},
			Runtimes: runtimes,
			Prepare:  prog.build,
			Populate: withSysloop,
			Measure:  measureFigures,
			Targets: []Target{{Figure: "getpid_ns", Ref: runscToday, Max: 1}, {Figure: "stat_ns", Ref: runscToday, Max: 1},
				{Figure: "open_ns", Ref: runscToday, Max: 1}},
		},
		{
			Name: "sbx-write",
			Desc: fmt.Sprintf("fd I/O: run of sysloop writing a 64 KiB buffer %d times to /dev/null; write_ns per write and MB/s as timed inside, "+
				"wall = run + delete; target: within 1.2x of runx-namespace (runx-namespace-seccomp: the same under a one-rule seccomp profile)", o.writeN),
			Bundle:   []string{"/bin/sysloop", "write", strconv.Itoa(o.writeN), "65536"},
			Runtimes: fdRuntimes,
			Prepare:  prog.build,
			Populate: withSysloop,
			Measure:  measureFigures,
			Targets:  []Target{{Figure: "write_ns", Ref: "runx-namespace", Max: 1.2}},
		},
		{
			Name: "sbx-read",
			Desc: fmt.Sprintf("fd I/O: run of sysloop reading a %d MiB file of the rootfs %d times over (page cache warm) in 64 KiB reads; "+
				"read_ns per read and MB/s as timed inside, wall = run + delete; target: within 1.2x of runx-namespace", readFileMiB, readPasses),
			Bundle:   []string{"/bin/sysloop", "read", "/big", "65536", strconv.Itoa(readPasses)},
			Runtimes: fdRuntimes,
			Prepare:  prog.build,
			Populate: func(b *Bench, rootfs string) error {
				if err := withSysloop(b, rootfs); err != nil {
					return err
				}
				return writePatternFile(filepath.Join(rootfs, "big"), readFileMiB<<20)
			},
			Measure: measureFigures,
			Targets: []Target{{Figure: "read_ns", Ref: "runx-namespace", Max: 1.2}},
		},
		{
			Name:     "sbx-python",
			Desc:     "run of python3 -c pass in a rootfs with python3 (shared, read-only; see notes for its source), then delete --force",
			Bundle:   []string{"/usr/bin/python3", "-c", "pass"},
			Runtimes: runtimes,
			Rootfs:   py.get,
			Measure:  measureRun,
		},
		{
			Name: "sbx-tar",
			Desc: "run of sh -c 'tar cf - /usr | cat >/dev/null' in the python3 rootfs, then delete --force " +
				"(through a pipe: GNU tar skips reading the files when its archive is /dev/null)",
			Bundle:   []string{"/bin/sh", "-c", "tar cf - /usr | cat >/dev/null"},
			Runtimes: runtimes,
			Rootfs:   py.get,
			Measure:  measureRun,
			Targets:  []Target{{Figure: "wall", Ref: runscToday, Max: 1}},
		},
		{
			Name:     "sbx-find",
			Desc:     "run of find /usr -size +0 >/dev/null (-size: a stat of every file) in the python3 rootfs, then delete --force",
			Bundle:   []string{"/bin/sh", "-c", "find /usr -size +0 >/dev/null"},
			Runtimes: runtimes,
			Rootfs:   py.get,
			Measure:  measureRun,
			Targets:  []Target{{Figure: "wall", Ref: runscToday, Max: 1}},
		},
	}
}

// measureFigures is measureRun for a workload that measures itself: it also
// parses the "name value" lines the container printed on its stdout.
func measureFigures(b *Bench, st *rtState, seq int) (Sample, error) {
	id := b.containerID(st, fmt.Sprint(seq))
	r1, out, err := b.runtimeCmdOut(st, "run", "--bundle", st.bundle, id)
	if err != nil {
		return Sample{}, err
	}
	r2, err := b.runtimeCmd(st, "delete", "--force", id)
	if err != nil {
		return Sample{}, err
	}
	metrics := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		if v, err := strconv.ParseFloat(f[1], 64); err == nil {
			metrics[f[0]] = v
		}
	}
	if len(metrics) == 0 {
		return Sample{}, fmt.Errorf("the workload printed no figures: %q", out)
	}
	return Sample{WallMs: r1.wallMs + r2.wallMs, PeakKiB: max(r1.maxRSSKiB, r2.maxRSSKiB), Metrics: metrics}, nil
}

// sysloopProg builds progs/sysloop.c once per bench run.
type sysloopProg struct{ path string }

func (p *sysloopProg) build(b *Bench) error {
	if p.path != "" {
		return nil
	}
	src, err := filepath.Abs("tests/bench/progs/sysloop.c")
	if err != nil {
		return err
	}
	out := filepath.Join(b.workdir, "sysloop")
	if msg, err := exec.Command("gcc", "-static", "-O2", "-o", out, src).CombinedOutput(); err != nil {
		return fmt.Errorf("building %s: %v: %s", src, err, msg)
	}
	p.path = out
	return nil
}

// writePatternFile writes size bytes of a non-zero pattern (no holes).
func writePatternFile(path string, size int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i*7 + 1)
	}
	for done := 0; done < size; done += len(chunk) {
		if _, err := f.Write(chunk); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// pythonRootfs provides, once per bench run, a rootfs with python3, a shell
// and tar: the Debian 12 rootfs of tests/scripts/debian-rootfs.sh when that
// script exists and succeeds, else one assembled from the host's python3 (its
// binary, the libraries ldd lists and its standard library) and busybox.
type pythonRootfs struct {
	dir  string
	note string
}

func (p *pythonRootfs) get(b *Bench) (string, error) {
	if p.dir == "" {
		if err := p.make(b); err != nil {
			return "", err
		}
	}
	b.pendingNotes = append(b.pendingNotes, p.note)
	return p.dir, nil
}

func (p *pythonRootfs) make(b *Bench) error {
	script, err := filepath.Abs("tests/scripts/debian-rootfs.sh")
	if err != nil {
		return err
	}
	why := script + " not found"
	if _, err := os.Stat(script); err == nil {
		// The script keeps its rootfs in a cache of its own (shared with the
		// compatibility tests), builds it on first use, and prints its path.
		b.logf("getting the Debian rootfs from %s (built on first use)", script)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		var stderr strings.Builder
		cmd := exec.CommandContext(ctx, "sh", script)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		cancel()
		dir := lastLine(string(out))
		switch {
		case err != nil:
			why = fmt.Sprintf("%s failed: %v: %s", script, err, lastLine(stderr.String()))
		case !filepath.IsAbs(dir) || !exists(filepath.Join(dir, "usr/bin/python3")) || !exists(filepath.Join(dir, "bin/sh")):
			why = fmt.Sprintf("%s printed %q, which has no usr/bin/python3 or bin/sh", script, dir)
		default:
			p.dir = dir
			p.note = "rootfs: Debian 12 minbase + python3 at " + dir + ", from " + script
			return nil
		}
	}
	b.logf("python rootfs: %s; assembling one from the host's python3", why)
	dir := filepath.Join(b.workdir, "python-rootfs")
	if err := hostPythonRootfs(b, dir); err != nil {
		return fmt.Errorf("assembling a python3 rootfs from the host: %w", err)
	}
	p.dir = dir
	p.note = "rootfs: host python3 + its libraries + stdlib + busybox sh/tar (" + why + ")"
	return nil
}

func hostPythonRootfs(b *Bench, dir string) error {
	python, err := filepath.EvalSymlinks("/usr/bin/python3")
	if err != nil {
		return fmt.Errorf("host python3: %w", err)
	}
	name := filepath.Base(python) // python3.11
	for _, d := range []string{"usr/bin", "usr/lib", "usr/lib64", "proc", "dev", "sys", "tmp", "etc"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	// Merged /usr, as on Debian 12: the paths ldd prints resolve through these.
	for _, l := range []string{"bin", "lib", "lib64"} {
		if err := os.Symlink("usr/"+l, filepath.Join(dir, l)); err != nil {
			return err
		}
	}
	if err := copyFile(python, filepath.Join(dir, "usr/bin", name), 0o755); err != nil {
		return err
	}
	if err := os.Symlink(name, filepath.Join(dir, "usr/bin/python3")); err != nil {
		return err
	}
	out, err := exec.Command("ldd", python).Output()
	if err != nil {
		return fmt.Errorf("ldd %s: %w", python, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		var lib string
		for _, f := range strings.Fields(line) {
			if strings.HasPrefix(f, "/") {
				lib = f
				break
			}
		}
		if lib == "" {
			continue
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(lib)), 0o755); err != nil {
			return err
		}
		// copyFile follows the host's symlink: the rootfs gets the library itself.
		if err := copyFile(lib, filepath.Join(dir, lib), 0o755); err != nil {
			return err
		}
	}
	stdlib := filepath.Join("/usr/lib", name)
	if msg, err := exec.Command("cp", "-a", stdlib, filepath.Join(dir, "usr/lib")).CombinedOutput(); err != nil {
		return fmt.Errorf("copying %s: %v: %s", stdlib, err, msg)
	}
	if err := copyFile(b.busybox, filepath.Join(dir, "usr/bin/busybox"), 0o755); err != nil {
		return err
	}
	for _, applet := range []string{"sh", "true", "tar", "cat", "find"} {
		if err := os.Symlink("busybox", filepath.Join(dir, "usr/bin", applet)); err != nil {
			return err
		}
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
