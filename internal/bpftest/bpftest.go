// Package bpftest interprets classic BPF seccomp programs, so that tests can
// check what a filter answers to a system call without installing it.
package bpftest

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// Run evaluates prog over the seccomp_data of one call (nr and arch, then
// the arguments) and returns the action, as the kernel's classic BPF would.
func Run(prog []unix.SockFilter, arch, nr uint32, args ...uint64) (uint32, error) {
	return RunAt(prog, arch, nr, 0, args...)
}

// RunAt is Run for a call made at instruction pointer ip.
func RunAt(prog []unix.SockFilter, arch, nr uint32, ip uint64, args ...uint64) (uint32, error) {
	var data [64]byte
	binary.LittleEndian.PutUint32(data[0:], nr)
	binary.LittleEndian.PutUint32(data[4:], arch)
	binary.LittleEndian.PutUint64(data[8:], ip)
	for i, a := range args {
		binary.LittleEndian.PutUint64(data[16+8*i:], a)
	}
	jump := func(cond bool, in unix.SockFilter) int {
		if cond {
			return int(in.Jt)
		}
		return int(in.Jf)
	}
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			if in.K > 60 {
				return 0, fmt.Errorf("instruction %d: load beyond seccomp_data at %d", pc, in.K)
			}
			acc = binary.LittleEndian.Uint32(data[in.K:])
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K:
			pc += jump(acc == in.K, in)
		case unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K:
			pc += jump(acc >= in.K, in)
		case unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K:
			pc += jump(acc > in.K, in)
		case unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			pc += jump(acc&in.K != 0, in)
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(in.K)
		case unix.BPF_RET | unix.BPF_K:
			return in.K, nil
		default:
			return 0, fmt.Errorf("instruction %d: unknown code %#x", pc, in.Code)
		}
	}
	return 0, fmt.Errorf("the program ran off its end")
}

// Calls are the system calls Compare tries: every number with every
// architecture and instruction pointer, and argument vectors made of the
// number's Vals (zero elsewhere) in one argument and in every pair.
type Calls struct {
	Nrs   []uint32
	Archs []uint32
	IPs   []uint64
	Vals  func(nr uint32) []uint64
}

func argVectors(vals []uint64) [][]uint64 {
	vecs := [][]uint64{make([]uint64, 6)}
	for i := 0; i < 6; i++ {
		for _, v := range vals {
			args := make([]uint64, 6)
			args[i] = v
			vecs = append(vecs, args)
			for j := i + 1; j < 6; j++ {
				for _, w := range vals {
					args := make([]uint64, 6)
					args[i], args[j] = v, w
					vecs = append(vecs, args)
				}
			}
		}
	}
	return vecs
}

// Compare runs both programs over calls and describes the first call they
// answer differently, or returns "" when they agree on all of them.
func Compare(a, b []unix.SockFilter, calls Calls) (string, error) {
	ips := calls.IPs
	if len(ips) == 0 {
		ips = []uint64{0}
	}
	for _, nr := range calls.Nrs {
		var vals []uint64
		if calls.Vals != nil {
			vals = calls.Vals(nr)
		}
		vecs := argVectors(vals)
		for _, arch := range calls.Archs {
			for _, ip := range ips {
				for _, args := range vecs {
					ra, err := RunAt(a, arch, nr, ip, args...)
					if err != nil {
						return "", err
					}
					rb, err := RunAt(b, arch, nr, ip, args...)
					if err != nil {
						return "", err
					}
					if ra != rb {
						return fmt.Sprintf("arch %#x nr %d ip %#x args %#x: %#x and %#x", arch, nr, ip, args, ra, rb), nil
					}
				}
			}
		}
	}
	return "", nil
}

// Around is each value with its neighbours, with its high word set, and 0
// and all ones: the edges of every comparison made with those values.
func Around(vals ...uint64) []uint64 {
	seen := map[uint64]bool{}
	var out []uint64
	add := func(v uint64) {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	add(0)
	add(^uint64(0))
	for _, v := range vals {
		for _, w := range []uint64{v - 1, v, v + 1} {
			add(w)
			add(w ^ 1<<32)
			add(w | 0xffffffff00000000)
		}
	}
	return out
}

// AllNrs is every system call number up to max, and x32 and invalid ones.
func AllNrs(max uint32) []uint32 {
	var nrs []uint32
	for nr := uint32(0); nr <= max; nr++ {
		nrs = append(nrs, nr)
	}
	return append(nrs, 0x40000000, 0x40000001, 0x4000003b, 0x80000000, 0xffffffff)
}
