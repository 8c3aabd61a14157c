package sandbox

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite README.md's coverage tables from the syscall table")

const (
	coverageBegin = "<!-- coverage: generated from syscalls.go by `go test ./sandbox -run TestCoverageTable -update` -->\n"
	coverageEnd   = "<!-- coverage: end -->\n"
)

// TestCoverageTable checks that README.md's coverage tables are the ones the
// syscall table makes.
func TestCoverageTable(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, coverageBegin), strings.Index(s, coverageEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md has no generated coverage section (%q ... %q)", coverageBegin, coverageEnd)
	}
	want := s[:i+len(coverageBegin)] + CoverageMarkdown() + s[j:]
	if want == s {
		return
	}
	if *update {
		if err := os.WriteFile("README.md", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's coverage tables are not the syscall table's: go test ./sandbox -run TestCoverageTable -update")
}

// TestSyscallTable checks the table's own rules.
func TestSyscallTable(t *testing.T) {
	prev := -1
	for _, r := range syscallTable {
		name := sysName(r.nr)
		if r.nr <= prev {
			t.Errorf("%s (%d): not in number order, or twice", name, r.nr)
		}
		prev = r.nr
		if _, ok := sysNames[r.nr]; !ok {
			t.Errorf("%d: no such system call", r.nr)
		}
		all := r.filter != nil && len(r.filter(fds{9, 8})) == 1 && len(r.filter(fds{9, 8})[0].Conds) == 0
		switch {
		case r.filter == nil && r.handler == nil:
			t.Errorf("%s: neither the filter nor the Sentry serves it (leave it out of the table)", name)
		case all && (r.handler != nil || r.flags != 0):
			t.Errorf("%s: the filter decides every call, so no handler or flag of it is ever used", name)
		case r.handler == nil && r.flags != 0:
			t.Errorf("%s: flags without a handler", name)
		case r.flags&quick != 0 && r.flags&mayBlock != 0:
			t.Errorf("%s: quick calls may not block the listener", name)
		case r.handler != nil && (r.support == unsupported || r.support == passed):
			t.Errorf("%s: served by the Sentry, support %v", name, r.support)
		case r.filter != nil && r.why == "" && r.checks == "":
			t.Errorf("%s: passed by the filter without a word why", name)
		case r.handler != nil && r.how == "" && r.support != emulated:
			t.Errorf("%s: served without a word how", name)
		}
	}
	if got := len(Syscalls()); got != len(sysNames) {
		t.Errorf("Syscalls lists %d calls, want %d", got, len(sysNames))
	}
}
