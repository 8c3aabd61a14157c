package unikernel

import (
	"errors"
	"strings"
	"testing"
)

// The unikernel image (its ELF headers, notes and manifest) and the
// tender's command line come from the user: whatever they hold, the loader
// answers with a kernel it can load or an error naming the image, and the
// argument parser with options or a usage error; neither panics. Seeds:
// testdata/fuzz/<target>/ (the test guests of tests/unikernel) and the ones
// added here.

func FuzzParseKernel(f *testing.F) {
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := parseKernel("k.spt", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "k.spt: ") {
				t.Fatalf("error does not name the image: %v", err)
			}
			return
		}
		if k.Manifest == nil || len(k.Manifest.Entries) == 0 {
			t.Fatal("a kernel without its manifest's reserved entry")
		}
		for _, mem := range []uint64{1 << 20, 2 << 20, 512 << 20, 1 << 40} {
			segs, end, err := k.segments(mem)
			if err != nil {
				if !strings.HasPrefix(err.Error(), "k.spt: ") {
					t.Fatalf("segments: error does not name the image: %v", err)
				}
				continue
			}
			for _, s := range segs {
				if s.start < guestMinBase || s.end > mem || s.start > s.end || uint64(len(s.data)) > s.end-s.vaddr {
					t.Fatalf("segment %#x-%#x (%d bytes at %#x) outside %#x-%#x", s.start, s.end, len(s.data), s.vaddr, guestMinBase, mem)
				}
			}
			if end > mem {
				t.Fatalf("kernel end %#x beyond memory %#x", end, mem)
			}
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	f.Add((&Manifest{Entries: []Entry{{Type: devReservedBase}, {Name: "storage", Type: DevBlock}, {Name: "service0", Type: DevNet}}}).encode())
	f.Add((&Manifest{Entries: []Entry{{Type: devReservedBase}}}).encode())
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseManifest(data)
		if err != nil {
			return
		}
		// What the tender hands the guest decodes to the same devices.
		again, err := parseManifest(m.encode())
		if err != nil || len(again.Entries) != len(m.Entries) {
			t.Fatalf("re-encoded manifest: %v", err)
		}
		for i := range m.Entries {
			if again.Entries[i].Name != m.Entries[i].Name || again.Entries[i].Type != m.Entries[i].Type {
				t.Fatalf("entry %d: %+v became %+v", i, m.Entries[i], again.Entries[i])
			}
		}
	})
}

// FuzzParseArgs: the arguments are the input split at NUL bytes.
func FuzzParseArgs(f *testing.F) {
	f.Add("--mem=64\x00--block:storage=/img\x00--block-sector-size:storage=4096\x00--net:service0=tap0\x00--net-mac:service0=02:00:00:00:00:01\x00--\x00k.spt\x00a")
	f.Add("--mem=99999999999999999999\x00k")
	f.Add("--net-mac:x=zz\x00k")
	f.Add("--block-sector-size:s=-1\x00k")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		var args []string
		if in != "" {
			args = strings.Split(in, "\x00")
		}
		o, err := ParseArgs(args)
		var ue *UsageError
		switch {
		case err == ErrHelp || err == ErrVersion:
		case err != nil && !errors.As(err, &ue):
			t.Fatalf("not a usage error: %v", err)
		case err != nil && ue.Msg == "":
			t.Fatal("an empty usage error")
		case err == nil && (o.MemMiB == 0 || o.MemMiB > MaxMemMiB):
			t.Fatalf("accepted memory of %d MiB", o.MemMiB)
		case err == nil:
			for name, n := range o.SectorSizes {
				if n < 512 || n&(n-1) != 0 || !validName(name) {
					t.Fatalf("accepted sector size %d for %q", n, name)
				}
			}
		}
	})
}
