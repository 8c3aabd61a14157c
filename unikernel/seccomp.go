package unikernel

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// The allowlist of section 7, written as classic BPF by hand: libseccomp is
// cgo and its loader may allocate after the guest owns the address space.

const (
	auditArchX86_64 = 0xc000003e
	x32SyscallBit   = 0x40000000

	retKill  = unix.SECCOMP_RET_KILL_PROCESS
	retAllow = unix.SECCOMP_RET_ALLOW

	offNr   = 0
	offArch = 4
	offArgs = 16
)

// argCheck is one 64-bit condition on a syscall argument.
type argCheck struct {
	arg   int
	value uint64
	le    bool // arg <= value (unsigned) instead of arg == value
}

// rule allows syscall nr when every check holds.
type rule struct {
	nr     uint32
	checks []argCheck
}

// allowlist is the filter for this guest's devices (section 7).
func allowlist(m *Manifest, epollFD, timerFD int) []rule {
	rules := []rule{
		{unix.SYS_WRITE, []argCheck{{arg: 0, value: 1}}},
		{unix.SYS_EXIT_GROUP, nil},
		{unix.SYS_EPOLL_PWAIT, []argCheck{{arg: 0, value: uint64(epollFD)}}},
		{unix.SYS_TIMERFD_SETTIME, []argCheck{{arg: 0, value: uint64(timerFD)}}},
		{unix.SYS_CLOCK_GETTIME, []argCheck{{arg: 0, value: unix.CLOCK_MONOTONIC}}},
		{unix.SYS_CLOCK_GETTIME, []argCheck{{arg: 0, value: unix.CLOCK_REALTIME}}},
		{unix.SYS_ARCH_PRCTL, []argCheck{{arg: 0, value: 0x1002}}}, // ARCH_SET_FS
	}
	for _, e := range m.Entries {
		if !e.Attached {
			continue
		}
		fd := uint64(e.HostFD)
		switch e.Type {
		case DevNet:
			rules = append(rules,
				rule{unix.SYS_READ, []argCheck{{arg: 0, value: fd}}},
				rule{unix.SYS_WRITE, []argCheck{{arg: 0, value: fd}}})
		case DevBlock:
			bs := uint64(e.BlockSize)
			checks := []argCheck{{arg: 0, value: fd}, {arg: 2, value: bs}, {arg: 3, value: e.Capacity - bs, le: true}}
			rules = append(rules, rule{unix.SYS_PREAD64, checks}, rule{unix.SYS_PWRITE64, checks})
		}
	}
	return rules
}

// insn builds a BPF instruction; jt and jf are label names resolved later.
type insn struct {
	code   uint16
	k      uint32
	jt, jf string
	label  string
}

// compile turns rules into BPF: the arch check, the x32 guard, then each rule
// as "nr matches and every 64-bit check holds: allow", else the next rule,
// and kill at the end.
func compile(rules []rule) ([]unix.SockFilter, error) {
	var prog []insn
	add := func(i insn) { prog = append(prog, i) }
	ld := func(off uint32) { add(insn{code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, k: off}) }
	jeq := func(k uint32, jt, jf string) {
		add(insn{code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, k: k, jt: jt, jf: jf})
	}
	jgt := func(k uint32, jt, jf string) {
		add(insn{code: unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K, k: k, jt: jt, jf: jf})
	}
	ret := func(k uint32, label string) { add(insn{code: unix.BPF_RET | unix.BPF_K, k: k, label: label}) }

	// Kills sit right after their tests: BPF jumps reach 255 instructions only.
	ld(offArch)
	jeq(auditArchX86_64, "arch.ok", "")
	ret(retKill, "")
	ld(offNr)
	prog[len(prog)-1].label = "arch.ok"
	jgt(x32SyscallBit-1, "", "nr.ok")
	ret(retKill, "")
	add(insn{code: unix.BPF_JMP | unix.BPF_JA, label: "nr.ok"}) // no-op landing
	for i, r := range rules {
		nextLabel := fmt.Sprintf("rule%d", i+1)
		start := len(prog)
		ld(offNr)
		prog[start].label = fmt.Sprintf("rule%d", i)
		jeq(r.nr, "", nextLabel)
		for _, c := range r.checks {
			lo, hi := uint32(offArgs+8*c.arg), uint32(offArgs+8*c.arg+4)
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
			passLabel := fmt.Sprintf("rule%d.pass%d", i, c.arg)
			ld(hi)
			jgt(vhi, nextLabel, "")
			jeq(vhi, "", passLabel)
			ld(lo)
			jgt(vlo, nextLabel, "")
			// A no-op jump that carries the pass label for the lines above.
			add(insn{code: unix.BPF_JMP | unix.BPF_JA, label: passLabel})
		}
		ret(retAllow, "")
	}
	ret(retKill, fmt.Sprintf("rule%d", len(rules)))
	prog[len(prog)-1].label = fmt.Sprintf("rule%d", len(rules))
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

// filterBytes is the program as the kernel reads it, for tests and debugging.
func filterBytes(p []unix.SockFilter) []byte {
	b := make([]byte, 8*len(p))
	for i, f := range p {
		binary.LittleEndian.PutUint16(b[8*i:], f.Code)
		b[8*i+2], b[8*i+3] = f.Jt, f.Jf
		binary.LittleEndian.PutUint32(b[8*i+4:], f.K)
	}
	return b
}
