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
