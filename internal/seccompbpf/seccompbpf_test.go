package seccompbpf

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runx-dev/runx/internal/bpftest"
)

const (
	allow  = unix.SECCOMP_RET_ALLOW
	notify = unix.SECCOMP_RET_USER_NOTIF
	kill   = unix.SECCOMP_RET_KILL_PROCESS
)

// holds is what a condition means, computed in Go.
func holds(c Cond, v uint64) bool {
	if !c.Wide {
		v, c.Val = uint64(uint32(v)), uint64(uint32(c.Val))
	}
	switch c.Op {
	case Eq:
		return v == c.Val
	case Ne:
		return v != c.Val
	case Lt:
		return v < c.Val
	case Le:
		return v <= c.Val
	case Ge:
		return v >= c.Val
	case Gt:
		return v > c.Val
	case NoBits:
		return v&c.Val == 0
	}
	panic(c.Op)
}

// TestConditions compiles one rule per operator, narrow and wide, on an
// argument and on the instruction pointer, and checks the interpreter's
// answer against holds over values around the high and low words.
func TestConditions(t *testing.T) {
	vals := []uint64{0, 1, 7, 0xffffffff, 1 << 32, 1<<32 | 7, 1<<32 | 8, 1<<32 | 6, 2<<32 | 7, 0xffffffff00000007, ^uint64(0), 0x70001000}
	for op := Eq; op <= NoBits; op++ {
		for _, wide := range []bool{false, true} {
			for _, arg := range []int{IP, 0, 3, 5} {
				for _, val := range []uint64{7, 1<<32 | 7, 0x70001000} {
					c := Cond{Arg: arg, Op: op, Val: val, Wide: wide}
					prog, err := Compile(Filter{OtherArch: kill, X32: kill, Default: notify,
						Rules: []Rule{{Nrs: []int{unix.SYS_READ}, Conds: []Cond{c}, Action: allow}}})
					if err != nil {
						t.Fatalf("%+v: %v", c, err)
					}
					for _, v := range vals {
						var args [6]uint64
						ip := uint64(0x1234)
						if arg == IP {
							ip = v
						} else {
							args[arg] = v
						}
						got, err := bpftest.RunAt(prog, AuditArchX86_64, unix.SYS_READ, ip, args[:]...)
						if err != nil {
							t.Fatal(err)
						}
						want := uint32(notify)
						if holds(c, v) {
							want = allow
						}
						if got != want {
							t.Errorf("arg %d %v %#x (wide %v) with %#x: %#x, want %#x", arg, op, val, wide, v, got, want)
						}
					}
				}
			}
		}
	}
}

func TestGuardsAndOrder(t *testing.T) {
	many := make([]int, 450) // more numbers than one jump chain holds
	for i := range many {
		many[i] = 1000 + i
	}
	prog, err := Compile(Filter{
		OtherArch: Errno(unix.ENOSYS), X32: Errno(unix.EINVAL), Default: notify,
		Rules: []Rule{
			{Nrs: []int{unix.SYS_CLOSE}, Conds: []Cond{{Arg: 0, Op: Lt, Val: 100}}, Action: allow},
			{Nrs: []int{unix.SYS_CLOSE}, Action: Errno(0)},
			{Nrs: many, Action: kill},
			{Nrs: []int{unix.SYS_WRITE, unix.SYS_READ}, Conds: []Cond{{Arg: 0, Op: Eq, Val: 1}, {Arg: 2, Op: Le, Val: 10, Wide: true}}, Action: allow},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		arch uint32
		nr   uint32
		args []uint64
		want uint32
	}{
		{"first rule", AuditArchX86_64, unix.SYS_CLOSE, []uint64{5}, allow},
		{"second rule when the first fails", AuditArchX86_64, unix.SYS_CLOSE, []uint64{500}, Errno(0)},
		{"head of a long chain", AuditArchX86_64, 1000, nil, kill},
		{"tail of a long chain", AuditArchX86_64, 1449, nil, kill},
		{"past the chain", AuditArchX86_64, 1450, nil, notify},
		{"second number of a rule", AuditArchX86_64, unix.SYS_READ, []uint64{1, 0, 10}, allow},
		{"a failed condition", AuditArchX86_64, unix.SYS_WRITE, []uint64{1, 0, 11}, notify},
		{"default", AuditArchX86_64, unix.SYS_OPENAT, nil, notify},
		{"x32", AuditArchX86_64, X32Bit | unix.SYS_READ, []uint64{1}, Errno(unix.EINVAL)},
		{"-1", AuditArchX86_64, 0xffffffff, nil, Errno(unix.EINVAL)},
		{"i386", 0x40000003, unix.SYS_READ, nil, Errno(unix.ENOSYS)},
	} {
		got, err := bpftest.Run(prog, c.arch, c.nr, c.args...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got != c.want {
			t.Errorf("%s: %#x, want %#x", c.name, got, c.want)
		}
	}
	if len(Bytes(prog)) != 8*len(prog) {
		t.Error("Bytes: wrong length")
	}
}

func TestBadRules(t *testing.T) {
	for name, f := range map[string]Filter{
		"no numbers":   {Rules: []Rule{{Action: allow}}},
		"argument 6":   {Rules: []Rule{{Nrs: []int{0}, Conds: []Cond{{Arg: 6, Op: Eq}}}}},
		"bad operator": {Rules: []Rule{{Nrs: []int{0}, Conds: []Cond{{Arg: 0, Op: Op(42)}}}}},
	} {
		if _, err := Compile(f); err == nil {
			t.Errorf("%s: compiled", name)
		}
	}
}
