package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"
)

type caseResult struct {
	c       Case
	states  []*rtState
	skipped string
	notes   []string
}

// median of the values; the mean of the two middle ones for an even count.
func median(v []float64) float64 {
	s := sortedCopy(v)
	if len(s) == 0 {
		return math.NaN()
	}
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// percentile by the nearest-rank method: the smallest value with at least p%
// of the values at or below it.
func percentile(v []float64, p float64) float64 {
	s := sortedCopy(v)
	if len(s) == 0 {
		return math.NaN()
	}
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}

func sortedCopy(v []float64) []float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s
}

func walls(st *rtState) []float64 {
	var v []float64
	for _, s := range st.samples {
		v = append(v, s.WallMs)
	}
	return v
}

func peaksMiB(st *rtState) []float64 {
	var v []float64
	for _, s := range st.samples {
		v = append(v, float64(s.PeakKiB)/1024)
	}
	return v
}

func kernelRelease() string {
	read := func(name string) string {
		b, err := os.ReadFile("/proc/sys/kernel/" + name)
		if err != nil {
			return "?"
		}
		return strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%s %s %s", read("osrelease"), read("version"), runtime.GOARCH)
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// version returns the first line of `<runtime> --version`.
func version(argv []string) string {
	cmd := exec.Command(argv[0], append(append([]string{}, argv[1:]...), "--version")...)
	out, err := cmd.Output()
	if err != nil {
		return "version unknown"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

func formatReport(results []caseResult, n, warmup int, specMode, order string) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "runx benchmark, %s\n", time.Now().Format(time.RFC1123Z))
	fmt.Fprintf(&sb, "kernel: %s\n", kernelRelease())
	fmt.Fprintf(&sb, "cpu:    %s (%d logical CPUs)\n", cpuModel(), runtime.NumCPU())

	// Runtimes, each listed once.
	seen := map[string]bool{}
	for _, r := range results {
		for _, rt := range r.c.Runtimes {
			key := rt.Label + "\x00" + strings.Join(rt.Argv, " ")
			if seen[key] {
				continue
			}
			seen[key] = true
			fmt.Fprintf(&sb, "%-7s %s (%s)\n", rt.Label+":", strings.Join(rt.Argv, " "), version(rt.Argv))
		}
	}
	specDesc := "the reference runtime's `spec`, same for all"
	if specMode == "own" {
		specDesc = "each runtime's own `spec`"
	}
	orderDesc := "alternating in a fixed order"
	if order == "rotate" {
		orderDesc = "alternating, order rotated each round"
	}
	fmt.Fprintf(&sb, "method: %d counted + %d warm-up iterations per runtime, %s; config.json from %s;\n", n, warmup, orderDesc, specDesc)
	fmt.Fprintf(&sb, "        wall = fork to wait4 of the runtime command(s); peak RSS = ru_maxrss from wait4 (includes reaped helpers)\n\n")

	const row = "%-12s %-14s %4s %10s %9s %20s\n"
	fmt.Fprintf(&sb, row, "benchmark", "runtime", "n", "median ms", "p90 ms", "median peak RSS MiB")
	for _, r := range results {
		if r.skipped != "" {
			fmt.Fprintf(&sb, "%-12s %s\n", r.c.Name, r.skipped)
			continue
		}
		for _, st := range r.states {
			w := walls(st)
			fmt.Fprintf(&sb, row, r.c.Name, st.rt.Label, fmt.Sprint(len(w)),
				fmt.Sprintf("%.2f", median(w)), fmt.Sprintf("%.2f", percentile(w, 90)),
				fmt.Sprintf("%.2f", median(peaksMiB(st))))
		}
	}

	sb.WriteString("\nratios (medians):\n")
	for _, r := range results {
		if r.skipped != "" || len(r.states) < 2 {
			continue
		}
		subj := r.states[0]
		for _, ref := range r.states[1:] {
			fmt.Fprintf(&sb, "  %-12s %s/%s  wall %.3f   peak RSS %.3f\n", r.c.Name, subj.rt.Label, ref.rt.Label,
				median(walls(subj))/median(walls(ref)), median(peaksMiB(subj))/median(peaksMiB(ref)))
		}
	}

	writeMetrics(&sb, results)
	writeTargets(&sb, results)

	var notes []string
	for _, r := range results {
		for _, n := range r.notes {
			notes = append(notes, fmt.Sprintf("  %-12s %s", r.c.Name, n))
		}
	}
	if len(notes) > 0 {
		sb.WriteString("\nnotes:\n" + strings.Join(notes, "\n") + "\n")
	}

	sb.WriteString("\ncases:\n")
	for _, r := range results {
		fmt.Fprintf(&sb, "  %-12s %s\n", r.c.Name, r.c.Desc)
	}
	return sb.String()
}

// metricValues returns the values of one in-container figure over st's samples.
func metricValues(st *rtState, name string) []float64 {
	var v []float64
	for _, s := range st.samples {
		if x, ok := s.Metrics[name]; ok {
			v = append(v, x)
		}
	}
	return v
}

// metricNames lists, sorted, the figures any runtime of r reported.
func metricNames(r caseResult) []string {
	seen := map[string]bool{}
	var names []string
	for _, st := range r.states {
		for _, s := range st.samples {
			for k := range s.Metrics {
				if !seen[k] {
					seen[k] = true
					names = append(names, k)
				}
			}
		}
	}
	sort.Strings(names)
	return names
}

// writeMetrics adds the figures the workloads measured themselves (medians
// per runtime) and their ratios, subject over each reference. For the
// *_MBps figures the ratio is inverted (reference over subject), so that
// for every figure a ratio above 1 means the subject is slower.
func writeMetrics(sb *strings.Builder, results []caseResult) {
	header := false
	for _, r := range results {
		if r.skipped != "" {
			continue
		}
		for _, name := range metricNames(r) {
			if !header {
				sb.WriteString("\nin-container figures (medians, as printed by the workload):\n")
				header = true
			}
			var parts []string
			for _, st := range r.states {
				parts = append(parts, fmt.Sprintf("%s %.1f", st.rt.Label, median(metricValues(st, name))))
			}
			fmt.Fprintf(sb, "  %-12s %-11s %s\n", r.c.Name, name, strings.Join(parts, ", "))
			subj := median(metricValues(r.states[0], name))
			for _, ref := range r.states[1:] {
				rv := median(metricValues(ref, name))
				ratio, how := subj/rv, "time"
				if strings.HasSuffix(name, "_MBps") {
					ratio, how = rv/subj, "inverse throughput"
				}
				fmt.Fprintf(sb, "  %-12s %-11s   %s/%s %.3f (%s)\n", "", "", r.states[0].rt.Label, ref.rt.Label, ratio, how)
			}
		}
	}
}

// figureRatio is the ratio of the medians of one figure, subject over
// reference (reference over subject for a throughput), or NaN.
func figureRatio(subj, ref *rtState, figure string) float64 {
	if figure == "wall" {
		return median(walls(subj)) / median(walls(ref))
	}
	s, r := median(metricValues(subj, figure)), median(metricValues(ref, figure))
	if strings.HasSuffix(figure, "_MBps") {
		return r / s
	}
	return s / r
}

// writeTargets checks each case's targets against the medians.
func writeTargets(sb *strings.Builder, results []caseResult) {
	var lines []string
	for _, r := range results {
		if len(r.c.Runtimes) == 0 {
			continue
		}
		for _, t := range r.c.Targets {
			var subj, ref *rtState
			for _, st := range r.states {
				if st.rt.Label == t.Ref {
					ref = st
				}
			}
			if len(r.states) > 0 {
				subj = r.states[0]
			}
			what := fmt.Sprintf("%s %s/%s <= %.2f", t.Figure, r.c.Runtimes[0].Label, t.Ref, t.Max)
			verdict := "not measured (" + t.Ref + " not run)"
			if r.skipped != "" {
				verdict = "not measured (case skipped)"
			} else if subj != nil && ref != nil && subj != ref {
				ratio := figureRatio(subj, ref, t.Figure)
				verdict = fmt.Sprintf("%.3f  NOT MET", ratio)
				if ratio <= t.Max {
					verdict = fmt.Sprintf("%.3f  met", ratio)
				}
			}
			lines = append(lines, fmt.Sprintf("  %-12s %-48s %s", r.c.Name, what, verdict))
		}
	}
	if len(lines) > 0 {
		sb.WriteString("\ntargets (ratios of medians):\n" + strings.Join(lines, "\n") + "\n")
	}
}
