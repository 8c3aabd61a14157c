// Kept only to prove the new filter equivalent (filter_equiv_test.go).

package sandbox

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// The Sentry's own seccomp filter: system calls no part of the Sentry makes,
// refused (EPERM) when made from the Sentry's code, so that a Sentry taken
// over by a workload cannot reach that kernel surface either. The workload's
// processes are forked from the Sentry and inherit the filter; they run
// other code after their exec, so the filter tells the two apart by the
// instruction pointer of the call: inside runx's text it applies, elsewhere
// it allows, and the workload's own filter decides. (A workload that maps
// code at those addresses only gets refused more.) The filter looks at the
// instruction pointer only for the numbers it refuses, so every other call
// stays in the kernel's per-number cache of allowed calls.

// legacySelfFilter is the filter for code in [lo, hi).
func legacySelfFilter(lo, hi uint64) ([]unix.SockFilter, error) {
	if lo >= hi || lo>>32 != (hi-1)>>32 {
		return nil, fmt.Errorf("text %#x-%#x is not within one 4 GiB block", lo, hi)
	}
	const (
		ldAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		jge   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
		jgt   = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
		ret   = unix.BPF_RET | unix.BPF_K
	)
	n := len(sentryRefused)
	if n+10 > 255 {
		return nil, fmt.Errorf("too many refused calls for one jump")
	}
	// 0: arch; 1: other arch → allow (the workload's filter refuses it);
	// 2: nr; 3..3+n-1: one jeq each to "check"; then allow; check: ...
	prog := []unix.SockFilter{
		{Code: ldAbs, K: legacyOffArch},
		{Code: jeq, K: legacyAuditArchX8664, Jt: 1, Jf: 0},
		{Code: ret, K: legacyRetAllow},
		{Code: ldAbs, K: legacyOffNr},
	}
	for i, nr := range sentryRefused {
		// Jump over the rest of the list and the "allow" to "check".
		prog = append(prog, unix.SockFilter{Code: jeq, K: uint32(nr), Jt: uint8(n - i)})
	}
	prog = append(prog,
		unix.SockFilter{Code: ret, K: legacyRetAllow},
		// check: the high half of the instruction pointer, then the low.
		unix.SockFilter{Code: ldAbs, K: 8 + 4},
		unix.SockFilter{Code: jeq, K: uint32(lo >> 32), Jt: 1, Jf: 0},
		unix.SockFilter{Code: ret, K: legacyRetAllow},
		unix.SockFilter{Code: ldAbs, K: 8},
		unix.SockFilter{Code: jge, K: uint32(lo), Jt: 1, Jf: 0},
		unix.SockFilter{Code: ret, K: legacyRetAllow},
		unix.SockFilter{Code: jgt, K: uint32(hi - 1), Jt: 0, Jf: 1},
		unix.SockFilter{Code: ret, K: legacyRetAllow},
		unix.SockFilter{Code: ret, K: legacyErrno(unix.EPERM)},
	)
	return prog, nil
}
