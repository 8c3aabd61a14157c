package boot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/runx-dev/runx/vmm/memory"
)

var le = binary.LittleEndian

func TestMemoryMap(t *testing.T) {
	for _, c := range []struct {
		size uint64
		want []E820Entry
	}{
		{512 << 10, []E820Entry{{0, ebdaStart, E820RAM}}},
		{64 << 20, []E820Entry{{0, ebdaStart, E820RAM}, {HighMemory, 64<<20 - HighMemory, E820RAM}}},
		{MMIOStart, []E820Entry{{0, ebdaStart, E820RAM}, {HighMemory, MMIOStart - HighMemory, E820RAM}}},
		{4 << 30, []E820Entry{{0, ebdaStart, E820RAM}, {HighMemory, MMIOStart - HighMemory, E820RAM}, {1 << 32, 4<<30 - MMIOStart, E820RAM}}},
	} {
		got := MemoryMap(c.size)
		if len(got) != len(c.want) {
			t.Errorf("%d MiB: %v, want %v", c.size>>20, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%d MiB: entry %d is %+v, want %+v", c.size>>20, i, got[i], c.want[i])
			}
		}
	}
}

// bzImage makes a bzImage of 4 setup sectors and code bytes of kernel,
// protocol version v.
func bzImage(v uint16, code []byte) []byte {
	k := make([]byte, 5*512+len(code))
	k[offSetupSects] = 4
	le.PutUint16(k[offBootFlag:], 0xaa55)
	k[offJump+1] = 0x6a // the header runs to 0x26c
	copy(k[0x202:], "HdrS")
	le.PutUint16(k[offVersion:], v)
	k[offXloadflags] = xlfKernel64
	le.PutUint32(k[offCmdlineSize:], 2047)
	le.PutUint32(k[offInitrdMax:], 0x7fffffff)
	le.PutUint32(k[offKernelAlign:], 0x200000)
	k[offRelocatable] = 1
	le.PutUint64(k[offPrefAddress:], 0x1000000)
	le.PutUint32(k[offInitSize:], 0x10000)
	copy(k[5*512:], code)
	return k
}

func guest(size int) *memory.Memory { return memory.FromBytes(0, make([]byte, size)) }

func TestLoadBzImage(t *testing.T) {
	mem := guest(64 << 20)
	code := []byte("the protected-mode kernel")
	initrd := bytes.Repeat([]byte{7}, 5000)
	e, err := Load(mem, bzImage(0x020f, code), initrd, "console=ttyS0 quiet")
	if err != nil {
		t.Fatal(err)
	}
	if e.Protocol != Linux64 || e.IP != 0x1000200 || e.Params != ZeroPageAddr || e.KernelEnd != 0x1010000 {
		t.Errorf("entry %+v", e)
	}
	got := make([]byte, len(code))
	mem.Read(0x1000000, got)
	if !bytes.Equal(got, code) {
		t.Errorf("kernel at its preferred address: %q", got)
	}
	bp := make([]byte, 4096)
	mem.Read(ZeroPageAddr, bp)
	if bp[offTypeOfLoader] != loaderUndefined || bp[offLoadflags]&loadedHigh == 0 || string(bp[0x202:0x206]) != "HdrS" {
		t.Errorf("boot_params header: loader %#x, loadflags %#x, magic %q", bp[offTypeOfLoader], bp[offLoadflags], bp[0x202:0x206])
	}
	if le.Uint32(bp[offCmdLinePtr:]) != CmdlineAddr {
		t.Errorf("cmd_line_ptr %#x", le.Uint32(bp[offCmdLinePtr:]))
	}
	cl := make([]byte, 20)
	mem.Read(CmdlineAddr, cl)
	if string(cl) != "console=ttyS0 quiet\x00" {
		t.Errorf("command line %q", cl)
	}
	addr, size := uint64(le.Uint32(bp[offRamdiskImage:])), le.Uint32(bp[offRamdiskSize:])
	if size != 5000 || addr%4096 != 0 || addr+5000 > 64<<20 || addr < e.KernelEnd {
		t.Errorf("initramfs at %#x, %d bytes", addr, size)
	}
	rd := make([]byte, 5000)
	mem.Read(addr, rd)
	if !bytes.Equal(rd, initrd) {
		t.Error("the initramfs is not where boot_params says")
	}
	if n := bp[offE820Entries]; n != 2 {
		t.Errorf("%d e820 entries", n)
	}
	if a, s, ty := le.Uint64(bp[offE820Table+20:]), le.Uint64(bp[offE820Table+28:]), le.Uint32(bp[offE820Table+36:]); a != HighMemory || s != 64<<20-HighMemory || ty != E820RAM {
		t.Errorf("e820[1] = %#x %#x %d", a, s, ty)
	}
}

// elfKernel makes an x86-64 ELF with one loaded segment of code at paddr
// and, with entry != 0, the PVH entry note.
func elfKernel(paddr uint64, code []byte, entry uint32) []byte {
	var note bytes.Buffer
	if entry != 0 {
		binary.Write(&note, le, []uint32{4, 4, 18})
		note.WriteString("Xen\x00")
		binary.Write(&note, le, entry)
	}
	const ehsize, phsize = 64, 56
	noteOff := uint64(ehsize + 2*phsize)
	codeOff := noteOff + uint64(note.Len())
	var b bytes.Buffer
	ident := [16]byte{0x7f, 'E', 'L', 'F', 2, 1, 1}
	b.Write(ident[:])
	binary.Write(&b, le, struct {
		Type, Machine                                        uint16
		Version                                              uint32
		Entry, Phoff, Shoff                                  uint64
		Flags                                                uint32
		Ehsize, Phentsize, Phnum, Shentsize, Shnum, Shstrndx uint16
	}{2, 62, 1, paddr, ehsize, 0, 0, ehsize, phsize, 2, 0, 0, 0})
	type phdr struct {
		Type, Flags                             uint32
		Off, Vaddr, Paddr, Filesz, Memsz, Align uint64
	}
	binary.Write(&b, le, phdr{1, 5, codeOff, 0xffffffff80000000 + paddr, paddr, uint64(len(code)), uint64(len(code)) + 0x1000, 0x1000})
	binary.Write(&b, le, phdr{4, 4, noteOff, 0, 0, uint64(note.Len()), uint64(note.Len()), 4})
	b.Write(note.Bytes())
	b.Write(code)
	return b.Bytes()
}

func TestLoadPVH(t *testing.T) {
	mem := guest(32 << 20)
	code := []byte("vmlinux text")
	e, err := Load(mem, elfKernel(0x1000000, code, 0x1000123), []byte("initramfs"), "quiet")
	if err != nil {
		t.Fatal(err)
	}
	if e.Protocol != PVH || e.IP != 0x1000123 || e.Params != StartInfoAddr || e.KernelEnd != 0x1000000+uint64(len(code))+0x1000 {
		t.Errorf("entry %+v", e)
	}
	got := make([]byte, len(code))
	mem.Read(0x1000000, got)
	if !bytes.Equal(got, code) {
		t.Errorf("segment: %q", got)
	}
	si := make([]byte, 56+32+24*2)
	mem.Read(StartInfoAddr, si)
	if le.Uint32(si) != 0x336ec578 || le.Uint32(si[4:]) != 1 || le.Uint32(si[12:]) != 1 || le.Uint64(si[24:]) != CmdlineAddr || le.Uint32(si[48:]) != 2 {
		t.Errorf("hvm_start_info: magic %#x version %d modules %d cmdline %#x memmap entries %d",
			le.Uint32(si), le.Uint32(si[4:]), le.Uint32(si[12:]), le.Uint64(si[24:]), le.Uint32(si[48:]))
	}
	mod := le.Uint64(si[16:])
	addr, size := le.Uint64(si[mod-StartInfoAddr:]), le.Uint64(si[mod-StartInfoAddr+8:])
	rd := make([]byte, size)
	mem.Read(addr, rd)
	if string(rd) != "initramfs" {
		t.Errorf("module at %#x: %q", addr, rd)
	}
}

func TestLoadErrors(t *testing.T) {
	small := bzImage(0x020f, []byte("k"))
	for _, c := range []struct {
		name    string
		mem     int
		kernel  []byte
		initrd  []byte
		cmdline string
		err     error
		says    string
	}{
		{"not a kernel", 32 << 20, []byte("#!/bin/sh\necho hello\n"), nil, "", ErrKernelFormat, ""},
		{"empty", 32 << 20, nil, nil, "", ErrKernelFormat, ""},
		{"ELF without PVH", 32 << 20, elfKernel(0x1000000, []byte("x"), 0), nil, "", ErrKernelFormat, "CONFIG_PVH"},
		{"ELF segment beyond memory", 16 << 20, elfKernel(0x1000000, []byte("x"), 0x1000000), nil, "", memory.ErrRange, "segment"},
		{"ELF segment in low memory", 32 << 20, elfKernel(0x8000, []byte("x"), 0x8000), nil, "", nil, "below 1 MiB"},
		{"old boot protocol", 32 << 20, bzImage(0x0206, []byte("k")), nil, "", nil, "older than 2.12"},
		{"bzImage beyond memory", 16 << 20, small, nil, "", memory.ErrRange, "needs"},
		{"initramfs too large", 32 << 20, small, make([]byte, 32<<20), "", ErrInitrdSize, ""},
		{"initramfs over the kernel", 17 << 20, small, make([]byte, 2<<20), "", ErrInitrdSize, ""},
		{"command line too long", 32 << 20, small, nil, strings.Repeat("x", CmdlineMax), ErrCmdline, ""},
		{"command line longer than the kernel takes", 32 << 20, small, nil, strings.Repeat("x", 3000), ErrCmdline, "takes 2047"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(guest(c.mem), c.kernel, c.initrd, c.cmdline)
			if err == nil {
				t.Fatal("loaded")
			}
			if c.err != nil && !errors.Is(err, c.err) {
				t.Errorf("error %v, want %v", err, c.err)
			}
			if !strings.Contains(err.Error(), c.says) {
				t.Errorf("error %q does not say %q", err, c.says)
			}
		})
	}
}
