// Package vmm is runx's own virtual machine monitor: a KVM VM built from a
// Config (guest memory, a Linux kernel and initramfs, the boot vCPU's
// state, an 8250 console, the i8042 reset, ACPI power-off, virtio-mmio
// devices) and run with one thread per vCPU until the guest resets or
// powers off.
// README.md says what exists and what does not yet.
package vmm

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/runx-dev/runx/internal/tap"
	"github.com/runx-dev/runx/vmm/acpi"
	"github.com/runx-dev/runx/vmm/boot"
	"github.com/runx-dev/runx/vmm/devices/block"
	"github.com/runx-dev/runx/vmm/devices/bus"
	"github.com/runx-dev/runx/vmm/devices/fs"
	"github.com/runx-dev/runx/vmm/devices/i8042"
	vnet "github.com/runx-dev/runx/vmm/devices/net"
	"github.com/runx-dev/runx/vmm/devices/pm"
	"github.com/runx-dev/runx/vmm/devices/rng"
	"github.com/runx-dev/runx/vmm/devices/serial"
	"github.com/runx-dev/runx/vmm/devices/vsock"
	"github.com/runx-dev/runx/vmm/kvm"
	"github.com/runx-dev/runx/vmm/memory"
	"github.com/runx-dev/runx/vmm/virtio"
	"github.com/runx-dev/runx/vmm/x86"
)

// Config is what a VM is built from.
type Config struct {
	Kernel  string // an ELF vmlinux with a PVH note, or a bzImage
	Initrd  string // optional
	Cmdline string
	MemMiB  int
	VCPUs   int
	Console io.Writer // the serial port's output; nil discards it
	KVM     string    // default /dev/kvm
	// Read already (a jailed VMM has no paths): used instead of the files
	// above, whose names then only name them in errors.
	KernelImage, InitrdImage []byte
	KVMFile                  *os.File
	// The virtio-mmio devices, each optional: entropy, the vsock (the
	// agent's channel), shared file systems (vhost-user back ends), NICs.
	RNG   bool
	Vsock *vsock.Config
	FS    []FS
	Net   []Net
	Block []Block
	// Seccomp: run under the VMM's seccomp filters (seccomp.go).
	Seccomp bool
}

// FS is a virtio-fs device: its tag and its vhost-user back end.
type FS struct {
	Tag     string
	Backend *net.UnixConn
}

// Block is a virtio-blk device on a file (a raw image or a block device).
type Block struct {
	File     *os.File
	ReadOnly bool
	ID       string // its serial, up to 20 bytes
}

// Net is a virtio-net device on a tap.
type Net struct {
	// Tap is the tap, opened with IFF_TAP, IFF_NO_PI and IFF_VNET_HDR,
	// non-blocking (internal/tap.Open).
	Tap *os.File
	MAC net.HardwareAddr // nil: the guest chooses
}

// The virtio-mmio windows, from the start of the 32-bit MMIO hole (as
// Firecracker), and their interrupts: GSIs 5-23 of the IOAPIC (4 is the
// serial port's).
const (
	virtioBase     = boot.MMIOStart
	virtioSize     = 0x1000
	virtioFirstIRQ = 5
	virtioLastIRQ  = 23
)

// Where KVM's Intel-only helper pages go: just below the BIOS's 4 GiB
// window, in the MMIO hole, where nothing else is.
const (
	tssAddr         = 0xfffbd000
	identityMapAddr = 0xfffbc000
)

// Machine is a built VM.
type Machine struct {
	sys     *kvm.System
	vm      *kvm.VM
	mem     *memory.Memory
	vcpus   []*kvm.VCPU
	pio     bus.Bus
	mmio    bus.Bus
	serial  *serial.UART
	virtio  []*virtio.MMIO
	acpi    []acpi.Device
	closers []func()

	mu      sync.Mutex
	ended   bool
	end     End
	tids    []int
	running sync.WaitGroup
	seccomp bool
}

// End is how a VM ended.
type End struct {
	Reason string // "reset" (the guest rebooted), "shutdown" (it powered off), "error"
	Err    error
}

// ErrConfig wraps every error in a Config.
var ErrConfig = errors.New("bad VM configuration")

// New builds the VM; on error nothing is left open.
func New(cfg Config) (_ *Machine, err error) {
	if cfg.KVM == "" {
		cfg.KVM = "/dev/kvm"
	}
	if err := checkConfig(&cfg); err != nil {
		return nil, err
	}
	kernel, initrd := cfg.KernelImage, cfg.InitrdImage
	if kernel == nil {
		if kernel, err = os.ReadFile(cfg.Kernel); err != nil {
			return nil, fmt.Errorf("%w: kernel: %w", ErrConfig, err)
		}
	}
	if initrd == nil && cfg.Initrd != "" {
		if initrd, err = os.ReadFile(cfg.Initrd); err != nil {
			return nil, fmt.Errorf("%w: initrd: %w", ErrConfig, err)
		}
	}
	m := &Machine{seccomp: cfg.Seccomp}
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	if m.mem, err = guestMemory(uint64(cfg.MemMiB) << 20); err != nil {
		return nil, err
	}
	entry, err := boot.Load(m.mem, kernel, initrd, cfg.Cmdline)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrConfig, cfg.Kernel, err)
	}
	if err := x86.ResetVector(m.mem); err != nil {
		return nil, err
	}
	if cfg.KVMFile != nil {
		fd, err := unix.Dup(int(cfg.KVMFile.Fd()))
		if err != nil {
			return nil, err
		}
		unix.CloseOnExec(fd)
		m.sys, err = kvm.FromFD(fd, cfg.KVMFile.Name())
	} else {
		m.sys, err = kvm.Open(cfg.KVM)
	}
	if err != nil {
		return nil, err
	}
	if m.vm, err = m.sys.CreateVM(); err != nil {
		return nil, err
	}
	if err := m.vm.SetTSSAddr(tssAddr); err != nil {
		return nil, err
	}
	if err := m.vm.SetIdentityMapAddr(identityMapAddr); err != nil {
		return nil, err
	}
	if err := m.vm.CreateIRQChip(); err != nil {
		return nil, err
	}
	if err := m.vm.CreatePIT(); err != nil {
		return nil, err
	}
	for _, r := range m.mem.Regions {
		if err := m.vm.SetMemory(r.GPA, r.Data); err != nil {
			return nil, err
		}
	}
	if err := m.devices(cfg); err != nil {
		return nil, err
	}
	// The i8042's pulse-reset as the FADT's reset register (reboot=a).
	if _, err := acpi.Write(m.mem, acpi.Config{
		VCPUs: cfg.VCPUs, Devices: m.acpi, ResetPort: i8042.CommandPort, ResetValue: i8042.PulseReset,
		SerialPort: serial.Base, SerialIRQ: serial.IRQ,
		SleepControl: pm.ControlPort, SleepStatus: pm.StatusPort, SleepS5: pm.S5,
	}); err != nil {
		return nil, err
	}
	supported, err := m.sys.SupportedCPUID()
	if err != nil {
		return nil, err
	}
	for i := range cfg.VCPUs {
		c, err := m.vm.CreateVCPU(i)
		if err != nil {
			return nil, err
		}
		m.vcpus = append(m.vcpus, c)
		if err := setupVCPU(c, m.mem, entry, x86.CPUID(supported, i, cfg.VCPUs)); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func checkConfig(cfg *Config) error {
	if cfg.Kernel == "" {
		return fmt.Errorf("%w: no kernel", ErrConfig)
	}
	if cfg.MemMiB <= 0 {
		return fmt.Errorf("%w: memory %d MiB: must be positive", ErrConfig, cfg.MemMiB)
	}
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err == nil {
		if host := uint64(si.Totalram) * uint64(si.Unit); uint64(cfg.MemMiB)<<20 > host {
			return fmt.Errorf("%w: memory %d MiB: more than the host's %d MiB", ErrConfig, cfg.MemMiB, host>>20)
		}
	}
	if cfg.VCPUs == 0 {
		cfg.VCPUs = 1
	}
	if cfg.VCPUs < 0 || cfg.VCPUs > 254 {
		return fmt.Errorf("%w: %d vCPUs: 1 to 254", ErrConfig, cfg.VCPUs)
	}
	return nil
}

// guestMemory is size bytes from address 0, the part above the 32-bit MMIO
// hole moved to 4 GiB.
func guestMemory(size uint64) (*memory.Memory, error) {
	low := min(size, boot.MMIOStart)
	mem, err := memory.NewShared(0, int(low))
	if err != nil {
		return nil, err
	}
	if size > low {
		high, err := memory.NewShared(1<<32, int(size-low))
		if err != nil {
			mem.Close()
			return nil, err
		}
		mem.Regions = append(mem.Regions, high.Regions...)
	}
	return mem, nil
}

func (m *Machine) devices(cfg Config) error {
	m.serial = serial.New(cfg.Console)
	m.serial.Interrupt = func() { m.edge(serial.IRQ) }
	if err := m.pio.Insert(serial.Base, serial.Size, m.serial); err != nil {
		return err
	}
	if err := m.pio.Insert(i8042.Base, i8042.Size, &i8042.Device{Reset: func() { m.stop(End{Reason: "reset"}) }}); err != nil {
		return err
	}
	if err := m.pio.Insert(pm.ControlPort, pm.Size, &pm.Device{PowerOff: func() { m.stop(End{Reason: "shutdown"}) }}); err != nil {
		return err
	}
	if cfg.RNG {
		if err := m.addVirtio(rng.New()); err != nil {
			return err
		}
	}
	if cfg.Vsock != nil {
		d, err := vsock.New(*cfg.Vsock)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		if err := m.addVirtio(d); err != nil {
			return err
		}
	}
	for _, f := range cfg.FS {
		d, err := fs.New(f.Tag, f.Backend)
		if err != nil {
			return fmt.Errorf("virtio-fs %q: %w", f.Tag, err)
		}
		m.closers = append(m.closers, d.Close)
		if err := m.addVirtio(d); err != nil {
			return err
		}
	}
	for i, b := range cfg.Block {
		d, err := block.New(block.Config{File: b.File, ReadOnly: b.ReadOnly, ID: b.ID})
		if err != nil {
			return fmt.Errorf("%w: disk %d: %w", ErrConfig, i, err)
		}
		if err := m.addVirtio(d); err != nil {
			return err
		}
	}
	for i, n := range cfg.Net {
		if err := tap.SetVnetHeader(n.Tap, vnet.HeaderSize); err != nil {
			return fmt.Errorf("%w: NIC %d: the tap %s: %w", ErrConfig, i, n.Tap.Name(), err)
		}
		f := n.Tap
		d, err := vnet.New(vnet.Config{Backend: f, MAC: n.MAC, Offload: func(flags int) error { return tap.SetOffload(f, flags) }})
		if err != nil {
			return fmt.Errorf("%w: NIC %d: %w", ErrConfig, i, err)
		}
		if err := m.addVirtio(d); err != nil {
			return err
		}
	}
	return nil
}

// addVirtio puts dev behind the next virtio-mmio window: its queues'
// notifications as ioeventfds, its interrupt as an irqfd, its window and
// interrupt in the DSDT.
func (m *Machine) addVirtio(dev virtio.Device) error {
	i := len(m.virtio)
	irq := uint32(virtioFirstIRQ + i)
	if irq > virtioLastIRQ {
		return fmt.Errorf("%w: more than %d virtio devices", ErrConfig, virtioLastIRQ-virtioFirstIRQ+1)
	}
	base := uint64(virtioBase + i*virtioSize)
	t, err := virtio.NewMMIO(dev, m.mem)
	if err != nil {
		return err
	}
	m.virtio = append(m.virtio, t)
	for q, k := range t.Kicks {
		if err := m.vm.IOEventFD(k.FD(), base+virtio.RegQueueNotify, uint32(q)); err != nil {
			return err
		}
	}
	if err := m.vm.IRQFD(t.IRQ.FD(), irq); err != nil {
		return err
	}
	m.acpi = append(m.acpi, acpi.Device{Addr: base, Size: virtioSize, IRQ: irq})
	return m.mmio.Insert(base, virtioSize, t)
}

// edge pulses an ISA interrupt line.
func (m *Machine) edge(gsi uint32) {
	m.vm.SetIRQLine(gsi, true)
	m.vm.SetIRQLine(gsi, false)
}

func setupVCPU(c *kvm.VCPU, mem *memory.Memory, e *boot.Entry, cpuid []kvm.CPUIDEntry) error {
	if err := c.SetCPUID(cpuid); err != nil {
		return err
	}
	if err := c.SetMSRs(x86.BootMSRs()); err != nil {
		return err
	}
	if err := c.SetFPU(x86.FPU()); err != nil {
		return err
	}
	l, err := c.GetLAPIC()
	if err != nil {
		return err
	}
	if err := c.SetLAPIC(x86.WireLAPIC(l)); err != nil {
		return err
	}
	if c.ID != 0 {
		return nil // secondary vCPUs wait for the boot vCPU's INIT and SIPI
	}
	sregs, err := c.GetSregs()
	if err != nil {
		return err
	}
	regs, sregs, err := x86.EntryState(mem, e, sregs)
	if err != nil {
		return err
	}
	if err := c.SetSregs(sregs); err != nil {
		return err
	}
	return c.SetRegs(regs)
}

// Run starts every vCPU and returns when the VM has ended.
func (m *Machine) Run() End {
	// A vCPU's goroutine keeps its P while in KVM_RUN (a system call the
	// runtime takes for a short one): with no P to spare, a device's
	// goroutine woken by an eventfd waits for sysmon to take one back, up
	// to 10 ms, on every request. One P per vCPU plus two for the devices.
	if n := len(m.vcpus) + 2; runtime.GOMAXPROCS(0) < n {
		runtime.GOMAXPROCS(n)
	}
	if m.seccomp {
		if err := installProcessFilter(); err != nil {
			return End{Reason: "error", Err: err}
		}
	}
	for _, c := range m.vcpus {
		m.running.Add(1)
		go m.loop(c)
	}
	m.running.Wait()
	return m.end
}

// stop ends the VM with e (the first end wins) and kicks every vCPU out of
// KVM_RUN: immediate_exit for one about to enter, a signal for one inside.
func (m *Machine) stop(e End) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ended {
		return
	}
	m.ended, m.end = true, e
	for _, c := range m.vcpus {
		c.SetImmediateExit(true)
	}
	for _, tid := range m.tids {
		unix.Tgkill(unix.Getpid(), tid, unix.SIGURG) // Go's preemption signal: handled, harmless
	}
}

func (m *Machine) stopped() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ended
}

// loop is one vCPU's thread: KVM_RUN and the exit's handling, nothing else.
func (m *Machine) loop(c *kvm.VCPU) {
	defer m.running.Done()
	// Never unlocked: the thread ends with the goroutine, its vCPU filter
	// with it.
	runtime.LockOSThread()
	if m.seccomp {
		if err := installVCPUFilter(); err != nil {
			m.stop(End{Reason: "error", Err: err})
			return
		}
	}
	m.mu.Lock()
	m.tids = append(m.tids, unix.Gettid())
	m.mu.Unlock()
	for !m.stopped() {
		reason, err := c.Run()
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			m.stop(End{Reason: "error", Err: fmt.Errorf("vCPU %d: KVM_RUN: %w", c.ID, err)})
			return
		}
		if e, done := m.exit(c, reason); done {
			m.stop(e)
			return
		}
	}
}

// exit handles one exit; done when it ends the VM.
func (m *Machine) exit(c *kvm.VCPU, reason uint32) (End, bool) {
	switch reason {
	case kvm.ExitIO:
		port, out, size, data := c.IO()
		for i := 0; i+size <= len(data); i += size {
			if out {
				m.pio.Write(uint64(port), data[i:i+size])
			} else if !m.pio.Read(uint64(port), data[i:i+size]) {
				fill(data[i:i+size], 0xff) // nothing there: the bus floats high
			}
		}
	case kvm.ExitMMIO:
		addr, write, data := c.MMIO()
		if write {
			m.mmio.Write(addr, data)
		} else if !m.mmio.Read(addr, data) {
			clear(data)
		}
	case kvm.ExitShutdown:
		// A triple fault: what Linux's reboot=t does, and a crashed guest.
		return End{Reason: "reset"}, true
	case kvm.ExitSystemEvent:
		if t, _ := c.ExitDetail(); uint32(t) == 1 {
			return End{Reason: "shutdown"}, true
		}
		return End{Reason: "reset"}, true
	case kvm.ExitHLT:
		return End{Reason: "shutdown"}, true
	default:
		a, b := c.ExitDetail()
		return End{Reason: "error", Err: fmt.Errorf("vCPU %d: exit reason %d (%#x, %#x)", c.ID, reason, a, b)}, true
	}
	return End{}, false
}

func fill(b []byte, v byte) {
	for i := range b {
		b[i] = v
	}
}

// Close frees the VM, its devices, its vCPUs and its memory.
func (m *Machine) Close() {
	for _, t := range m.virtio {
		t.Close()
	}
	for _, c := range m.closers {
		c()
	}
	for _, c := range m.vcpus {
		c.Close()
	}
	if m.vm != nil {
		m.vm.Close()
	}
	if m.sys != nil {
		m.sys.Close()
	}
	if m.mem != nil {
		m.mem.Close()
	}
}
