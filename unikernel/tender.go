package unikernel

import (
	"encoding/binary"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/runx-dev/runx/internal/seccompbpf"
)

// Guest memory layout (section 3.4).
const (
	guestLow     = 0x10000
	bootInfoAddr = 0x11000
	bootInfoSize = 40
	cmdlineMax   = 8192
	timerCookie  = 0xfffffffe
)

// Tender runs one unikernel: it owns the host resources and supervises the
// single-threaded guest process.
type Tender struct {
	opts   *Options
	kernel *Kernel
	mem    uint64
	fds    []int
}

// Prepare loads the kernel and attaches its devices. Errors are upstream's
// setup failures: the caller prints them and exits 1.
func Prepare(o *Options) (*Tender, error) {
	k, err := LoadKernel(o.Kernel)
	if err != nil {
		return nil, err
	}
	t := &Tender{opts: o, kernel: k, mem: o.MemMiB << 20}
	if err := t.attach(); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

func (t *Tender) attach() error {
	m := t.kernel.Manifest
	lookup := func(name string, typ uint32, flag string) (*Entry, error) {
		i := m.find(name)
		if i < 0 || m.Entries[i].Type != typ {
			return nil, &UsageError{fmt.Sprintf("%s%s: Resource not declared in manifest", flag, name)}
		}
		return &m.Entries[i], nil
	}
	for name := range t.opts.SectorSizes {
		if _, err := lookup(name, DevBlock, "--block-sector-size:"); err != nil {
			return err
		}
	}
	for name := range t.opts.MACs {
		if _, err := lookup(name, DevNet, "--net-mac:"); err != nil {
			return err
		}
	}
	for _, b := range t.opts.Blocks {
		e, err := lookup(b.Name, DevBlock, "--block:")
		if err != nil {
			return err
		}
		if e.Attached {
			return &UsageError{fmt.Sprintf("--block:%s given twice", b.Name)}
		}
		ss := t.opts.SectorSizes[b.Name]
		if ss == 0 {
			ss = 512
		}
		if err := openBlock(e, b.Value, ss); err != nil {
			return err
		}
		t.fds = append(t.fds, e.HostFD)
	}
	for _, n := range t.opts.Nets {
		e, err := lookup(n.Name, DevNet, "--net:")
		if err != nil {
			return err
		}
		if e.Attached {
			return &UsageError{fmt.Sprintf("--net:%s given twice", n.Name)}
		}
		if err := openTap(e, n.Value, t.opts.MACs[n.Name]); err != nil {
			return err
		}
		t.fds = append(t.fds, e.HostFD)
	}
	for _, e := range m.Entries[1:] {
		if e.Type < devReservedBase && !e.Attached {
			return fmt.Errorf("Device '%s' of type %s declared but not attached", e.Name, typeName(e.Type))
		}
	}
	return nil
}

// Close releases the host resources.
func (t *Tender) Close() {
	for _, fd := range t.fds {
		unix.Close(fd)
	}
	t.fds = nil
}

// Start maps guest memory, loads the kernel and forks the guest. It returns
// the guest's pid; the guest memory is no longer mapped in the caller.
func (t *Tender) Start() (int, error) {
	k := t.kernel
	segs, kernelEnd, err := k.segments(t.mem)
	if err != nil {
		return 0, err
	}
	cmdline := strings.Join(t.opts.Args, " ")
	if len(cmdline)+1 > cmdlineMax {
		return 0, fmt.Errorf("Guest command line too long (max=%d characters)", cmdlineMax-1)
	}
	epfd, err := unix.EpollCreate1(0)
	if err != nil {
		return 0, fmt.Errorf("epoll_create1: %w", err)
	}
	t.fds = append(t.fds, epfd)
	tfd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK)
	if err != nil {
		return 0, fmt.Errorf("timerfd_create: %w", err)
	}
	t.fds = append(t.fds, tfd)
	if err := epollAdd(epfd, tfd, timerCookie); err != nil {
		return 0, err
	}
	m := k.Manifest
	for i, e := range m.Entries {
		if e.Type == DevNet && e.Attached {
			if err := epollAdd(epfd, e.HostFD, uint64(i)); err != nil {
				return 0, err
			}
		}
	}
	prog, err := seccompbpf.Compile(allowlist(m, epfd, tfd))
	if err != nil {
		return 0, err
	}

	prot := unix.PROT_READ | unix.PROT_WRITE
	if t.opts.XExecHeap {
		prot |= unix.PROT_EXEC
		fmt.Fprintln(os.Stderr, "runx spt: WARNING: The use of --x-exec-heap is dangerous and not recommended as it makes the heap and stack executable.")
	}
	mem, err := mapGuest(t.mem, prot)
	if err != nil {
		return 0, err
	}
	defer unix.Munmap(mem)
	at := func(addr uint64) []byte { return mem[addr-guestLow:] }
	for _, s := range segs {
		copy(at(s.vaddr), s.data)
		clear(at(s.vaddr + uint64(len(s.data)))[:s.memsz-uint64(len(s.data))])
		if err := unix.Mprotect(at(s.start)[:s.end-s.start], s.prot); err != nil {
			return 0, fmt.Errorf("mprotect of a segment: %w", err)
		}
	}
	mft := m.encode()
	mftAddr := uint64(bootInfoAddr + bootInfoSize)
	cmdAddr := mftAddr + uint64(len(mft))
	copy(at(mftAddr), mft)
	copy(at(cmdAddr), cmdline)
	bi := at(bootInfoAddr)
	le := binary.LittleEndian
	le.PutUint64(bi[0:], t.mem)
	le.PutUint64(bi[8:], kernelEnd)
	le.PutUint64(bi[16:], cmdAddr)
	le.PutUint64(bi[24:], mftAddr)
	le.PutUint32(bi[32:], uint32(epfd))
	le.PutUint32(bi[36:], uint32(tfd))

	keep := []int32{0, 1, 2}
	for _, fd := range t.fds {
		keep = append(keep, int32(fd))
	}
	sort.Slice(keep, func(i, j int) bool { return keep[i] < keep[j] })
	l := &launch{
		keep:    keep,
		prog:    unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]},
		sp:      uintptr(t.mem - 8),
		arg:     bootInfoAddr,
		entry:   uintptr(k.Entry),
		failMsg: []byte("runx spt: could not install the seccomp filter\n"),
	}
	pid, err := l.start()
	if err != nil {
		return 0, fmt.Errorf("starting the guest: %w", err)
	}
	return pid, nil
}

// mapGuest reserves [0x10000, size) at its own address: guest addresses are
// host addresses (section 3.1).
func mapGuest(size uint64, prot int) ([]byte, error) {
	if size <= guestMinBase {
		return nil, fmt.Errorf("--mem: %d MiB is too small", size>>20)
	}
	// A fixed address, not a Go pointer (nothing of Go's lives there).
	want := unsafe.Add(unsafe.Pointer(nil), guestLow)
	ptr, err := unix.MmapPtr(-1, 0, want, uintptr(size-guestLow), prot,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED_NOREPLACE|unix.MAP_NORESERVE)
	if err != nil {
		if err == unix.EEXIST {
			return nil, fmt.Errorf("guest memory [0x10000, 0x%x) collides with the tender's own mappings (%s): use less --mem", size, mappingsBelow(size))
		}
		return nil, fmt.Errorf("mapping %d MiB of guest memory: %w", size>>20, err)
	}
	mem := unsafe.Slice((*byte)(ptr), size-guestLow)
	if ptr != want {
		unix.Munmap(mem)
		return nil, fmt.Errorf("guest memory could not be placed at 0x10000")
	}
	return mem, nil
}

// mappingsBelow lists the tender's mappings that start below end, from
// /proc/self/maps, for the error that says what is in the guest's way.
func mappingsBelow(end uint64) string {
	data, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return err.Error()
	}
	var found []string
	for _, l := range strings.Split(string(data), "\n") {
		lo, _, ok := strings.Cut(l, "-")
		if a, err := strconv.ParseUint(lo, 16, 64); ok && err == nil && a < end {
			found = append(found, strings.Join(strings.Fields(l), " "))
		}
	}
	return strings.Join(found, "; ")
}

func epollAdd(epfd, fd int, cookie uint64) error {
	// struct epoll_event is packed on x86_64: events, then the 64-bit data.
	ev := unix.EpollEvent{Events: unix.EPOLLIN}
	*(*uint64)(unsafe.Pointer(&ev.Fd)) = cookie
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return fmt.Errorf("epoll_ctl: %w", err)
	}
	return nil
}

// Wait waits for the guest and returns how it ended. A fatal signal to the
// tender ends the tender by Go's default action, and the guest with it (its
// parent-death signal): the status seen outside is the tender's, as upstream.
func Wait(pid int) syscall.WaitStatus {
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if err != syscall.EINTR {
			return ws
		}
	}
}
