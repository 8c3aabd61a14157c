package boot

import (
	"encoding/binary"
	"fmt"

	"github.com/runx-dev/runx/vmm/memory"
)

// The setup header of a bzImage (Documentation/arch/x86/boot.rst): its
// fields' offsets in the file, which are also their offsets in
// boot_params, where the header is copied.
const (
	hdrStart        = 0x1f1 // setup_sects: the header begins here
	offSetupSects   = 0x1f1
	offBootFlag     = 0x1fe
	offJump         = 0x200 // its second byte: the header's length past 0x202
	offVersion      = 0x206
	offTypeOfLoader = 0x210
	offLoadflags    = 0x211
	offRamdiskImage = 0x218
	offRamdiskSize  = 0x21c
	offHeapEndPtr   = 0x224
	offCmdLinePtr   = 0x228
	offInitrdMax    = 0x22c
	offKernelAlign  = 0x230
	offRelocatable  = 0x234
	offXloadflags   = 0x236
	offCmdlineSize  = 0x238
	offPrefAddress  = 0x258
	offInitSize     = 0x260

	// boot_params beyond the header.
	offE820Entries = 0x1e8
	offE820Table   = 0x2d0
	e820Max        = 128

	loaderUndefined = 0xff // type_of_loader: a boot loader without an ID
	loadedHigh      = 0x01 // loadflags
	canUseHeap      = 0x80
	xlfKernel64     = 0x01 // xloadflags: it has the 64-bit entry
)

// loadBzImage loads a bzImage's protected-mode kernel for its 64-bit
// entry.
func loadBzImage(mem *memory.Memory, kernel []byte) (*Entry, error) {
	le := binary.LittleEndian
	if len(kernel) < offInitSize+4 || le.Uint16(kernel[offBootFlag:]) != 0xaa55 {
		return nil, fmt.Errorf("%w (a bzImage header too short, or without its boot flag)", ErrKernelFormat)
	}
	if v := le.Uint16(kernel[offVersion:]); v < 0x020c {
		return nil, fmt.Errorf("the bzImage's boot protocol %d.%02d is older than 2.12, which has the 64-bit entry", v>>8, v&0xff)
	}
	if kernel[offXloadflags]&xlfKernel64 == 0 {
		return nil, fmt.Errorf("the bzImage has no 64-bit entry (xloadflags)")
	}
	setupSects := uint64(kernel[offSetupSects])
	if setupSects == 0 {
		setupSects = 4
	}
	start := (setupSects + 1) * 512
	if start >= uint64(len(kernel)) {
		return nil, fmt.Errorf("%w (its setup, %d sectors, is the whole file)", ErrKernelFormat, setupSects)
	}
	code := kernel[start:]
	load := le.Uint64(kernel[offPrefAddress:])
	if align := uint64(le.Uint32(kernel[offKernelAlign:])); load < HighMemory || kernel[offRelocatable] != 0 && align != 0 && load%align != 0 {
		load = HighMemory
	}
	// The kernel decompresses itself in place: init_size bytes from load.
	size := max(uint64(le.Uint32(kernel[offInitSize:])), uint64(len(code)))
	dst, err := mem.Slice(load, size)
	if err != nil {
		return nil, fmt.Errorf("the kernel needs %d bytes at %#x: %w", size, load, err)
	}
	copy(dst, code)
	clear(dst[len(code):])
	return &Entry{Protocol: Linux64, IP: load + 0x200, Params: ZeroPageAddr, KernelEnd: load + size}, nil
}

// writeBootParams writes boot_params (the zero page): the kernel's setup
// header, with what the loader fills in, and the memory map.
func writeBootParams(mem *memory.Memory, kernel []byte, mm []E820Entry, initrd, initrdSize uint64, cmdlineLen uint32) error {
	le := binary.LittleEndian
	if max := le.Uint32(kernel[offCmdlineSize:]); cmdlineLen > max {
		return fmt.Errorf("%d bytes, the kernel takes %d: %w", cmdlineLen, max, ErrCmdline)
	}
	if initrdSize > 0 && initrd+initrdSize-1 > uint64(le.Uint32(kernel[offInitrdMax:])) {
		return fmt.Errorf("the initramfs would end at %#x, above the kernel's limit %#x: %w", initrd+initrdSize, le.Uint32(kernel[offInitrdMax:]), ErrInitrdSize)
	}
	if len(mm) > e820Max {
		return fmt.Errorf("%d memory map entries, boot_params holds %d", len(mm), e820Max)
	}
	bp := make([]byte, 4096)
	end := 0x202 + int(kernel[offJump+1])
	if end > len(kernel) || end > len(bp) {
		return fmt.Errorf("%w (its setup header runs past the file)", ErrKernelFormat)
	}
	copy(bp[hdrStart:end], kernel[hdrStart:end])
	bp[offTypeOfLoader] = loaderUndefined
	bp[offLoadflags] |= loadedHigh | canUseHeap
	le.PutUint16(bp[offHeapEndPtr:], 0xfe00) // the real-mode heap's end: not used by the 64-bit entry
	le.PutUint32(bp[offCmdLinePtr:], CmdlineAddr)
	le.PutUint32(bp[offRamdiskImage:], uint32(initrd))
	le.PutUint32(bp[offRamdiskSize:], uint32(initrdSize))
	bp[offE820Entries] = byte(len(mm))
	for i, r := range mm {
		o := offE820Table + 20*i
		le.PutUint64(bp[o:], r.Addr)
		le.PutUint64(bp[o+8:], r.Size)
		le.PutUint32(bp[o+16:], r.Type)
	}
	return mem.Write(ZeroPageAddr, bp)
}
