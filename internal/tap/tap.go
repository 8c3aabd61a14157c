// Package tap makes tap devices in a container's network namespace: what
// the unikernel mode (a tap bridged to the container's interface) and the
// microvm mode (a tap for the VM's NIC) share.
package tap

import (
	"fmt"
	"runtime"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
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
