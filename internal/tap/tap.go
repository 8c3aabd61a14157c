// Package tap makes tap devices in a container's network namespace: what
// the unikernel mode (a tap bridged to the container's interface) and the
// microvm mode (a tap for the VM's NIC) share.
package tap

import (
	"fmt"
	"os"
	"runtime"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// InNetns runs f on a thread in the network namespace ns, and returns the
// thread to its own namespace after. What f makes through /dev/net/tun, and
// the processes it starts (their clone runs on the same thread), are ns's.
func InNetns(ns netns.NsHandle, f func() error) (err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return err
	}
	defer orig.Close()
	if err := netns.Set(ns); err != nil {
		return fmt.Errorf("entering the container's network namespace: %w", err)
	}
	defer func() {
		if e := netns.Set(orig); e != nil && err == nil {
			err = e
		}
	}()
	return f()
}

// Add makes a persistent tap device called name, owned by uid and gid (who
// may then attach to it without a capability), and brings it up.
func Add(name string, mtu int, uid, gid uint32) (*netlink.Tuntap, error) {
	t := &netlink.Tuntap{
		LinkAttrs: netlink.LinkAttrs{Name: name, MTU: mtu},
		Mode:      netlink.TUNTAP_MODE_TAP,
		Flags:     netlink.TUNTAP_NO_PI | netlink.TUNTAP_ONE_QUEUE,
		Owner:     uid,
		Group:     gid,
	}
	if err := netlink.LinkAdd(t); err != nil {
		return nil, fmt.Errorf("creating tap %s: %w", name, err)
	}
	// LinkAdd keeps the creating fds of a persistent tap open: close them.
	for _, f := range t.Fds {
		f.Close()
	}
	t.Fds = nil
	if err := netlink.LinkSetUp(t); err != nil {
		_ = netlink.LinkDel(t)
		return nil, fmt.Errorf("bringing tap %s up: %w", name, err)
	}
	return t, nil
}

// Open attaches to the existing tap device name with flags (IFF_TAP and
// IFF_NO_PI, and IFF_VNET_HDR for a virtio-net backend that takes the
// kernel's offloads) and returns its file descriptor, non-blocking and
// close-on-exec. A name no device has is an error (TUNSETIFF would make
// a new tap of it).
func Open(name string, flags uint16) (int, error) {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return -1, fmt.Errorf("tap %s: %w", name, err)
	}
	if l.Type() != "tuntap" {
		return -1, fmt.Errorf("%s is not a tap (a %s link)", name, l.Type())
	}
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("/dev/net/tun: %w", err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	ifr.SetUint16(flags)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("Could not attach interface: %w", err)
	}
	if ifr.Name() != name {
		unix.Close(fd)
		return -1, fmt.Errorf("Could not attach interface: the kernel named it %s", ifr.Name())
	}
	return fd, nil
}

// SetVnetHeader sets the size of the virtio-net header on each frame of a
// tap opened with IFF_VNET_HDR (virtio 1.x's is 12 bytes, the default 10).
func SetVnetHeader(f *os.File, size int) error {
	return control(f, func(fd int) error { return unix.IoctlSetPointerInt(fd, unix.TUNSETVNETHDRSZ, size) })
}

// SetOffload tells the tap which offloads its reader takes (TUN_F_*): the
// frames it may hand over without checksum or unsegmented.
func SetOffload(f *os.File, flags int) error {
	return control(f, func(fd int) error { return unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, flags) })
}

// control runs fn on f's descriptor without making it blocking (f.Fd()
// would).
func control(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}
