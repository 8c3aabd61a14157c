package acpi

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/runx-dev/runx/vmm/memory"
)

func sum(b []byte) byte {
	var s byte
	for _, c := range b {
		s += c
	}
	return s
}

// The tables as Linux reads them: the RSDP found in the BIOS area, every
// table's length and checksum right, the XSDT pointing at the FADT and the
// MADT, the FADT at the DSDT, one local APIC per vCPU.
func TestWrite(t *testing.T) {
	mem := memory.FromBytes(0, make([]byte, 2<<20))
	for _, vcpus := range []int{1, 2, 8} {
		devs := []Device{{Addr: 0xd0000000, Size: 0x1000, IRQ: 5}, {Addr: 0xd0001000, Size: 0x1000, IRQ: 6}}
		rsdp, err := Write(mem, Config{VCPUs: vcpus, Devices: devs, ResetPort: 0x64, ResetValue: 0xfe, SerialPort: 0x3f8, SerialIRQ: 4,
			SleepControl: 0x600, SleepStatus: 0x601, SleepS5: 5})
		if err != nil {
			t.Fatal(err)
		}
		r, _ := mem.Slice(rsdp, 36)
		if !bytes.HasPrefix(r, []byte("RSD PTR ")) || sum(r[:20]) != 0 || sum(r) != 0 {
			t.Fatalf("RSDP % x", r)
		}
		table := func(addr uint64, sig string) []byte {
			h, err := mem.Slice(addr, 36)
			if err != nil || string(h[:4]) != sig {
				t.Fatalf("%s at %#x: % x (%v)", sig, addr, h, err)
			}
			b, _ := mem.Slice(addr, uint64(binary.LittleEndian.Uint32(h[4:])))
			if sum(b) != 0 {
				t.Errorf("%s: checksum", sig)
			}
			return b
		}
		x := table(binary.LittleEndian.Uint64(r[24:]), "XSDT")
		if len(x) != 36+16 {
			t.Fatalf("XSDT lists %d tables", (len(x)-36)/8)
		}
		f := table(binary.LittleEndian.Uint64(x[36:]), "FACP")
		if binary.LittleEndian.Uint32(f[fadtFlags:])&flagHWReduced == 0 || f[fadtResetValue] != 0xfe ||
			binary.LittleEndian.Uint64(f[fadtResetReg+4:]) != 0x64 {
			t.Errorf("FADT flags %#x reset %#x", binary.LittleEndian.Uint32(f[fadtFlags:]), f[fadtResetValue])
		}
		if binary.LittleEndian.Uint64(f[fadtSleepControl+4:]) != 0x600 || binary.LittleEndian.Uint64(f[fadtSleepStatus+4:]) != 0x601 || f[fadtSleepControl] != gasSystemIO {
			t.Errorf("FADT sleep registers % x / % x", f[fadtSleepControl:fadtSleepControl+12], f[fadtSleepStatus:fadtSleepStatus+12])
		}
		d := table(binary.LittleEndian.Uint64(f[fadtXDSDT:]), "DSDT")
		// Name (_S5_, Package (2) { 5, Zero })
		if s5 := []byte{amlName, '_', 'S', '5', '_', amlPackage, 5, 2, amlByte, 5, amlZero}; !bytes.Contains(d, s5) {
			t.Errorf("DSDT lacks \\_S5 (% x)", s5)
		}
		for _, want := range []string{"COM1", "V000", "V001", "LNRO0005"} {
			if !bytes.Contains(d, []byte(want)) {
				t.Errorf("DSDT lacks %s", want)
			}
		}
		m := table(binary.LittleEndian.Uint64(x[44:]), "APIC")
		if n := bytes.Count(m[44:], []byte{0, 8}); len(m) != 44+8*vcpus+12 || n < vcpus {
			t.Errorf("MADT of %d bytes for %d vCPUs", len(m), vcpus)
		}
	}
	if _, err := Write(mem, Config{VCPUs: 0}); err == nil {
		t.Error("0 vCPUs accepted")
	}
}

// pkgLength's encodings at each size boundary.
func TestPkgLength(t *testing.T) {
	for _, c := range []struct {
		n    int
		want []byte
	}{
		{0, []byte{1}}, {0x3e, []byte{0x3f}}, {0x3f, []byte{0x41, 0x04}},
		{0xffd, []byte{0x4f, 0xff}}, {0xffe, []byte{0x81, 0x00, 0x01}},
	} {
		if got := pkgLength(c.n); !bytes.Equal(got, c.want) {
			t.Errorf("pkgLength(%#x) = % x, want % x", c.n, got, c.want)
		}
	}
}
