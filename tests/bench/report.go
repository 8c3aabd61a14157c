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

	sb.WriteString("\ncases:\n")
	for _, r := range results {
		fmt.Fprintf(&sb, "  %-12s %s\n", r.c.Name, r.c.Desc)
	}
	return sb.String()
}
