// Package unikernel is runx's unikernel isolation mode: a tender, compatible
// with Solo5's solo5-spt, that loads an spt unikernel into an ordinary process
// and runs it under a seccomp allowlist of a few syscalls.
// The ABI it implements is described in docs/unikernel-spt-abi.md of the
// project's shared documents; section numbers below refer to it.
package unikernel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// ELF constants this loader needs (x86_64 only).
const (
	ptLoad   = 1
	ptNote   = 4
	pfX      = 1
	pfW      = 2
	pfR      = 4
	emX86_64 = 62
	etExec   = 2

	noteABI = 0x31494241 // "ABI1"
	noteMFT = 0x3154464d // "MFT1"

	abiTargetHVT = 1
	abiTargetSPT = 2
	abiVersion   = 2 // version 1 is accepted too: it differs only in empty PT_LOADs

	guestMinBase = 0x100000
	pageSize     = 4096
	maxABIDesc   = 32
	maxMFTDesc   = 6668
)

// errInvalidExe is upstream's wording for anything wrong with the ELF itself.
var errInvalidExe = errors.New("invalid or unsupported executable")

type progHeader struct {
	typ, flags                uint32
	off, vaddr, filesz, memsz uint64
	align                     uint64
}

// Kernel is a parsed, validated unikernel image.
type Kernel struct {
	Path     string
	Entry    uint64
	Version  uint32 // ABI version from the ABI1 note
	Manifest *Manifest
	file     []byte
	phdrs    []progHeader
}

// LoadKernel reads and checks an spt unikernel (sections 2.1 to 2.5).
func LoadKernel(path string) (*Kernel, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, errors.Unwrap(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<31))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return parseKernel(path, data)
}

// parseKernel checks the image read from path.
func parseKernel(path string, data []byte) (*Kernel, error) {
	k := &Kernel{Path: path, file: data}
	if err := k.parseHeader(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	abi, err := k.findNote(noteABI, 4, maxABIDesc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if abi == nil {
		return nil, fmt.Errorf("%s: No Solo5 ABI information found", path)
	}
	if len(abi) < 8 {
		return nil, fmt.Errorf("%s: %w", path, errInvalidExe)
	}
	target, version := binary.LittleEndian.Uint32(abi[0:]), binary.LittleEndian.Uint32(abi[4:])
	if target != abiTargetSPT {
		what := ""
		if target == abiTargetHVT {
			what = " (it is an hvt unikernel)"
		}
		return nil, fmt.Errorf("%s: Executable is not for the solo5-spt target%s", path, what)
	}
	if version != 1 && version != abiVersion {
		return nil, fmt.Errorf("%s: Executable requests unsupported ABI version %d (this tender runs versions 1 and 2)", path, version)
	}
	k.Version = version
	mft, err := k.findNote(noteMFT, 8, maxMFTDesc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if mft == nil {
		return nil, fmt.Errorf("%s: No Solo5 manifest found", path)
	}
	if k.Manifest, err = parseManifest(mft); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

func (k *Kernel) parseHeader() error {
	d := k.file
	if len(d) < 64 || !bytes.Equal(d[:4], []byte("\x7fELF")) || d[4] != 2 || d[5] != 1 || d[6] != 1 {
		return errInvalidExe
	}
	le := binary.LittleEndian
	if le.Uint16(d[16:]) != etExec || le.Uint16(d[18:]) != emX86_64 || le.Uint32(d[20:]) != 1 {
		return errInvalidExe
	}
	k.Entry = le.Uint64(d[24:])
	phoff := le.Uint64(d[32:])
	if le.Uint16(d[52:]) != 64 || le.Uint16(d[54:]) != 56 {
		return errInvalidExe
	}
	phnum := uint64(le.Uint16(d[56:]))
	if phnum < 1 || phoff > uint64(len(d)) || phnum*56 > uint64(len(d))-phoff {
		return errInvalidExe
	}
	for i := uint64(0); i < phnum; i++ {
		p := d[phoff+i*56:]
		k.phdrs = append(k.phdrs, progHeader{
			typ: le.Uint32(p[0:]), flags: le.Uint32(p[4:]), off: le.Uint64(p[8:]),
			vaddr: le.Uint64(p[16:]), filesz: le.Uint64(p[32:]), memsz: le.Uint64(p[40:]), align: le.Uint64(p[48:]),
		})
	}
	return nil
}

// findNote returns the descriptor of the first Solo5 note of type typ, found
// the way the reference tender looks: the first note of each PT_NOTE only.
func (k *Kernel) findNote(typ uint32, align, max uint64) ([]byte, error) {
	le := binary.LittleEndian
	for _, ph := range k.phdrs {
		if ph.typ != ptNote {
			continue
		}
		if ph.filesz < 12 {
			return nil, errInvalidExe
		}
		if ph.filesz < 20 || ph.off > uint64(len(k.file)) || ph.filesz > uint64(len(k.file))-ph.off {
			continue
		}
		n := k.file[ph.off : ph.off+ph.filesz]
		if le.Uint32(n[0:]) != 6 || !bytes.Equal(n[12:18], []byte("Solo5\x00")) || le.Uint32(n[8:]) != typ {
			continue
		}
		desc := uint64(le.Uint32(n[4:]))
		if desc < 1 || desc > max || ph.filesz < 20+desc {
			return nil, errInvalidExe
		}
		pad := (align - 20%align) % align
		if desc < pad {
			return nil, errInvalidExe
		}
		return n[20+pad : 20+desc], nil
	}
	return nil, nil
}

// segment is a validated PT_LOAD ready to copy into guest memory.
type segment struct {
	vaddr, start, end uint64
	data              []byte
	memsz             uint64
	prot              int
}

// segments applies the load rules of section 3.2 for a guest of memSize bytes.
func (k *Kernel) segments(memSize uint64) ([]segment, uint64, error) {
	var segs []segment
	var prevVaddr, prevEnd, kernelEnd uint64
	bad := func(why string) error { return fmt.Errorf("%s: invalid executable: %s", k.Path, why) }
	for _, ph := range k.phdrs {
		if ph.typ != ptLoad || ph.filesz == 0 {
			continue
		}
		if ph.vaddr < guestMinBase {
			return nil, 0, bad("a segment lies below 0x100000")
		}
		if ph.vaddr < prevVaddr {
			return nil, 0, bad("segments are not in ascending order")
		}
		if ph.align == 0 || ph.align&(ph.align-1) != 0 {
			return nil, 0, bad("segment alignment is not a power of two")
		}
		start := ph.vaddr &^ (ph.align - 1)
		if start < guestMinBase || start < prevEnd {
			return nil, 0, bad("segments overlap")
		}
		if ph.vaddr >= memSize || ph.filesz > memSize-ph.vaddr {
			return nil, 0, bad(fmt.Sprintf("a segment does not fit in %d MiB of guest memory", memSize>>20))
		}
		if ph.memsz < ph.filesz {
			return nil, 0, bad("segment memsz is below filesz")
		}
		if ph.memsz > memSize-ph.vaddr {
			return nil, 0, bad(fmt.Sprintf("a segment does not fit in %d MiB of guest memory", memSize>>20))
		}
		end := (ph.vaddr + ph.memsz + ph.align - 1) &^ (ph.align - 1)
		if end > memSize || end < ph.vaddr {
			return nil, 0, bad(fmt.Sprintf("a segment does not fit in %d MiB of guest memory", memSize>>20))
		}
		if start%pageSize != 0 || end%pageSize != 0 {
			return nil, 0, bad("segment bounds are not page aligned")
		}
		if ph.off > uint64(len(k.file)) || ph.filesz > uint64(len(k.file))-ph.off {
			return nil, 0, bad("a segment lies outside the file")
		}
		if ph.flags&pfW != 0 && ph.flags&pfX != 0 {
			return nil, 0, bad("a segment is both writable and executable")
		}
		prot := 0
		if ph.flags&pfR != 0 {
			prot |= protRead
		}
		if ph.flags&pfW != 0 {
			prot |= protWrite
		}
		if ph.flags&pfX != 0 {
			prot |= protExec
		}
		segs = append(segs, segment{vaddr: ph.vaddr, start: start, end: end,
			data: k.file[ph.off : ph.off+ph.filesz], memsz: ph.memsz, prot: prot})
		prevVaddr, prevEnd = ph.vaddr, end
		kernelEnd = max(kernelEnd, end)
	}
	if len(segs) == 0 {
		return nil, 0, bad("no loadable segment")
	}
	if k.Entry < guestMinBase || k.Entry >= memSize {
		return nil, 0, bad(fmt.Sprintf("the entry point 0x%x is not inside %d MiB of guest memory", k.Entry, memSize>>20))
	}
	return segs, kernelEnd, nil
}

const (
	protRead  = 1
	protWrite = 2
	protExec  = 4
)
