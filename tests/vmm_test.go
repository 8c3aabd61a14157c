package tests

import (
	"os"
	"testing"

	"github.com/runx-dev/runx/vmm/boot"
	"github.com/runx-dev/runx/vmm/memory"
)

// TestVMMLoadsGuestKernel: runx's own VMM's loader takes the guest kernel
// the microvm mode boots (Debian's cloud bzImage, which make integration
// installs) with an initramfs, for its 64-bit entry.
func TestVMMLoadsGuestKernel(t *testing.T) {
	const kernelPath = "/usr/local/lib/runx/microvm/vmlinuz"
	kernel, err := os.ReadFile(kernelPath)
	if err != nil {
		t.Fatalf("the guest kernel (make microvm-kernel): %v", err)
	}
	mem, err := memory.NewShared(0, 256<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	e, err := boot.Load(mem, kernel, make([]byte, 4<<20), "console=ttyS0 panic=-1")
	if err != nil {
		t.Fatalf("%s: %v", kernelPath, err)
	}
	if e.Protocol != boot.Linux64 || e.IP < boot.HighMemory+0x200 || e.KernelEnd > 256<<20 {
		t.Errorf("%s: entry %+v", kernelPath, e)
	}
	// 128 MiB is too little for the kernel and a 120 MiB initramfs.
	small, err := memory.NewShared(0, 128<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	if _, err := boot.Load(small, kernel, make([]byte, 120<<20), ""); err == nil {
		t.Error("a 120 MiB initramfs was loaded with the kernel into 128 MiB")
	}
}
