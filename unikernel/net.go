package unikernel

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// tapName is the tap device that backs the guest's network device NAME.
func tapName(name string) string {
	n := "uk" + name
	if len(n) > 15 {
		n = n[:15]
	}
	return n
}

// addTunDevice gives the container /dev/net/tun, through which the tender
// attaches its taps (it owns them, so it needs no capability).
func addTunDevice(spec *specs.Spec) {
	if spec.Linux == nil {
		spec.Linux = &specs.Linux{}
	}
	for _, d := range spec.Linux.Devices {
		if d.Path == "/dev/net/tun" {
			return
		}
	}
	mode := os.FileMode(0o666)
	spec.Linux.Devices = append(spec.Linux.Devices, specs.LinuxDevice{
		Path: "/dev/net/tun", Type: "c", Major: 10, Minor: 200, FileMode: &mode,
	})
	if spec.Linux.Resources == nil {
		spec.Linux.Resources = &specs.LinuxResources{}
	}
	major, minor := int64(10), int64(200)
	spec.Linux.Resources.Devices = append(spec.Linux.Resources.Devices, specs.LinuxDeviceCgroup{
		Allow: true, Type: "c", Major: &major, Minor: &minor, Access: "rwm",
	})
}

// wireTaps runs in runx, outside the container, once the container's network
// namespace exists: for each guest network device it makes a tap owned by the
// container's user and bridges it with the interface the annotation names, so
// the unikernel sits on that interface's link, as Nabla's runnc did with eth0.
// The interface's addresses move to the bridge.
func wireTaps(pid int, nets map[string]string, uid, gid int) error {
	ns, err := netns.GetFromPid(pid)
	if err != nil {
		return fmt.Errorf("the container's network namespace: %w", err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return fmt.Errorf("the container's network namespace: %w", err)
	}
	defer h.Close()
	for name, ifname := range nets {
		if err := wireTap(h, name, ifname, uid, gid); err != nil {
			return fmt.Errorf("annotations[%q]: %w", annNet+name, err)
		}
	}
	return nil
}

func wireTap(h *netlink.Handle, name, ifname string, uid, gid int) error {
	link, err := h.LinkByName(ifname)
	if err != nil {
		return fmt.Errorf("interface %s in the container's network namespace: %w", ifname, err)
	}
	tap := &netlink.Tuntap{
		LinkAttrs:  netlink.LinkAttrs{Name: tapName(name), MTU: link.Attrs().MTU},
		Mode:       netlink.TUNTAP_MODE_TAP,
		Flags:      netlink.TUNTAP_NO_PI | netlink.TUNTAP_ONE_QUEUE,
		NonPersist: false,
		Owner:      uint32(uid),
		Group:      uint32(gid),
	}
	if err := h.LinkAdd(tap); err != nil {
		return fmt.Errorf("creating tap %s: %w", tapName(name), err)
	}
	// LinkAdd leaves the creating fds open for a persistent tap: close them.
	for _, f := range tap.Fds {
		f.Close()
	}
	if err := h.LinkSetUp(tap); err != nil {
		return fmt.Errorf("bringing tap %s up: %w", tapName(name), err)
	}
	if ifname == tapName(name) {
		return nil
	}
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "ukbr" + name, MTU: link.Attrs().MTU}}
	if len(br.Name) > 15 {
		br.Name = br.Name[:15]
	}
	if err := h.LinkAdd(br); err != nil {
		return fmt.Errorf("creating bridge %s: %w", br.Name, err)
	}
	addrs, err := h.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return err
	}
	routes, _ := h.RouteList(link, netlink.FAMILY_V4)
	for _, a := range addrs {
		if a.IP.IsLinkLocalUnicast() {
			continue
		}
		if err := h.AddrDel(link, &a); err != nil {
			return fmt.Errorf("moving %s off %s: %w", a.IPNet, ifname, err)
		}
		a.Label = ""
		if err := h.AddrAdd(br, &a); err != nil {
			return fmt.Errorf("moving %s to %s: %w", a.IPNet, br.Name, err)
		}
	}
	for _, l := range []netlink.Link{link, tap} {
		if err := h.LinkSetMaster(l, br); err != nil {
			return fmt.Errorf("adding %s to bridge %s: %w", l.Attrs().Name, br.Name, err)
		}
	}
	if err := h.LinkSetUp(br); err != nil {
		return err
	}
	for _, r := range routes {
		if r.Gw != nil {
			r.LinkIndex = br.Attrs().Index
			_ = h.RouteReplace(&r)
		}
	}
	return nil
}
