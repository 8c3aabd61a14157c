// The hand-written compiler this package had before internal/seccompbpf,
// kept only to prove the new filter equivalent (seccomp_equiv_test.go).

package unikernel

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// The legacyAllowlist of section 7, written as classic BPF by hand: libseccomp is
// cgo and its loader may allocate after the guest owns the address space.

const (
	legacyAuditArchX86_64 = 0xc000003e
	legacyX32SyscallBit   = 0x40000000

	legacyRetKill  = unix.SECCOMP_RET_KILL_PROCESS
	legacyRetAllow = unix.SECCOMP_RET_ALLOW

	legacyOffNr   = 0
	legacyOffArch = 4
	legacyOffArgs = 16
)

// legacyArgCheck is one 64-bit condition on a syscall argument.
type legacyArgCheck struct {
	arg   int
	value uint64
	le    bool // arg <= value (unsigned) instead of arg == value
}

// legacyRule allows syscall nr when every check holds.
type legacyRule struct {
	nr     uint32
	checks []legacyArgCheck
}

// legacyAllowlist is the filter for this guest's devices (section 7).
func legacyAllowlist(m *Manifest, epollFD, timerFD int) []legacyRule {
	rules := []legacyRule{
		{unix.SYS_WRITE, []legacyArgCheck{{arg: 0, value: 1}}},
		{unix.SYS_EXIT_GROUP, nil},
		{unix.SYS_EPOLL_PWAIT, []legacyArgCheck{{arg: 0, value: uint64(epollFD)}}},
		{unix.SYS_TIMERFD_SETTIME, []legacyArgCheck{{arg: 0, value: uint64(timerFD)}}},
		{unix.SYS_CLOCK_GETTIME, []legacyArgCheck{{arg: 0, value: unix.CLOCK_MONOTONIC}}},
		{unix.SYS_CLOCK_GETTIME, []legacyArgCheck{{arg: 0, value: unix.CLOCK_REALTIME}}},
		{unix.SYS_ARCH_PRCTL, []legacyArgCheck{{arg: 0, value: 0x1002}}}, // ARCH_SET_FS
	}
	for _, e := range m.Entries {
		if !e.Attached {
			continue
		}
		fd := uint64(e.HostFD)
		switch e.Type {
		case DevNet:
			rules = append(rules,
				legacyRule{unix.SYS_READ, []legacyArgCheck{{arg: 0, value: fd}}},
				legacyRule{unix.SYS_WRITE, []legacyArgCheck{{arg: 0, value: fd}}})
		case DevBlock:
			bs := uint64(e.BlockSize)
			checks := []legacyArgCheck{{arg: 0, value: fd}, {arg: 2, value: bs}, {arg: 3, value: e.Capacity - bs, le: true}}
			rules = append(rules, legacyRule{unix.SYS_PREAD64, checks}, legacyRule{unix.SYS_PWRITE64, checks})
		}
	}
	return rules
}

// legacyInsn builds a BPF instruction; jt and jf are label names resolved later.
type legacyInsn struct {
	code   uint16
	k      uint32
	jt, jf string
	label  string
}

// legacyCompile turns rules into BPF: the arch check, the x32 guard, then each legacyRule
// as "nr matches and every 64-bit check holds: allow", else the next legacyRule,
// and kill at the end.
func legacyCompile(rules []legacyRule) ([]unix.SockFilter, error) {
	var prog []legacyInsn
	add := func(i legacyInsn) { prog = append(prog, i) }
	ld := func(off uint32) { add(legacyInsn{code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, k: off}) }
	jeq := func(k uint32, jt, jf string) {
		add(legacyInsn{code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, k: k, jt: jt, jf: jf})
	}
	jgt := func(k uint32, jt, jf string) {
		add(legacyInsn{code: unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K, k: k, jt: jt, jf: jf})
	}
	ret := func(k uint32, label string) { add(legacyInsn{code: unix.BPF_RET | unix.BPF_K, k: k, label: label}) }

	// Kills sit right after their tests: BPF jumps reach 255 instructions only.
	ld(legacyOffArch)
	jeq(legacyAuditArchX86_64, "arch.ok", "")
	ret(legacyRetKill, "")
	ld(legacyOffNr)
	prog[len(prog)-1].label = "arch.ok"
	jgt(legacyX32SyscallBit-1, "", "nr.ok")
	ret(legacyRetKill, "")
	add(legacyInsn{code: unix.BPF_JMP | unix.BPF_JA, label: "nr.ok"}) // no-op landing
	for i, r := range rules {
		nextLabel := fmt.Sprintf("legacyRule%d", i+1)
		start := len(prog)
		ld(legacyOffNr)
		prog[start].label = fmt.Sprintf("legacyRule%d", i)
		jeq(r.nr, "", nextLabel)
		for _, c := range r.checks {
			lo, hi := uint32(legacyOffArgs+8*c.arg), uint32(legacyOffArgs+8*c.arg+4)
			vlo, vhi := uint32(c.value), uint32(c.value>>32)
			if !c.le {
				ld(hi)
				jeq(vhi, "", nextLabel)
				ld(lo)
				jeq(vlo, "", nextLabel)
				continue
			}
			// Unsigned 64-bit arg <= value: high word above fails, below
			// passes, equal compares the low word.
			passLabel := fmt.Sprintf("legacyRule%d.pass%d", i, c.arg)
			ld(hi)
			jgt(vhi, nextLabel, "")
			jeq(vhi, "", passLabel)
			ld(lo)
			jgt(vlo, nextLabel, "")
			// A no-op jump that carries the pass label for the lines above.
			add(legacyInsn{code: unix.BPF_JMP | unix.BPF_JA, label: passLabel})
		}
		ret(legacyRetAllow, "")
	}
	ret(legacyRetKill, fmt.Sprintf("legacyRule%d", len(rules)))
	prog[len(prog)-1].label = fmt.Sprintf("legacyRule%d", len(rules))
	where := map[string]int{}
	for i, in := range prog {
		if in.label != "" {
			where[in.label] = i
		}
	}
	out := make([]unix.SockFilter, len(prog))
	for i, in := range prog {
		f := unix.SockFilter{Code: in.code, K: in.k}
		for _, j := range []struct {
			name string
			dst  *uint8
		}{{in.jt, &f.Jt}, {in.jf, &f.Jf}} {
			if j.name == "" {
				continue
			}
			to, ok := where[j.name]
			if !ok {
				return nil, fmt.Errorf("seccomp: unresolved label %s", j.name)
			}
			off := to - i - 1
			if off < 0 || off > 255 {
				return nil, fmt.Errorf("seccomp: jump of %d instructions does not fit", off)
			}
			*j.dst = uint8(off)
		}
		out[i] = f
	}
	return out, nil
}
