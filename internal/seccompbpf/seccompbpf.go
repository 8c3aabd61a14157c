// Package seccompbpf compiles seccomp rules to classic BPF: the one compiler
// behind every filter runx writes itself (the sandbox workload's filter, the
// Sentry's own filter, the unikernel allowlist). These filters are installed
// with raw system calls after a fork, where libseccomp (cgo, allocating)
// cannot run, so they are compiled before it.
//
// A program is: the architecture check, the x32 guard, the rules in order
// (the first that matches decides), and a default action.
package seccompbpf

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	// AuditArchX86_64 is AUDIT_ARCH_X86_64, the arch field of a 64-bit call.
	AuditArchX86_64 = 0xc000003e
	// X32Bit is __X32_SYSCALL_BIT: numbers at or above it are x32 calls
	// (or invalid, as -1 is).
	X32Bit = 0x40000000

	// Offsets in struct seccomp_data.
	offNr   = 0
	offArch = 4
	offIP   = 8
	offArgs = 16
)

// Errno is the action that fails the call with e.
func Errno(e unix.Errno) uint32 { return unix.SECCOMP_RET_ERRNO | uint32(e) }

// Op compares a field of the call with a value (unsigned).
type Op int

const (
	Eq     Op = iota // ==
	Ne               // !=
	Lt               // <
	Le               // <=
	Ge               // >=
	Gt               // >
	NoBits           // no bit of the value is set
)

func (o Op) String() string {
	if o >= Eq && o <= NoBits {
		return [...]string{"==", "!=", "<", "<=", ">=", ">", "&^"}[o]
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// IP, as Cond.Arg, names the instruction pointer of the call.
const IP = -1

// Cond is a condition on one argument (0-5) or on the instruction pointer.
// Most arguments are C ints, of which the kernel reads only the low 32
// bits: only Wide conditions look at all 64.
type Cond struct {
	Arg  int
	Op   Op
	Val  uint64
	Wide bool
}

// Rule: a call whose number is one of Nrs, and for which every condition
// holds, gets Action.
type Rule struct {
	Nrs    []int
	Conds  []Cond
	Action uint32
}

// Filter is a whole policy.
type Filter struct {
	OtherArch uint32 // action for a call of another architecture (int 0x80)
	X32       uint32 // action for a number at or above X32Bit
	Rules     []Rule
	Default   uint32 // action when no rule matches
}

// maxChain bounds the numbers of one rule tested in a row: every test of the
// chain jumps to the rule's conditions, and a BPF jump reaches 255 ahead.
const maxChain = 200

type insn struct {
	code   uint16
	k      uint32
	jt, jf int // label numbers; -1 is the next instruction
}

const (
	ldAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	jeq   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	jge   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	jgt   = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
	jset  = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
	ret   = unix.BPF_RET | unix.BPF_K
)

type builder struct {
	prog    []insn
	labels  int
	pending []int    // labels for the next instruction
	at      [][2]int // label, the instruction it names
}

func (b *builder) label() int { b.labels++; return b.labels - 1 }

// here attaches label l to the next instruction.
func (b *builder) here(l int) { b.pending = append(b.pending, l) }

func (b *builder) emit(code uint16, k uint32, jt, jf int) {
	b.prog = append(b.prog, insn{code: code, k: k, jt: jt, jf: jf})
	for _, l := range b.pending {
		b.at = append(b.at, [2]int{l, len(b.prog) - 1})
	}
	b.pending = b.pending[:0]
}

// Compile turns f into a program the kernel takes.
func Compile(f Filter) ([]unix.SockFilter, error) {
	b := &builder{}
	archOK, nrOK := b.label(), b.label()
	b.emit(ldAbs, offArch, -1, -1)
	b.emit(jeq, AuditArchX86_64, archOK, -1)
	b.emit(ret, f.OtherArch, -1, -1)
	b.here(archOK)
	b.emit(ldAbs, offNr, -1, -1)
	b.emit(jge, X32Bit, -1, nrOK)
	b.emit(ret, f.X32, -1, -1)
	b.here(nrOK)
	for i, r := range f.Rules {
		if len(r.Nrs) == 0 {
			return nil, fmt.Errorf("seccomp rule %d: no system call numbers", i)
		}
		for start := 0; start < len(r.Nrs); start += maxChain {
			nrs := r.Nrs[start:min(start+maxChain, len(r.Nrs))]
			if err := b.rule(nrs, r.Conds, r.Action); err != nil {
				return nil, fmt.Errorf("seccomp rule %d: %w", i, err)
			}
		}
	}
	b.emit(ret, f.Default, -1, -1)
	return b.link()
}

// rule emits: the number is one of nrs, then every condition, then the
// action; a test that fails goes on to the next rule.
func (b *builder) rule(nrs []int, conds []Cond, action uint32) error {
	next, body := b.label(), b.label()
	b.emit(ldAbs, offNr, -1, -1)
	for i, nr := range nrs {
		if i < len(nrs)-1 {
			b.emit(jeq, uint32(nr), body, -1)
		} else {
			b.emit(jeq, uint32(nr), -1, next)
		}
	}
	b.here(body)
	for _, c := range conds {
		if err := b.cond(c, next); err != nil {
			return err
		}
	}
	b.emit(ret, action, -1, -1)
	b.here(next)
	return nil
}

// cond emits a test of c that falls through when it holds and jumps to fail
// when it does not.
func (b *builder) cond(c Cond, fail int) error {
	var off uint32
	switch {
	case c.Arg == IP:
		off = offIP
	case c.Arg >= 0 && c.Arg < 6:
		off = uint32(offArgs + 8*c.Arg)
	default:
		return fmt.Errorf("condition on argument %d: no such argument", c.Arg)
	}
	lo, hi := uint32(c.Val), uint32(c.Val>>32)
	// The low word: fall through when "lo op val" holds.
	low := func() error {
		b.emit(ldAbs, off, -1, -1)
		switch c.Op {
		case Eq:
			b.emit(jeq, lo, -1, fail)
		case Ne:
			b.emit(jeq, lo, fail, -1)
		case Lt:
			b.emit(jge, lo, fail, -1)
		case Le:
			b.emit(jgt, lo, fail, -1)
		case Ge:
			b.emit(jge, lo, -1, fail)
		case Gt:
			b.emit(jgt, lo, -1, fail)
		case NoBits:
			b.emit(jset, lo, fail, -1)
		default:
			return fmt.Errorf("condition on argument %d: unknown operator %v", c.Arg, c.Op)
		}
		return nil
	}
	if !c.Wide {
		return low()
	}
	pass := b.label()
	b.emit(ldAbs, off+4, -1, -1)
	switch c.Op {
	case Eq:
		b.emit(jeq, hi, -1, fail)
	case Ne:
		b.emit(jeq, hi, -1, pass)
	case NoBits:
		b.emit(jset, hi, fail, -1)
	case Lt, Le:
		// A high word above fails, below passes, equal compares the low.
		b.emit(jgt, hi, fail, -1)
		b.emit(jeq, hi, -1, pass)
	case Ge, Gt:
		b.emit(jgt, hi, pass, -1)
		b.emit(jeq, hi, -1, fail)
	default:
		return fmt.Errorf("condition on argument %d: unknown operator %v", c.Arg, c.Op)
	}
	if err := low(); err != nil {
		return err
	}
	b.here(pass)
	return nil
}

// link resolves labels to relative jumps.
func (b *builder) link() ([]unix.SockFilter, error) {
	if len(b.pending) > 0 {
		return nil, fmt.Errorf("seccomp: a label at the end of the program")
	}
	at := make([]int, b.labels)
	for i := range at {
		at[i] = -1
	}
	for _, a := range b.at {
		at[a[0]] = a[1]
	}
	out := make([]unix.SockFilter, len(b.prog))
	for i, in := range b.prog {
		f := unix.SockFilter{Code: in.code, K: in.k}
		for _, j := range []struct {
			label int
			dst   *uint8
		}{{in.jt, &f.Jt}, {in.jf, &f.Jf}} {
			if j.label < 0 {
				continue
			}
			if at[j.label] < 0 {
				return nil, fmt.Errorf("seccomp: unresolved label %d", j.label)
			}
			off := at[j.label] - i - 1
			if off < 0 || off > 255 {
				return nil, fmt.Errorf("seccomp: a jump of %d instructions does not fit", off)
			}
			*j.dst = uint8(off)
		}
		out[i] = f
	}
	if len(out) > unix.BPF_MAXINSNS {
		return nil, fmt.Errorf("seccomp: %d instructions, more than the kernel takes (%d)", len(out), unix.BPF_MAXINSNS)
	}
	return out, nil
}

// Bytes is the program as the kernel reads it (struct sock_filter[]).
func Bytes(p []unix.SockFilter) []byte {
	out := make([]byte, 8*len(p))
	for i, f := range p {
		binary.LittleEndian.PutUint16(out[8*i:], f.Code)
		out[8*i+2], out[8*i+3] = f.Jt, f.Jf
		binary.LittleEndian.PutUint32(out[8*i+4:], f.K)
	}
	return out
}

// Install puts prog on the calling thread, or with tsync on every thread of
// the process, setting no_new_privs first unless it is set (an
// unprivileged filter needs it; a filter already installed may refuse
// prctl, and then needs seccomp allowed).
func Install(prog []unix.SockFilter, tsync bool) error {
	if len(prog) == 0 {
		return fmt.Errorf("seccomp: an empty program")
	}
	var flags uintptr
	if tsync {
		flags = unix.SECCOMP_FILTER_FLAG_TSYNC
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	install := func() unix.Errno {
		_, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, uintptr(unsafe.Pointer(&fprog)))
		return e
	}
	e := install()
	if e == unix.EACCES { // no no_new_privs yet, and no CAP_SYS_ADMIN
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("no_new_privs: %w", err)
		}
		e = install()
	}
	if e != 0 {
		return fmt.Errorf("seccomp: %w", e)
	}
	return nil
}
