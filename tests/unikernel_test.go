package tests

// Tests of `runx spt`, the Solo5 "spt" tender of the unikernel isolation
// mode. The test unikernels are freestanding C programs in unikernel/guest,
// built with gcc by unikernel/build.sh into a temporary directory; see
// unikernel/README.md. Expected statuses follow upstream solo5-spt: the
// guest's own status, 255 for an abort, 128+n when the guest is killed by
// signal n (SIGSEGV 139, SIGSYS 159) and 1 for every tender setup error.

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ukGuests builds every test unikernel into a fresh temporary directory and
// returns it. Building needs only gcc and binutils; it takes about a second.
func ukGuests(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Fatalf("gcc is needed to build the test unikernels: %v (make deps)", err)
	}
	script, err := filepath.Abs(filepath.Join("unikernel", "build.sh"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out, err := exec.Command("bash", script, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("building the test unikernels failed: %v\n%s", err, out)
	}
	return dir
}

// ukEnv runs the tender under test on the built guests.
type ukEnv struct {
	t   *testing.T
	bin string // the runtime binary
	dir string // built guests
}

func newUkEnv(t *testing.T) *ukEnv {
	t.Helper()
	requireRunx(t)
	return &ukEnv{t: t, bin: runtimeBin(t), dir: ukGuests(t)}
}

// kernel returns the path of a built guest.
func (u *ukEnv) kernel(name string) string {
	return filepath.Join(u.dir, name+".spt")
}

// spt runs `$RUNX spt ARGS...`.
func (u *ukEnv) spt(args ...string) result {
	u.t.Helper()
	return runCmd(u.t, runOpts{}, u.bin, append([]string{"spt"}, args...)...)
}

// expectStatus fails unless res has exit status code and stdout contains
// every fragment of want.
func expectStatus(t *testing.T, res result, code int, want ...string) {
	t.Helper()
	if res.code != code {
		t.Errorf("exit status %d, want %d\n%s", res.code, code, res)
		return
	}
	for _, w := range want {
		if !strings.Contains(res.stdout, w) {
			t.Errorf("stdout lacks %q\n%s", w, res)
		}
	}
}

// ---------------------------------------------------------------------
// The guests themselves: checked against the ABI without any tender.

// ukGuestSpec is what build.sh is meant to produce for one guest.
type ukGuestSpec struct {
	target, version uint32 // 0, 0: no Solo5 notes
	manifest        bool
	devices         []string // "BLOCK_BASIC:storage"
	wx, emptyTLS    bool
}

func ukExpectedGuests() map[string]ukGuestSpec {
	v2 := func(devs ...string) ukGuestSpec {
		return ukGuestSpec{target: 2, version: 2, manifest: true, devices: devs}
	}
	g := map[string]ukGuestSpec{}
	for _, n := range []string{"hello", "args", "time", "abort", "fault", "zeropage", "seccomp", "sysprobe", "globals", "ssp"} {
		g[n] = v2()
	}
	g["blk"] = v2("BLOCK_BASIC:storage")
	g["blk_oob"] = v2("BLOCK_BASIC:storage")
	g["net"] = v2("NET_BASIC:service0")
	var many []string
	for i := 0; i < 63; i++ {
		many = append(many, fmt.Sprintf("BLOCK_BASIC:storage%d", i))
	}
	g["maxdev"] = v2(many...)
	g["hello_abi1"] = ukGuestSpec{target: 2, version: 1, manifest: true}
	tls := v2()
	tls.emptyTLS = true
	g["hello_tls"] = tls
	g["hello_hvt"] = ukGuestSpec{target: 1, version: 2, manifest: true}
	g["hello_abi3"] = ukGuestSpec{target: 2, version: 3, manifest: true}
	g["hello_nonotes"] = ukGuestSpec{}
	g["hello_nomft"] = ukGuestSpec{target: 2, version: 2}
	g["hello_missing"] = v2("BLOCK_BASIC:missing")
	wx := v2()
	wx.wx = true
	g["hello_wx"] = wx
	return g
}

// TestUnikernelGuestELF checks the built guests against the spt ABI
// (program header order, PT_INTERP, the notes and the manifest, the load
// rules), so that tender failures cannot be blamed on the guests.
func TestUnikernelGuestELF(t *testing.T) {
	dir := ukGuests(t)
	for name, spec := range ukExpectedGuests() {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name+".spt")
			checkGuestELF(t, path, spec)
		})
	}

	// PT_INTERP makes the host refuse to run a unikernel directly.
	err := exec.Command(filepath.Join(dir, "hello.spt")).Run()
	if !errors.Is(err, syscall.ENOENT) {
		t.Errorf("executing hello.spt directly: %v, want ENOENT from the bogus interpreter", err)
	}
}

func checkGuestELF(t *testing.T, path string, spec ukGuestSpec) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB || f.Type != elf.ET_EXEC || f.Machine != elf.EM_X86_64 {
		t.Fatalf("not an x86_64 ELF64 LSB executable: %v %v %v %v", f.Class, f.Data, f.Type, f.Machine)
	}
	if binary.LittleEndian.Uint16(raw[52:]) != 64 || binary.LittleEndian.Uint16(raw[54:]) != 56 {
		t.Errorf("e_ehsize/e_phentsize are not 64/56")
	}
	progs := f.Progs
	if len(progs) == 0 || progs[0].Type != elf.PT_INTERP {
		t.Fatalf("the first program header is not PT_INTERP")
	}
	interp := raw[progs[0].Off : progs[0].Off+progs[0].Filesz]
	if progs[0].Vaddr != 0x100000 || len(interp) != 24 || string(interp) != "/nonexistent/solo5/\x00\x00\x00\x00\x00" {
		t.Errorf("PT_INTERP at 0x%x is %q, want the 24-byte \"/nonexistent/solo5/\" at 0x100000", progs[0].Vaddr, interp)
	}

	// load rules of spec section 3.2, on the segments a loader copies
	var text *elf.Prog
	var prevVaddr, prevEnd uint64
	loads := 0
	for _, p := range progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		if p.Filesz == 0 {
			if p.Vaddr == 0 && p.Memsz == 0 && !spec.emptyTLS {
				t.Errorf("unexpected empty PT_LOAD at vaddr 0")
			}
			continue
		}
		loads++
		if text == nil {
			text = p
		}
		start := p.Vaddr &^ (p.Align - 1)
		end := (p.Vaddr + p.Memsz + p.Align - 1) &^ (p.Align - 1)
		switch {
		case p.Align == 0 || p.Align&(p.Align-1) != 0:
			t.Errorf("PT_LOAD at 0x%x: p_align 0x%x is not a power of two", p.Vaddr, p.Align)
		case p.Vaddr < 0x100000 || start < 0x100000:
			t.Errorf("PT_LOAD at 0x%x is below 0x100000", p.Vaddr)
		case p.Vaddr < prevVaddr || start < prevEnd:
			t.Errorf("PT_LOAD at 0x%x is not above the previous segment (ends 0x%x)", p.Vaddr, prevEnd)
		case start%4096 != 0 || end%4096 != 0:
			t.Errorf("PT_LOAD at 0x%x: bounds 0x%x-0x%x are not page aligned", p.Vaddr, start, end)
		case p.Memsz < p.Filesz:
			t.Errorf("PT_LOAD at 0x%x: memsz < filesz", p.Vaddr)
		}
		wx := p.Flags&elf.PF_W != 0 && p.Flags&elf.PF_X != 0
		if wx != (spec.wx && p == text) {
			t.Errorf("PT_LOAD at 0x%x has flags %v", p.Vaddr, p.Flags)
		}
		prevVaddr, prevEnd = p.Vaddr, end
	}
	if text == nil || text.Vaddr != 0x100000 || text.Flags&elf.PF_X == 0 || loads != 2 {
		t.Fatalf("want a text PT_LOAD at 0x100000 and a data PT_LOAD (got %d loaded segments)", loads)
	}
	if f.Entry < 0x100000 || f.Entry >= text.Vaddr+text.Memsz {
		t.Errorf("entry 0x%x is not in the text segment", f.Entry)
	}

	// the notes: each in its own PT_NOTE, after the loads, inside text
	var notes []*elf.Prog
	for _, p := range progs {
		if p.Type == elf.PT_NOTE {
			notes = append(notes, p)
			if p.Vaddr < text.Vaddr || p.Vaddr+p.Filesz > text.Vaddr+text.Filesz ||
				p.Off-text.Off != p.Vaddr-text.Vaddr {
				t.Errorf("PT_NOTE at 0x%x is not inside the text segment", p.Vaddr)
			}
		} else if len(notes) > 0 {
			t.Errorf("program header %v follows a PT_NOTE", p.Type)
		}
	}
	wantNotes := 1
	if spec.target != 0 {
		wantNotes++
		if spec.manifest {
			wantNotes++
		}
	}
	if len(notes) != wantNotes {
		t.Fatalf("%d PT_NOTEs, want %d", len(notes), wantNotes)
	}
	note := func(p *elf.Prog) (namesz, descsz, typ uint32, name, rest []byte) {
		b := raw[p.Off : p.Off+p.Filesz]
		if len(b) < 20 {
			t.Fatalf("PT_NOTE at 0x%x is only %d bytes", p.Vaddr, len(b))
		}
		le := binary.LittleEndian
		return le.Uint32(b), le.Uint32(b[4:]), le.Uint32(b[8:]), b[12:20], b[20:]
	}
	namesz, descsz, typ, name, _ := note(notes[0])
	if namesz != 8 || descsz != 4 || typ != 1 || string(name) != "OpenBSD\x00" || notes[0].Filesz != 24 {
		t.Errorf("the first PT_NOTE is not the OpenBSD ident note")
	}
	if spec.target == 0 {
		return
	}
	namesz, descsz, typ, name, rest := note(notes[1])
	if namesz != 6 || string(name) != "Solo5\x00\x00\x00" || typ != 0x31494241 || descsz != 16 || notes[1].Filesz != 36 {
		t.Errorf("the second PT_NOTE is not a Solo5 ABI1 note: namesz %d name %q type 0x%x descsz %d", namesz, name, typ, descsz)
	} else {
		le := binary.LittleEndian
		if le.Uint32(rest) != spec.target || le.Uint32(rest[4:]) != spec.version || le.Uint64(rest[8:]) != 0 {
			t.Errorf("ABI1 payload % x, want target %d version %d", rest[:16], spec.target, spec.version)
		}
	}
	if !spec.manifest {
		return
	}
	namesz, descsz, typ, name, rest = note(notes[2])
	entries := len(spec.devices) + 1
	if namesz != 6 || string(name) != "Solo5\x00\x00\x00" || typ != 0x3154464d {
		t.Fatalf("the third PT_NOTE is not a Solo5 MFT1 note")
	}
	if want := uint32(4 + 8 + 104*entries); descsz != want || notes[2].Filesz != uint64(20+want) {
		t.Fatalf("MFT1 n_descsz %d (PT_NOTE filesz %d), want %d", descsz, notes[2].Filesz, want)
	}
	if notes[2].Vaddr%8 != 0 {
		t.Errorf("MFT1 note at 0x%x is not 8-byte aligned", notes[2].Vaddr)
	}
	le := binary.LittleEndian
	m := rest[4:] // skip the padding that aligns the manifest to 8
	if le.Uint32(m) != 1 || le.Uint32(m[4:]) != uint32(entries) {
		t.Fatalf("manifest header: version %d entries %d, want 1 and %d", le.Uint32(m), le.Uint32(m[4:]), entries)
	}
	for i := 0; i < entries; i++ {
		e := m[8+104*i : 8+104*(i+1)]
		nm := string(bytes.TrimRight(e[:68], "\x00"))
		typ := le.Uint32(e[68:])
		if i == 0 {
			if nm != "" || typ != 1<<30 {
				t.Errorf("manifest entry 0 is %q type 0x%x, want the reserved entry", nm, typ)
			}
		} else {
			parts := strings.SplitN(spec.devices[i-1], ":", 2)
			wantType := map[string]uint32{"BLOCK_BASIC": 1, "NET_BASIC": 2}[parts[0]]
			if nm != parts[1] || typ != wantType {
				t.Errorf("manifest entry %d is %q type %d, want %q type %d", i, nm, typ, parts[1], wantType)
			}
		}
		if e[67] != 0 || !bytes.Equal(e[72:104], make([]byte, 32)) {
			t.Errorf("manifest entry %d: name not NUL-terminated or tender fields not zero", i)
		}
	}
}

// ---------------------------------------------------------------------
// Running guests.

func TestUnikernelHello(t *testing.T) {
	u := newUkEnv(t)
	res := u.spt(u.kernel("hello"), "Hello_Solo5")
	expectStatus(t, res, 0, "Hello, World", "Command line is: 'Hello_Solo5'", "SUCCESS")

	// "--" ends the options; no arguments give an empty command line;
	// --mem sets the guest memory size the boot info reports.
	res = u.spt("--mem=2", "--", u.kernel("hello"))
	expectStatus(t, res, 0, "Hello, World", "Command line is: ''", "mem_size=0x200000 ", "SUCCESS")

	// the default is 512 MiB
	res = u.spt(u.kernel("hello"))
	expectStatus(t, res, 0, "mem_size=0x20000000 ", "SUCCESS")
}

// TestUnikernelSolo5SptName runs the binary under the name solo5-spt.
func TestUnikernelSolo5SptName(t *testing.T) {
	u := newUkEnv(t)
	link := filepath.Join(t.TempDir(), "solo5-spt")
	if err := os.Symlink(u.bin, link); err != nil {
		t.Fatal(err)
	}
	res := runCmd(t, runOpts{}, link, u.kernel("hello"), "Hello_Solo5")
	expectStatus(t, res, 0, "Hello, World", "Command line is: 'Hello_Solo5'", "SUCCESS")

	res = runCmd(t, runOpts{}, link, "--mem=16", u.kernel("hello"), "a", "b")
	expectStatus(t, res, 0, "Command line is: 'a b'", "mem_size=0x1000000 ", "SUCCESS")

	res = runCmd(t, runOpts{}, link, u.kernel("seccomp"))
	expectStatus(t, res, 159)

	res = runCmd(t, runOpts{}, link, "--version")
	if res.code != 0 || !strings.Contains(res.stdout+res.stderr, "ABI version 2") {
		t.Errorf("solo5-spt --version: want status 0 and \"ABI version 2\"\n%s", res)
	}
	res = runCmd(t, runOpts{}, link, "--bogus-option", u.kernel("hello"))
	expectStatus(t, res, 1)
	if strings.Contains(res.stdout, "Hello, World") {
		t.Errorf("the guest ran despite the unknown option\n%s", res)
	}
}

// TestUnikernelABIVariants runs binaries that are valid but differ from the
// default build: ABI version 1, and the empty tdata PT_LOAD (vaddr 0) and
// PT_TLS that Solo5 >= 0.8 binaries carry, which the loader must skip.
func TestUnikernelABIVariants(t *testing.T) {
	u := newUkEnv(t)
	for _, name := range []string{"hello_abi1", "hello_tls"} {
		t.Run(name, func(t *testing.T) {
			res := u.spt(u.kernel(name), "x")
			expectStatus(t, res, 0, "Hello, World", "Command line is: 'x'", "SUCCESS")
		})
	}
}

// TestUnikernelArgs checks how the tender builds the guest command line
// (every argument after KERNEL joined with single spaces, options included)
// and that the guest runtime strips leading --solo5:<level> tokens.
func TestUnikernelArgs(t *testing.T) {
	u := newUkEnv(t)
	k := u.kernel("args")
	for _, tc := range []struct {
		name      string
		args      []string
		raw, app  string
		banner    bool // "Solo5:" lines expected
		wantWords int
	}{
		{"none", []string{k}, "", "", true, 0},
		{"words", []string{k, "one", "two", "three"}, "one two three", "one two three", true, 3},
		{"quoting-lost", []string{k, "c d", "e"}, "c d e", "c d e", true, 3},
		{"options-after-kernel", []string{"--mem=32", k, "--mem=4", "--block:x=y", "-z"}, "--mem=4 --block:x=y -z", "--mem=4 --block:x=y -z", true, 3},
		{"double-dash", []string{"--", k, "--", "z"}, "-- z", "-- z", true, 2},
		{"quiet", []string{k, "--solo5:quiet", "a", "b"}, "--solo5:quiet a b", "a b", false, 2},
		{"two-levels", []string{k, "--solo5:debug", "--solo5:quiet", "z"}, "--solo5:debug --solo5:quiet z", "z", false, 1},
		{"quiet-only", []string{k, "--solo5:quiet"}, "--solo5:quiet", "", false, 0},
		{"info", []string{k, "--solo5:info", "a"}, "--solo5:info a", "a", true, 1},
		{"not-leading", []string{k, "x", "--solo5:quiet"}, "x --solo5:quiet", "x --solo5:quiet", true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := u.spt(tc.args...)
			expectStatus(t, res, 0,
				fmt.Sprintf("Raw command line is: '%s'\n", tc.raw),
				fmt.Sprintf("Command line is: '%s'\n", tc.app),
				fmt.Sprintf("words: %d\n", tc.wantWords),
				"SUCCESS")
			if got := strings.Contains(res.stdout, "Solo5:"); got != tc.banner {
				t.Errorf("\"Solo5:\" lines present: %v, want %v\n%s", got, tc.banner, res)
			}
		})
	}
	if t.Failed() {
		return
	}

	// The command line area is 8192 bytes including the NUL.
	t.Run("longest", func(t *testing.T) {
		res := u.spt(k, strings.Repeat("a", 4000), strings.Repeat("b", 4190))
		expectStatus(t, res, 0, "length: 8191\n", "words: 2\n", "SUCCESS")
	})
	t.Run("too-long", func(t *testing.T) {
		res := u.spt(k, strings.Repeat("a", 4000), strings.Repeat("b", 4191))
		expectStatus(t, res, 1)
		expectFailure(t, res, "too long")
		if strings.Contains(res.stdout, "SUCCESS") {
			t.Errorf("the guest ran with an oversized command line\n%s", res)
		}
	})
}

func TestUnikernelTime(t *testing.T) {
	u := newUkEnv(t)
	start := time.Now()
	res := u.spt(u.kernel("time"))
	elapsed := time.Since(start)
	expectStatus(t, res, 0, "yield 200 ms: slept", "yield to past deadlines", "SUCCESS")
	if elapsed < 350*time.Millisecond {
		t.Errorf("the time guest finished in %s: its yields (200 ms + 3 x 50 ms) did not sleep", elapsed)
	}
}

func TestUnikernelGlobals(t *testing.T) {
	u := newUkEnv(t)
	expectStatus(t, u.spt(u.kernel("globals")), 0, "SUCCESS")
}

// ---------------------------------------------------------------------
// Block devices.

const ukPrefillMagic = 0x5a5a5a5a5a5a5a5a

// ukImage creates a block image of size bytes in which the 8-byte word at
// offset o holds o ^ ukPrefillMagic (what blk's check-prefill expects).
func ukImage(t *testing.T, size int) string {
	t.Helper()
	b := make([]byte, size)
	for o := 0; o+8 <= size; o += 8 {
		binary.LittleEndian.PutUint64(b[o:], uint64(o)^ukPrefillMagic)
	}
	p := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkBlkImage verifies the image after the blk guest ran: every 10th
// block and the last one hold the guest's pattern, the rest is untouched.
func checkBlkImage(t *testing.T, path string, bs, size int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != size {
		t.Fatalf("the image is %d bytes after the run, was %d", len(b), size)
	}
	n := size / bs
	bad := 0
	for blk := 0; blk < n && bad < 5; blk++ {
		got := b[blk*bs : (blk+1)*bs]
		want := make([]byte, bs)
		if blk%10 == 0 || blk == n-1 {
			for i := range want {
				want[i] = byte(blk*31 + i)
			}
			binary.LittleEndian.PutUint64(want, uint64(blk))
		} else {
			for i := 0; i < bs; i += 8 {
				binary.LittleEndian.PutUint64(want[i:], uint64(blk*bs+i)^ukPrefillMagic)
			}
		}
		if !bytes.Equal(got, want) {
			t.Errorf("block %d (size %d) does not hold what the guest should have left there", blk, bs)
			bad++
		}
	}
}

func TestUnikernelBlock(t *testing.T) {
	u := newUkEnv(t)
	const size = 4 << 20
	for _, tc := range []struct {
		name string
		bs   int
		opts func(img string) []string
	}{
		{"default-512", 512, func(img string) []string { return []string{"--block:storage=" + img} }},
		{"512", 512, func(img string) []string {
			return []string{"--block-sector-size:storage=512", "--block:storage=" + img}
		}},
		{"4096", 4096, func(img string) []string {
			return []string{"--block-sector-size:storage=4096", "--block:storage=" + img}
		}},
		{"4096-size-after-path", 4096, func(img string) []string {
			return []string{"--block:storage=" + img, "--block-sector-size:storage=4096"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := ukImage(t, size)
			args := append(tc.opts(img), u.kernel("blk"), "check-prefill")
			res := u.spt(args...)
			nblocks := size / tc.bs
			expectStatus(t, res, 0,
				fmt.Sprintf("capacity: %d\n", size),
				fmt.Sprintf("block size: %d\n", tc.bs),
				fmt.Sprintf("blocks written: %d\n", (nblocks+9)/10+1),
				"SUCCESS")
			if res.code == 0 {
				checkBlkImage(t, img, tc.bs, size)
			}
		})
	}
}

// TestUnikernelBlockFilter issues block requests the guest runtime would
// refuse with raw syscalls: the seccomp filter must kill each one (size must
// equal the block size, offset <= capacity - block size, unsigned 64-bit).
func TestUnikernelBlockFilter(t *testing.T) {
	u := newUkEnv(t)
	const size = 4 << 20
	for _, bs := range []int{512, 4096} {
		for _, mode := range []string{"end", "write", "size", "small", "huge", "neg", "last"} {
			t.Run(fmt.Sprintf("%d-%s", bs, mode), func(t *testing.T) {
				img := ukImage(t, size)
				res := u.spt(fmt.Sprintf("--block-sector-size:storage=%d", bs), "--block:storage="+img,
					u.kernel("blk_oob"), mode)
				if mode == "last" {
					expectStatus(t, res, 0, "SUCCESS")
				} else {
					expectStatus(t, res, 159, "mode "+mode+":")
					if strings.Contains(res.stdout, "survived") {
						t.Errorf("the request reached the host\n%s", res)
					}
				}
				if st, err := os.Stat(img); err != nil || st.Size() != size {
					t.Errorf("the image changed size: %v %v", st.Size(), err)
				}
			})
		}
	}
}

// TestUnikernelMaxDevices attaches the most devices a manifest can declare.
func TestUnikernelMaxDevices(t *testing.T) {
	u := newUkEnv(t)
	dir := t.TempDir()
	var args []string
	for i := 0; i < 63; i++ {
		p := filepath.Join(dir, fmt.Sprintf("d%d.img", i))
		b := make([]byte, 512)
		b[0] = byte(i)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, fmt.Sprintf("--block:storage%d=%s", i, p))
	}
	res := u.spt(append(args, u.kernel("maxdev"), "--solo5:quiet")...)
	expectStatus(t, res, 0, "manifest entries: 64\n", "SUCCESS")
	for i := 0; i < 63 && res.code == 0; i++ {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("d%d.img", i)))
		if err != nil || len(b) != 512 || b[0] != byte(0x80+i) {
			t.Errorf("device storage%d was not written by the guest", i)
		}
	}
}

// ---------------------------------------------------------------------
// Exit paths.

func TestUnikernelAbort(t *testing.T) {
	u := newUkEnv(t)
	expectStatus(t, u.spt(u.kernel("abort")), 255, "Solo5: ABORT")
	// a stack smash detected by -fstack-protector ends in the same abort
	expectStatus(t, u.spt(u.kernel("ssp")), 255, "Solo5: ABORT", "stack smashing")
}

// TestUnikernelFaults: memory access violations end with SIGSEGV (139).
func TestUnikernelFaults(t *testing.T) {
	u := newUkEnv(t)
	for _, mode := range []string{"unmapped", "text", "rodata", "execdata", "execstack", "notls"} {
		t.Run(mode, func(t *testing.T) {
			res := u.spt(u.kernel("fault"), mode)
			expectStatus(t, res, 139, "fault mode: "+mode)
		})
	}
	t.Run("zeropage", func(t *testing.T) {
		expectStatus(t, u.spt(u.kernel("zeropage")), 139, "writing to address 8")
	})
}

func TestUnikernelSeccomp(t *testing.T) {
	u := newUkEnv(t)
	res := u.spt(u.kernel("seccomp"))
	expectStatus(t, res, 159, "calling dup(1)")
	if strings.Contains(res.stdout, "returned") {
		t.Errorf("dup(1) returned to the guest\n%s", res)
	}
}

// ukProbe runs sysprobe without the per-call temp files of runCmd, so that
// many can run at once from worker goroutines.
func ukProbe(bin, kernel string, args ...string) result {
	argv := append([]string{"spt", kernel, "--solo5:quiet"}, args...)
	res := result{args: append([]string{bin}, argv...)}
	ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, argv...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	res.code = exitCode(cmd, err)
	if ctx.Err() == context.DeadlineExceeded {
		res.timedOut, res.code = true, -1
	}
	res.stdout, res.stderr = out.String(), errb.String()
	return res
}

// TestUnikernelSyscallFilter shows that every syscall outside the spt
// allowlist kills the guest, and that the allowed ones are allowed only with
// the arguments the ABI names.
func TestUnikernelSyscallFilter(t *testing.T) {
	u := newUkEnv(t)
	k := u.kernel("sysprobe")

	t.Run("arguments", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			args string
			code int
		}{
			// allowed: the probe itself works
			{"write-fd1", "1 1 0 0", 0},
			{"clock_gettime-monotonic", "228 1 0", 0},
			{"clock_gettime-realtime", "228 0 0", 0},
			{"arch_prctl-set-fs", "158 0x1002 0", 0},
			{"epoll_pwait-epollfd", "281 EPOLLFD 0 1 0", 0},
			{"timerfd_settime-timerfd", "286 TIMERFD 0 0 0", 0},
			// the same syscalls with other arguments
			{"write-fd2", "1 2 0 0", 159},
			{"write-fd0", "1 0 0 0", 159},
			{"write-fd1-high-word", "1 0x100000001 0 0", 159},
			{"clock_gettime-process-cputime", "228 2 0", 159},
			{"clock_gettime-boottime", "228 7 0", 159},
			{"clock_gettime-monotonic-high-word", "228 0x100000001 0", 159},
			{"arch_prctl-get-fs", "158 0x1003 0", 159},
			{"arch_prctl-set-gs", "158 0x1001 0", 159},
			{"epoll_pwait-other-fd", "281 TIMERFD 0 1 0", 159},
			{"timerfd_settime-other-fd", "286 EPOLLFD 0 0 0", 159},
			{"read-stdin-without-net", "0 0 0 0", 159},
			{"pread64-without-block", "17 0 0 512 0", 159},
			{"x32-write", "0x40000001 1 0 0", 159},
			{"x32-exit_group", "0x400000e7 0", 159},
		} {
			res := ukProbe(u.bin, k, strings.Fields(tc.args)...)
			if res.code != tc.code {
				t.Errorf("%s: status %d, want %d\n%s", tc.name, res.code, tc.code, res)
			}
		}
	})

	t.Run("every-syscall", func(t *testing.T) {
		allowed := map[int]bool{
			0: true, 1: true, 17: true, 18: true, 158: true, 228: true,
			231: true, 281: true, 286: true,
			60: true, // exit: skipped as well
			// uretprobe and uprobe: since Linux 6.11 and 6.16 the kernel
			// exempts them from every seccomp filter (they only act on
			// uprobe trampolines), so no tender can make them SIGSYS.
			335: true, 336: true,
		}
		var nrs []int
		for nr := 0; nr <= 450; nr++ {
			if !allowed[nr] {
				nrs = append(nrs, nr)
			}
		}
		type failure struct {
			nr  int
			res result
		}
		var mu sync.Mutex
		var failures []failure
		work := make(chan int)
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for nr := range work {
					res := ukProbe(u.bin, k, fmt.Sprint(nr))
					if res.code != 159 || !strings.Contains(res.stdout, fmt.Sprintf("syscall %d(", nr)) {
						mu.Lock()
						failures = append(failures, failure{nr, res})
						mu.Unlock()
					}
				}
			}()
		}
		for _, nr := range nrs {
			work <- nr
		}
		close(work)
		wg.Wait()
		sort.Slice(failures, func(i, j int) bool { return failures[i].nr < failures[j].nr })
		var list []string
		for _, f := range failures {
			list = append(list, fmt.Sprintf("%d:%d", f.nr, f.res.code))
		}
		for i, f := range failures {
			if i == 3 {
				break
			}
			t.Logf("syscall %d:\n%s", f.nr, f.res)
		}
		if len(failures) > 0 {
			t.Errorf("%d of %d syscalls did not end in SIGSYS (status 159); nr:status = %s",
				len(failures), len(nrs), strings.Join(list, " "))
		}
	})
}

// ---------------------------------------------------------------------
// Networking.

// ukNetns makes a network namespace holding an up tap device with address
// 10.0.0.1/24 (and optionally an MTU). It returns the names of both.
func ukNetns(t *testing.T, mtu int) (ns, tap string) {
	t.Helper()
	requireRoot(t)
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatalf("ip (iproute2) is needed: %v", err)
	}
	suffix := fmt.Sprintf("%d%d", os.Getpid()%10000, time.Now().UnixNano()%1000)
	ns, tap = "ukt"+suffix, "tapuk"+suffix
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	ip("netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	ip("-n", ns, "tuntap", "add", "dev", tap, "mode", "tap")
	if mtu != 0 {
		ip("-n", ns, "link", "set", "dev", tap, "mtu", fmt.Sprint(mtu))
	}
	ip("-n", ns, "addr", "add", "10.0.0.1/24", "dev", tap)
	ip("-n", ns, "link", "set", "dev", tap, "up")
	ip("-n", ns, "link", "set", "dev", "lo", "up")
	return ns, tap
}

// ukPingArgv is a ping command line: iputils ping if installed, else
// busybox's applet.
func ukPingArgv(t *testing.T, args ...string) []string {
	if p, err := exec.LookPath("ping"); err == nil {
		return append([]string{p}, args...)
	}
	if _, err := os.Stat(busyboxPath); err == nil {
		return append([]string{busyboxPath, "ping"}, args...)
	}
	t.Fatal("neither ping nor busybox is installed")
	return nil
}

// ukNetRun starts the net guest on the tap, pings it count times and
// returns the guest's result and ping's output.
func ukNetRun(t *testing.T, u *ukEnv, mtu, count int, pingArgs []string, extra ...string) (result, string) {
	t.Helper()
	ns, tap := ukNetns(t, mtu)
	argv := []string{"netns", "exec", ns, u.bin, "spt", "--net:service0=" + tap}
	argv = append(argv, extra...)
	argv = append(argv, u.kernel("net"), fmt.Sprint(count))
	res := result{args: append([]string{"ip"}, argv...)}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", argv...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	finish := func(err error) result {
		res.code = exitCode(cmd, err)
		res.stdout, res.stderr = out.String(), errb.String()
		return res
	}

	// wait until the tender has attached the tap (carrier up)
	deadline := time.Now().Add(15 * time.Second)
	for {
		link, _ := exec.Command("ip", "-n", ns, "-o", "link", "show", "dev", tap).Output()
		if strings.Contains(string(link), "LOWER_UP") && !strings.Contains(string(link), "NO-CARRIER") {
			break
		}
		select {
		case err := <-done:
			r := finish(err)
			t.Fatalf("the tender exited before attaching %s\n%s", tap, r)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			r := finish(<-done)
			t.Fatalf("%s never got a carrier: the tender did not attach it\n%s", tap, r)
		}
		time.Sleep(20 * time.Millisecond)
	}

	ping := ukPingArgv(t, append(pingArgs, "-c", fmt.Sprint(count), "-w", "30", "10.0.0.2")...)
	pout, perr := exec.Command("ip", append([]string{"netns", "exec", ns}, ping...)...).CombinedOutput()
	if perr != nil {
		t.Errorf("ping failed: %v\n%s", perr, pout)
	} else if !regexp.MustCompile(fmt.Sprintf(`\b%d (packets )?received`, count)).Match(pout) {
		t.Errorf("ping did not get %d replies:\n%s", count, pout)
	}

	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		cancel()
		err = <-done
		t.Errorf("the net guest did not exit after answering the pings")
	}
	return finish(err), string(pout)
}

func TestUnikernelNet(t *testing.T) {
	u := newUkEnv(t)
	t.Run("echo", func(t *testing.T) {
		res, _ := ukNetRun(t, u, 0, 5, nil, "--net-mac:service0=02:00:00:0a:0b:0c")
		expectStatus(t, res, 0, "MAC: 02:00:00:0a:0b:0c\n", "MTU: 1500\n", "answered 5 echo requests", "SUCCESS")
	})
	t.Run("random-mac", func(t *testing.T) {
		res, _ := ukNetRun(t, u, 0, 1, nil)
		expectStatus(t, res, 0, "SUCCESS")
		m := regexp.MustCompile(`MAC: ([0-9a-f]{2}):`).FindStringSubmatch(res.stdout)
		if m == nil {
			t.Fatalf("no MAC in the guest output\n%s", res)
		}
		var b0 int
		fmt.Sscanf(m[1], "%x", &b0)
		if b0&1 != 0 || b0&2 == 0 {
			t.Errorf("generated MAC starts with %s: want unicast (bit 0 clear) and locally administered (bit 1 set)", m[1])
		}
	})
	t.Run("mtu9000", func(t *testing.T) {
		res, _ := ukNetRun(t, u, 9000, 2, []string{"-s", "8000"})
		expectStatus(t, res, 0, "MTU: 9000\n", "SUCCESS")
	})
}

// ---------------------------------------------------------------------
// Bad input: status 1, a message naming the problem, and nothing left.

func ukShmEntries() map[string]bool {
	m := map[string]bool{}
	entries, _ := os.ReadDir("/dev/shm")
	for _, e := range entries {
		m[e.Name()] = true
	}
	return m
}

func TestUnikernelBadInput(t *testing.T) {
	u := newUkEnv(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	notELF := write("notelf.spt", []byte("this is a text file, not an ELF unikernel\n"))
	img4m := write("disk4m.img", make([]byte, 4<<20))
	img6k := write("disk6k.img", make([]byte, 6<<10))
	img0 := write("empty.img", nil)
	blk, hello, net := u.kernel("blk"), u.kernel("hello"), u.kernel("net")

	for _, tc := range []struct {
		name   string
		args   []string
		anyOf  []string // stderr names the problem with one of these
		kernel string   // for the leftover check
	}{
		{"not-elf", []string{notELF}, []string{"executable", "ELF"}, notELF},
		{"abi-target-hvt", []string{u.kernel("hello_hvt")}, []string{"not for the solo5-spt target"}, ""},
		{"abi-version-3", []string{u.kernel("hello_abi3")}, []string{"unsupported ABI version"}, ""},
		{"no-notes", []string{u.kernel("hello_nonotes")}, []string{"No Solo5 ABI information"}, ""},
		{"no-manifest", []string{u.kernel("hello_nomft")}, []string{"No Solo5 manifest"}, ""},
		{"w+x-segment", []string{u.kernel("hello_wx")}, []string{"invalid executable"}, ""},
		{"device-not-attached", []string{u.kernel("hello_missing")}, []string{"declared but not attached"}, ""},
		{"block-missing-file", []string{"--block:storage=/nonexistent/disk.img", blk}, []string{"/nonexistent/disk.img"}, blk},
		{"block-not-aligned", []string{"--block-sector-size:storage=4096", "--block:storage=" + img6k, blk}, []string{"block aligned"}, blk},
		{"block-empty", []string{"--block:storage=" + img0, blk}, []string{"at least 1 block"}, blk},
		{"sector-size-256", []string{"--block-sector-size:storage=256", "--block:storage=" + img4m, blk}, []string{"256", "sector"}, blk},
		{"sector-size-521", []string{"--block-sector-size:storage=521", "--block:storage=" + img4m, blk}, []string{"521", "sector"}, blk},
		{"block-not-declared", []string{"--block:storage=" + img4m, "--block:nosuch=" + img4m, blk}, []string{"not declared in manifest"}, blk},
		{"block-wrong-type", []string{"--net:storage=tap0", "--block:storage=" + img4m, blk}, []string{"not declared in manifest"}, blk},
		{"net-no-such-interface", []string{"--net:service0=nosuchtapuk", net, "1", "2"}, []string{"nosuchtapuk"}, net},
		{"unknown-option", []string{"--bogus-option", hello}, []string{"bogus-option", "unknown", "usage"}, hello},
		{"mem-zero", []string{"--mem=0", hello}, []string{"mem"}, hello},
		{"mem-junk", []string{"--mem=lots", hello}, []string{"mem", "lots"}, hello},
		{"mem-too-small-for-entry", []string{"--mem=1", hello}, []string{"invalid executable", "mem"}, hello},
		{"no-kernel", nil, []string{"kernel", "usage"}, ""},
		{"kernel-missing", []string{filepath.Join(dir, "nosuch.spt")}, []string{"nosuch.spt"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			shm := ukShmEntries()
			res := runCmd(t, runOpts{env: []string{"TMPDIR=" + tmp}}, u.bin, append([]string{"spt"}, tc.args...)...)
			if res.code != 1 {
				t.Errorf("exit status %d, want 1\n%s", res.code, res)
			}
			expectFailure(t, res, tc.anyOf...)
			for _, s := range []string{"Hello, World", "SUCCESS", "answering"} {
				if strings.Contains(res.stdout, s) {
					t.Errorf("the guest ran\n%s", res)
				}
			}
			paths := []string{dir, u.dir}
			if tc.kernel != "" {
				paths = append(paths, tc.kernel)
			}
			assertNothingLeft(t, "", "", paths...)
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				t.Errorf("files left in TMPDIR: %v", left)
			}
			for name := range ukShmEntries() {
				if !shm[name] {
					t.Errorf("new entry in /dev/shm: %s", name)
				}
			}
		})
	}

	// failed runs do not touch the images or create files next to them
	for _, p := range []string{img4m, img6k} {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(b, make([]byte, len(b))) {
			t.Errorf("%s was modified by a failed run", p)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files next to the inputs: %v, want only the 4 the test made", names)
	}
}
