package unikernel

import (
	"crypto/rand"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"github.com/runx-dev/runx/internal/tap"
	"golang.org/x/sys/unix"
)

// openBlock attaches a file or block device (section 5).
func openBlock(e *Entry, path string, sectorSize int) error {
	fd, err := unix.Open(path, unix.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("--block:%s=%s: %w", e.Name, path, err)
	}
	size, err := unix.Seek(fd, 0, unix.SEEK_END)
	if err != nil {
		unix.Close(fd)
		return fmt.Errorf("--block:%s=%s: %w", e.Name, path, err)
	}
	bs := int64(sectorSize)
	if size%bs != 0 {
		unix.Close(fd)
		return fmt.Errorf("--block:%s=%s: Backing storage size must be block aligned (%d bytes is not a multiple of %d)", e.Name, path, size, bs)
	}
	if size < bs {
		unix.Close(fd)
		return fmt.Errorf("--block:%s=%s: Backing storage must be at least 1 block (%d bytes) in size", e.Name, path, bs)
	}
	e.HostFD, e.Capacity, e.BlockSize, e.Attached = fd, uint64(size), uint16(sectorSize), true
	return nil
}

// openTap attaches an existing, up tap interface, or an fd given as @N.
func openTap(e *Entry, iface, mac string) error {
	if strings.HasPrefix(iface, "@") {
		fd, err := strconv.Atoi(iface[1:])
		if err != nil || fd < 0 {
			return fmt.Errorf("--net:%s=%s: not a file descriptor number", e.Name, iface)
		}
		if err := unix.SetNonblock(fd, true); err != nil {
			return fmt.Errorf("--net:%s=%s: %w", e.Name, iface, err)
		}
		e.HostFD, e.MTU = fd, 1500
	} else {
		if len(iface) >= unix.IFNAMSIZ {
			return fmt.Errorf("--net:%s=%s: interface name too long", e.Name, iface)
		}
		ifc, err := net.InterfaceByName(iface)
		if err != nil {
			return fmt.Errorf("--net:%s=%s: Could not attach interface: %w", e.Name, iface, err)
		}
		if ifc.Flags&net.FlagUp == 0 && ifc.Flags&net.FlagRunning == 0 {
			return fmt.Errorf("--net:%s=%s: Could not attach interface: it is down", e.Name, iface)
		}
		fd, err := tap.Open(iface, unix.IFF_TAP|unix.IFF_NO_PI)
		if err != nil {
			return fmt.Errorf("--net:%s=%s: %w", e.Name, iface, err)
		}
		noOffload(iface)
		e.HostFD, e.MTU = fd, uint16(ifc.MTU)
	}
	if mac != "" {
		hw, err := net.ParseMAC(mac)
		if err != nil || len(hw) != 6 {
			return fmt.Errorf("--net-mac:%s=%s: Malformed MAC address", e.Name, mac)
		}
		copy(e.MAC[:], hw)
	} else {
		if _, err := rand.Read(e.MAC[:]); err != nil {
			return err
		}
		e.MAC[0] = e.MAC[0]&^1 | 2 // unicast, locally administered
	}
	e.Attached = true
	return nil
}

// noOffload turns GRO and GSO off so the guest never gets a frame larger than
// its MTU; failures are ignored, as upstream does.
func noOffload(iface string) {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(s)
	for _, cmd := range []uint32{unix.ETHTOOL_SGRO, unix.ETHTOOL_SGSO} {
		val := [2]uint32{cmd, 0}
		ifr, err := unix.NewIfreq(iface)
		if err != nil {
			return
		}
		// struct ifreq's union holds a pointer to the ethtool_value here.
		ptr := uintptr(unsafe.Pointer(&val))
		raw := (*[unix.IFNAMSIZ + 24]byte)(unsafe.Pointer(ifr))
		*(*uintptr)(unsafe.Pointer(&raw[unix.IFNAMSIZ])) = ptr
		_ = unix.IoctlIfreq(s, unix.SIOCETHTOOL, ifr)
		runtime.KeepAlive(&val)
	}
}
