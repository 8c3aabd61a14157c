package unikernel

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/runx-dev/runx/internal/tap"
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
// The interface's addresses move to the bridge. On failure what was done is
// undone: a namespace the container joined by path outlives it.
func wireTaps(pid int, nets map[string]string, uid, gid int) error {
	target, err := netns.GetFromPid(pid)
	if err != nil {
		return fmt.Errorf("the container's network namespace: %w", err)
	}
	defer target.Close()
	return tap.InNetns(target, func() (err error) {
		var undo []func()
		defer func() {
			if err != nil {
				for i := len(undo) - 1; i >= 0; i-- {
					undo[i]()
				}
			}
		}()
		for name, ifname := range nets {
			if err := wireTap(name, ifname, uid, gid, &undo); err != nil {
				return fmt.Errorf("annotations[%q]: %w", annNet+name, err)
			}
		}
		return nil
	})
}

func wireTap(name, ifname string, uid, gid int, undo *[]func()) error {
	link, err := netlink.LinkByName(ifname)
	if err != nil {
		return fmt.Errorf("interface %s in the container's network namespace: %w", ifname, err)
	}
	// A namespace joined by path (a pod's) outlives the container: a restarted
	// container finds its tap and bridge still wired and reuses them.
	if br, err := netlink.LinkByName(tapName("br" + name)); err == nil && link.Attrs().MasterIndex == br.Attrs().Index {
		if tap, err := netlink.LinkByName(tapName(name)); err == nil && tap.Attrs().MasterIndex == br.Attrs().Index {
			return netlink.LinkSetUp(tap)
		}
	}
	tp, err := tap.Add(tapName(name), link.Attrs().MTU, uint32(uid), uint32(gid))
	if err != nil {
		return err
	}
	*undo = append(*undo, func() { _ = netlink.LinkDel(tp) })
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: tapName("br" + name), MTU: link.Attrs().MTU}}
	if err := netlink.LinkAdd(br); err != nil {
		return fmt.Errorf("creating bridge %s: %w", br.Name, err)
	}
	*undo = append(*undo, func() { _ = netlink.LinkDel(br) })
	addrs, err := netlink.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return err
	}
	routes, _ := netlink.RouteList(link, netlink.FAMILY_V4)
	for _, a := range addrs {
		if a.IP.IsLinkLocalUnicast() {
			continue
		}
		a := a
		if err := netlink.AddrDel(link, &a); err != nil {
			return fmt.Errorf("moving %s off %s: %w", a.IPNet, ifname, err)
		}
		*undo = append(*undo, func() { a.Label = ""; _ = netlink.AddrAdd(link, &a) })
		moved := a
		moved.Label = ""
		if err := netlink.AddrAdd(br, &moved); err != nil {
			return fmt.Errorf("moving %s to %s: %w", a.IPNet, br.Name, err)
		}
	}
	for _, l := range []netlink.Link{link, tp} {
		if err := netlink.LinkSetMaster(l, br); err != nil {
			return fmt.Errorf("adding %s to bridge %s: %w", l.Attrs().Name, br.Name, err)
		}
	}
	*undo = append(*undo, func() { _ = netlink.LinkSetNoMaster(link) })
	if err := netlink.LinkSetUp(br); err != nil {
		return fmt.Errorf("bringing bridge %s up: %w", br.Name, err)
	}
	for _, r := range routes {
		if r.Gw != nil {
			r.LinkIndex = br.Attrs().Index
			_ = netlink.RouteReplace(&r)
		}
	}
	return nil
}
