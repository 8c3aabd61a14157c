package boot

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/runx-dev/runx/vmm/memory"
)

// Protocol is how the vCPU enters the kernel.
type Protocol int

const (
	// PVH: 32-bit protected mode, paging off, EBX the hvm_start_info's
	// address (Xen's PVH boot ABI, which Linux's vmlinux has).
	PVH Protocol = iota + 1
	// Linux64: long mode with identity-mapped pages, RSI the boot_params'
	// address (Linux's 64-bit boot protocol).
	Linux64
)

func (p Protocol) String() string {
	switch p {
	case PVH:
		return "PVH"
	case Linux64:
		return "64-bit boot protocol"
	}
	return "unknown"
}

// Entry is how to start the loaded kernel.
type Entry struct {
	Protocol Protocol
	IP       uint64 // where the vCPU starts
	Params   uint64 // hvm_start_info (EBX) or boot_params (RSI)
	// KernelEnd is the end of the kernel's image in memory (its
	// initialisation included): nothing else is put below it.
	KernelEnd uint64
}

// Errors naming what is wrong with the files given.
var (
	ErrKernelFormat = errors.New("the kernel is neither an ELF vmlinux with a PVH entry nor a bzImage")
	ErrCmdline      = errors.New("the command line is too long")
	ErrInitrdSize   = errors.New("the initramfs does not fit in guest memory")
)

// Load puts kernel (its file's bytes), initrd (none when empty) and
// cmdline into mem, a guest of memory from address 0, and returns how to
// enter the kernel.
func Load(mem *memory.Memory, kernel, initrd []byte, cmdline string) (*Entry, error) {
	var e *Entry
	var err error
	switch {
	case bytes.HasPrefix(kernel, []byte(elf.ELFMAG)):
		e, err = loadPVH(mem, kernel)
	case len(kernel) > 0x206 && string(kernel[0x202:0x206]) == "HdrS":
		e, err = loadBzImage(mem, kernel)
	default:
		return nil, ErrKernelFormat
	}
	if err != nil {
		return nil, err
	}
	if len(cmdline)+1 > CmdlineMax {
		return nil, fmt.Errorf("%d bytes, at most %d: %w", len(cmdline), CmdlineMax-1, ErrCmdline)
	}
	if err := mem.Write(CmdlineAddr, append([]byte(cmdline), 0)); err != nil {
		return nil, fmt.Errorf("the command line: %w", err)
	}
	var initrdAddr uint64
	if len(initrd) > 0 {
		if initrdAddr, err = placeInitrd(mem, e, initrd); err != nil {
			return nil, err
		}
	}
	mm := MemoryMap(mem.Size())
	if e.Protocol == PVH {
		err = writeStartInfo(mem, mm, initrdAddr, uint64(len(initrd)))
	} else {
		err = writeBootParams(mem, kernel, mm, initrdAddr, uint64(len(initrd)), uint32(len(cmdline)))
	}
	return e, err
}

// placeInitrd puts the initramfs as high in 32-bit RAM as it goes, page
// aligned, above the kernel.
func placeInitrd(mem *memory.Memory, e *Entry, initrd []byte) (uint64, error) {
	top := RAMTop(mem.Size())
	n := uint64(len(initrd))
	if n > top || (top-n)&^0xfff < e.KernelEnd {
		return 0, fmt.Errorf("%d bytes, %d free above the kernel: %w", n, max(int64(top)-int64(e.KernelEnd), 0), ErrInitrdSize)
	}
	addr := (top - n) &^ 0xfff
	if err := mem.Write(addr, initrd); err != nil {
		return 0, fmt.Errorf("the initramfs: %w", err)
	}
	return addr, nil
}

// loadPVH loads a vmlinux's segments at their physical addresses and finds
// its PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY).
func loadPVH(mem *memory.Memory, kernel []byte) (*Entry, error) {
	f, err := elf.NewFile(bytes.NewReader(kernel))
	if err != nil {
		return nil, fmt.Errorf("the kernel's ELF: %w", err)
	}
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 {
		return nil, fmt.Errorf("the kernel's ELF is %v %v, not an x86-64 vmlinux", f.Class, f.Machine)
	}
	e := &Entry{Protocol: PVH, Params: StartInfoAddr}
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_LOAD:
			if p.Filesz > p.Memsz {
				return nil, fmt.Errorf("the kernel's segment at %#x: more in the file than in memory", p.Paddr)
			}
			dst, err := mem.Slice(p.Paddr, p.Memsz)
			if err != nil {
				return nil, fmt.Errorf("the kernel's segment at %#x (%d bytes): %w", p.Paddr, p.Memsz, err)
			}
			if p.Paddr < HighMemory {
				return nil, fmt.Errorf("the kernel's segment at %#x is below 1 MiB, where its boot data go", p.Paddr)
			}
			n, err := p.ReadAt(dst[:p.Filesz], 0)
			if err != nil || uint64(n) != p.Filesz {
				return nil, fmt.Errorf("the kernel's segment at %#x: %v", p.Paddr, err)
			}
			clear(dst[p.Filesz:])
			e.KernelEnd = max(e.KernelEnd, p.Paddr+p.Memsz)
		case elf.PT_NOTE:
			if p.Filesz == 0 {
				continue
			}
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				return nil, fmt.Errorf("the kernel's notes: %w", err)
			}
			if ip, ok := pvhEntry(b, f.ByteOrder); ok {
				e.IP = ip
			}
		}
	}
	if e.IP == 0 {
		return nil, fmt.Errorf("%w (an ELF without the PVH entry note: a kernel built without CONFIG_PVH)", ErrKernelFormat)
	}
	return e, nil
}

// pvhEntry finds the Xen PHYS32_ENTRY note among ELF notes.
func pvhEntry(b []byte, bo binary.ByteOrder) (uint64, bool) {
	const xenElfnotePhys32Entry = 18
	for len(b) >= 12 {
		namesz, descsz, typ := bo.Uint32(b), bo.Uint32(b[4:]), bo.Uint32(b[8:])
		name := (uint64(namesz) + 3) &^ 3
		desc := (uint64(descsz) + 3) &^ 3
		if 12+name+desc > uint64(len(b)) {
			return 0, false
		}
		if typ == xenElfnotePhys32Entry && string(bytes.TrimRight(b[12:12+namesz], "\x00")) == "Xen" {
			d := b[12+name : 12+name+uint64(descsz)]
			switch len(d) {
			case 4:
				return uint64(bo.Uint32(d)), true
			case 8:
				return bo.Uint64(d), true
			}
			return 0, false
		}
		b = b[12+name+desc:]
	}
	return 0, false
}

// writeStartInfo writes hvm_start_info (version 1) with the initramfs as
// its one module, the command line and the memory map after it.
func writeStartInfo(mem *memory.Memory, mm []E820Entry, initrd, initrdSize uint64) error {
	const (
		magic      = 0x336ec578
		infoSize   = 56
		moduleSize = 32
		entrySize  = 24
	)
	b := make([]byte, infoSize+moduleSize+entrySize*len(mm))
	le := binary.LittleEndian
	le.PutUint32(b[0:], magic)
	le.PutUint32(b[4:], 1) // version
	le.PutUint64(b[24:], CmdlineAddr)
	le.PutUint64(b[40:], StartInfoAddr+infoSize+moduleSize) // memmap_paddr
	le.PutUint32(b[48:], uint32(len(mm)))
	if initrdSize > 0 {
		le.PutUint32(b[12:], 1)                      // nr_modules
		le.PutUint64(b[16:], StartInfoAddr+infoSize) // modlist_paddr
		le.PutUint64(b[infoSize:], initrd)           // paddr
		le.PutUint64(b[infoSize+8:], initrdSize)     // size
	}
	for i, r := range mm {
		o := infoSize + moduleSize + entrySize*i
		le.PutUint64(b[o:], r.Addr)
		le.PutUint64(b[o+8:], r.Size)
		le.PutUint32(b[o+16:], r.Type)
	}
	if StartInfoAddr+uint64(len(b)) > ZeroPageAddr {
		return errors.New("the memory map does not fit before the zero page")
	}
	return mem.Write(StartInfoAddr, b)
}
