package sandbox

import (
	"bytes"
	"encoding/binary"
	"os"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// What the Sentry decodes from input it does not control: its own flags
// (from runx), the OCI profile's program, and, from the workload, the
// heads of files it execs (#! lines, ELF program headers) and the memory
// its system calls point at (strings, argv arrays, msghdr and iovecs,
// socket addresses). Whatever the bytes, the decoders answer with a value
// or an error, never a panic, and what they accept holds together.
// Seeds: testdata/fuzz/<target>/ and the ones added here.

func FuzzParseOptions(f *testing.F) {
	f.Add("--uid=0\x00--gid=0\x00--caps=a80425fb\x00--cwd=/\x00--\x00sh")
	f.Add("--uid=4294967296\x00--\x00sh")
	f.Add("--groups=1,,2\x00--seccomp=0:AAAA\x00--\x00x")
	f.Add("--preserve-fds=-1\x00--debug\x00--no-new-privs\x00--")
	f.Fuzz(func(t *testing.T, in string) {
		o, err := parseOptions(strings.Split(in, "\x00"))
		if err == nil && len(o.args) == 0 {
			t.Fatal("accepted without a program")
		}
	})
}

func FuzzDecodeProfile(f *testing.F) {
	allow := &profile{flags: 2, prog: []unix.SockFilter{{Code: 0x06, K: 0x7fff0000}}}
	f.Add(allow.encode())
	f.Add("0:")
	f.Add("zz:AAAAAAAAAAA=")
	f.Add("1:AAAAAAAAAAAAAAAAAAAAAA==")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := decodeProfile(s)
		if err != nil {
			return
		}
		again, err := decodeProfile(p.encode())
		if err != nil || again.flags != p.flags || len(again.prog) != len(p.prog) {
			t.Fatalf("re-encoded profile: %v", err)
		}
		for i := range p.prog {
			if again.prog[i] != p.prog[i] {
				t.Fatalf("instruction %d: %+v became %+v", i, p.prog[i], again.prog[i])
			}
		}
	})
}

func FuzzParseBPF(f *testing.F) {
	f.Add([]byte{0x20, 0, 0, 0, 0, 0, 0, 0, 0x06, 0, 0, 0, 0, 0, 0xff, 0x7f}, uint32(0))
	f.Add([]byte{1, 2, 3}, uint32(1))
	f.Fuzz(func(t *testing.T, b []byte, flags uint32) {
		p, err := parseBPF(b, uintptr(flags))
		if err != nil {
			return
		}
		if len(p.prog) != len(b)/8 || len(p.prog) == 0 || len(p.prog) > 4096 {
			t.Fatalf("%d bytes became %d instructions", len(b), len(p.prog))
		}
	})
}

// FuzzParseShebang: a file's first 256 bytes, as planExec reads them, when
// they start with "#!".
func FuzzParseShebang(f *testing.F) {
	f.Add([]byte("#!/bin/sh\n"))
	f.Add([]byte("#! /usr/bin/env  python3 -u \nprint(1)\n"))
	f.Add([]byte("#!\t/bin/busybox\tsh\n"))
	f.Add([]byte("#!" + strings.Repeat("x", 254)))
	f.Add([]byte("#!"))
	f.Fuzz(func(t *testing.T, hdr []byte) {
		if !bytes.HasPrefix(hdr, []byte("#!")) || len(hdr) > 256 {
			return
		}
		interp, arg, err := parseShebang(hdr)
		if err != nil {
			return
		}
		if interp == "" || strings.ContainsAny(interp, " \t\n") || strings.ContainsRune(arg, '\n') {
			t.Fatalf("#! line %q gave interpreter %q, argument %q", hdr, interp, arg)
		}
	})
}

// FuzzElfInterp: a file the workload execs that starts like an ELF.
func FuzzElfInterp(f *testing.F) {
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		interp, err := elfInterp(bytes.NewReader(data))
		if err == nil && (len(interp) > unix.PathMax || strings.ContainsRune(interp, 0)) {
			t.Fatalf("interpreter %q", interp)
		}
	})
}

func FuzzSockaddrPath(f *testing.F) {
	un := func(p string) []byte { return append([]byte{unix.AF_UNIX, 0}, p...) }
	f.Add(un("/run/sock\x00"), true)
	f.Add(un("\x00abstract"), false)
	f.Add([]byte{unix.AF_NETLINK, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}, true)
	f.Add([]byte{unix.AF_INET, 0, 0, 80, 127, 0, 0, 1}, false)
	f.Add([]byte{unix.AF_PACKET, 0}, false)
	f.Add([]byte{1}, false)
	f.Fuzz(func(t *testing.T, b []byte, follow bool) {
		p, err := sockaddrPath(b, follow)
		if err != nil || p == "" {
			return
		}
		if binary.LittleEndian.Uint16(b) != unix.AF_UNIX || strings.ContainsRune(p, 0) || len(p) > len(b)-2 {
			t.Fatalf("address %q gave path %q", b, p)
		}
	})
}

// Workload memory for the decoders of system call arguments: a fixed
// 64 KiB mapping (so that seeds can hold pointers into it) followed by an
// inaccessible page, read by the Sentry's own code (process_vm_readv) as
// a workload's would be, from this very process.
const (
	fuzzBase = 0x2000_0000_0000
	fuzzSize = 64 << 10
)

var (
	fuzzOnce sync.Once
	fuzzMem  []byte
	fuzzErr  error
)

// fuzzTask puts data at base+at in the mapping (zero elsewhere) and returns
// a task whose memory it is.
func fuzzTask(t *testing.T, data []byte, at int) *task {
	fuzzOnce.Do(func() {
		// A fixed address outside Go's heap, as a workload's pointer is.
		addr := uintptr(fuzzBase)
		hint := *(*unsafe.Pointer)(unsafe.Pointer(&addr))
		p, err := unix.MmapPtr(-1, 0, hint, fuzzSize+pageSize,
			unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED_NOREPLACE)
		if err != nil {
			fuzzErr = err
			return
		}
		fuzzMem = unsafe.Slice((*byte)(p), fuzzSize+pageSize)
		fuzzErr = unix.Mprotect(fuzzMem[fuzzSize:], unix.PROT_NONE)
		fuzzMem = fuzzMem[:fuzzSize]
	})
	if fuzzErr != nil {
		t.Fatalf("mapping the fuzzed memory at %#x: %v", fuzzBase, fuzzErr)
	}
	clear(fuzzMem)
	if at < 0 || at > fuzzSize {
		at = 0
	}
	copy(fuzzMem[at:], data)
	return &task{tid: os.Getpid(), pidfd: -1}
}

// FuzzReadString: a string that ends at the inaccessible page (where a
// string without NUL faults) read with a maximum length.
func FuzzReadString(f *testing.F) {
	f.Add([]byte("/bin/sh\x00"), uint32(4095))
	f.Add([]byte(strings.Repeat("a", 5000)+"\x00"), uint32(4095))
	f.Add([]byte("no nul"), uint32(100))
	f.Fuzz(func(t *testing.T, data []byte, max uint32) {
		if len(data) > fuzzSize {
			data = data[:fuzzSize]
		}
		at := fuzzSize - len(data)
		tk := fuzzTask(t, data, at)
		s, err := tk.readString(fuzzBase+uint64(at), int(max%(2*fuzzSize)))
		end := bytes.IndexByte(data, 0)
		switch {
		case len(data) == 0 || end < 0:
			if err == nil {
				t.Fatalf("read %q past the end of the mapping", s)
			}
		case end > int(max%(2*fuzzSize)):
			if err != unix.ENAMETOOLONG {
				t.Fatalf("a %d-byte string read with max %d: %q, %v", end, max%(2*fuzzSize), s, err)
			}
		case err != nil || s != string(data[:end]):
			t.Fatalf("read %q, %v; want %q", s, err, data[:end])
		}
	})
}

// fuzzPtrs lays out an argv-like array at base: pointers to the strings
// that follow it.
func fuzzPtrs(strs ...string) []byte {
	b := make([]byte, 8*(len(strs)+1))
	for i, s := range strs {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(fuzzBase+len(b)))
		b = append(b, s+"\x00"...)
	}
	return b
}

func FuzzReadStrings(f *testing.F) {
	f.Add(fuzzPtrs("sh", "-c", "echo hi"))
	f.Add(fuzzPtrs())
	f.Add(fuzzPtrs(strings.Repeat("y", 9000), "PATH=/bin"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tk := fuzzTask(t, data, 0)
		strs, err := tk.readStrings(fuzzBase)
		if err != nil {
			return
		}
		total := 0
		for _, s := range strs {
			if len(s) > maxArgStrlen || strings.ContainsRune(s, 0) {
				t.Fatalf("string of %d bytes", len(s))
			}
			total += len(s) + 1 + 8
		}
		if total > maxArgTotal {
			t.Fatalf("%d bytes of strings", total)
		}
	})
}

// fuzzMsg lays out a msghdr at base with its iovecs and their data.
func fuzzMsg(parts ...string) []byte {
	var h msghdr
	hdr := int(unsafe.Sizeof(h))
	iovs := hdr
	data := iovs + 16*len(parts)
	b := make([]byte, data)
	h.Iov, h.Iovlen = uint64(fuzzBase+iovs), uint64(len(parts))
	copy(b, unsafe.Slice((*byte)(unsafe.Pointer(&h)), hdr))
	for i, p := range parts {
		binary.LittleEndian.PutUint64(b[iovs+16*i:], uint64(fuzzBase+len(b)))
		binary.LittleEndian.PutUint64(b[iovs+16*i+8:], uint64(len(p)))
		b = append(b, p...)
	}
	return b
}

func FuzzGatherMsg(f *testing.F) {
	f.Add(fuzzMsg("hello, ", "world"))
	f.Add(fuzzMsg())
	f.Add(fuzzMsg(strings.Repeat("z", 3000)))
	f.Fuzz(func(t *testing.T, data []byte) {
		tk := fuzzTask(t, data, 0)
		h, got, err := tk.gatherMsg(fuzzBase)
		if err != nil {
			return
		}
		if h.Iovlen > 1024 || len(got) > maxSend {
			t.Fatalf("%d iovecs, %d bytes", h.Iovlen, len(got))
		}
	})
}
