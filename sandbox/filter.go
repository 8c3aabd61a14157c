package sandbox

import (
	"golang.org/x/sys/unix"

	"github.com/runx-dev/runx/internal/seccompbpf"
)

// The workload's seccomp filter, compiled (internal/seccompbpf) from the
// filter column of the system call table (syscalls.go) before the fork: the
// loader child installs it with raw system calls only. The first rule that
// matches wins, and a system call no rule matches goes to the Sentry
// (SECCOMP_RET_USER_NOTIF).

const (
	retAllow  = unix.SECCOMP_RET_ALLOW
	retNotify = unix.SECCOMP_RET_USER_NOTIF
)

// workloadFilter is the workload's whole filter: calls of another
// architecture and x32 calls fail with ENOSYS (the rules speak of x86_64
// numbers only), and what no rule names goes to the Sentry.
func workloadFilter(execFD, cwdFD int) seccompbpf.Filter {
	return seccompbpf.Filter{
		OtherArch: seccompbpf.Errno(unix.ENOSYS),
		X32:       seccompbpf.Errno(unix.ENOSYS),
		Rules:     filterRules(fds{exec: execFD, cwd: cwdFD}),
		Default:   retNotify,
	}
}

// filterRules are the table's filter rules: first one rule for every call
// passed whatever its arguments (the kernel caches those as always allowed,
// and never runs the filter for them), then each row's own rules.
func filterRules(f fds) []seccompbpf.Rule {
	all := allow()
	var rest []seccompbpf.Rule
	for _, row := range syscallTable {
		if row.filter == nil {
			continue
		}
		rs := row.filter(f)
		if len(rs) == 1 && len(rs[0].Conds) == 0 && rs[0].Action == retAllow {
			all.Nrs = append(all.Nrs, row.nr)
			continue
		}
		for _, r := range rs {
			r.Nrs = []int{row.nr}
			rest = append(rest, r)
		}
	}
	return append([]seccompbpf.Rule{all}, rest...)
}
