package microvm

import (
	"errors"
	"fmt"
	"net"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/runx-dev/runx/internal/tap"
	"github.com/runx-dev/runx/microvm/agentpb"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The VM's network, as Kata wires it. The monitor, and so QEMU, runs in the
// container's network namespace (the one config.json names, else a new
// one): engines, CNI plugins and hooks configure that namespace as they
// would runc's (the state's pid is the monitor's). The VM's NIC is a tap
// there, made before boot (the microvm machine has no hotplug). At start,
// once hooks have run, the monitor wires the tap to the namespace's
// interface with tc redirects both ways (Kata's tcfilter model: the
// interface keeps its addresses, but every frame it receives goes to the
// VM and every frame from the VM leaves through it), and the guest's NIC
// takes the interface's name, MAC, MTU, addresses and routes. The container
// shares the guest's network namespace, so containers of one VM share
// localhost as a pod's do.

const vmTap = "runx-tap0"

// networkNamespace is config.json's network namespace: its path ("" for a
// new one). A container without one would share the host's network, which
// a VM cannot.
func networkNamespace(spec *specs.Spec) (string, error) {
	if spec.Linux != nil {
		for _, ns := range spec.Linux.Namespaces {
			if ns.Type == specs.NetworkNamespace {
				return ns.Path, nil
			}
		}
	}
	return "", errors.New("config.json: linux.namespaces has no network namespace: a VM cannot share the host's network (the microvm mode needs a network namespace)")
}

// wireNetwork runs in the monitor, in the container's network namespace:
// it wires the VM's tap to the namespace's interface and returns what the
// guest's NIC is to be, nil when the namespace has no interface but lo.
func wireNetwork() (*agentpb.NetConfig, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("the container's network namespace: %w", err)
	}
	var up, tapLink netlink.Link
	for _, l := range links {
		a := l.Attrs()
		switch {
		case a.Name == vmTap:
			tapLink = l
		case a.Flags&net.FlagLoopback != 0:
		case up == nil || !hasGlobalAddr(up) && hasGlobalAddr(l):
			up = l
		}
	}
	if up == nil {
		return nil, nil
	}
	if tapLink == nil {
		return nil, fmt.Errorf("the VM's tap %s is gone from the container's network namespace", vmTap)
	}
	a := up.Attrs()
	if err := netlink.LinkSetMTU(tapLink, a.MTU); err != nil {
		return nil, fmt.Errorf("tap %s: MTU %d: %w", vmTap, a.MTU, err)
	}
	if err := netlink.LinkSetUp(up); err != nil {
		return nil, fmt.Errorf("interface %s: %w", a.Name, err)
	}
	if err := redirect(up, tapLink); err != nil {
		return nil, err
	}
	if err := redirect(tapLink, up); err != nil {
		return nil, err
	}
	cfg := &agentpb.NetConfig{Name: a.Name, Mac: a.HardwareAddr.String(), Mtu: int32(a.MTU)}
	addrs, err := netlink.AddrList(up, netlink.FAMILY_ALL)
	if err != nil {
		return nil, err
	}
	for _, ad := range addrs {
		if ad.IP.IsLinkLocalUnicast() {
			continue // the guest makes its own
		}
		cfg.Addrs = append(cfg.Addrs, ad.IPNet.String())
	}
	routes, err := netlink.RouteList(up, netlink.FAMILY_ALL)
	if err != nil {
		return nil, err
	}
	for _, r := range routes {
		if r.Protocol == unix.RTPROT_KERNEL || r.Dst != nil && r.Dst.IP.IsLinkLocalUnicast() {
			continue // the guest's kernel makes these with the addresses
		}
		rc := &agentpb.Route{}
		if r.Dst != nil {
			rc.Dst = r.Dst.String()
		}
		if r.Gw != nil {
			rc.Gw = r.Gw.String()
		}
		cfg.Routes = append(cfg.Routes, rc)
	}
	return cfg, nil
}

func hasGlobalAddr(l netlink.Link) bool {
	addrs, _ := netlink.AddrList(l, netlink.FAMILY_ALL)
	for _, a := range addrs {
		if a.IP.IsGlobalUnicast() {
			return true
		}
	}
	return false
}

// redirect sends every frame that arrives on from out through to.
func redirect(from, to netlink.Link) error {
	ingress := &netlink.Ingress{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: from.Attrs().Index,
		Handle: netlink.MakeHandle(0xffff, 0), Parent: netlink.HANDLE_INGRESS}}
	qs, err := netlink.QdiscList(from)
	if err != nil {
		return fmt.Errorf("qdiscs of %s: %w", from.Attrs().Name, err)
	}
	has := false
	for _, q := range qs {
		has = has || q.Type() == "ingress"
	}
	if !has {
		if err := netlink.QdiscAdd(ingress); err != nil {
			return fmt.Errorf("ingress qdisc on %s: %w", from.Attrs().Name, err)
		}
	}
	f := &netlink.U32{ // no selector: every frame
		FilterAttrs: netlink.FilterAttrs{LinkIndex: from.Attrs().Index, Parent: netlink.MakeHandle(0xffff, 0),
			Priority: 1, Protocol: unix.ETH_P_ALL},
		Actions: []netlink.Action{netlink.NewMirredAction(to.Attrs().Index)},
	}
	if err := netlink.FilterReplace(f); err != nil {
		return fmt.Errorf("redirecting %s to %s: %w", from.Attrs().Name, to.Attrs().Name, err)
	}
	return nil
}

// configureNIC runs in the guest's agent: the VM's one NIC takes cfg.
func configureNIC(cfg *agentpb.NetConfig) error {
	links, err := netlink.LinkList()
	if err != nil {
		return err
	}
	var nic netlink.Link
	for _, l := range links {
		if l.Attrs().Flags&net.FlagLoopback == 0 {
			nic = l
			break
		}
	}
	if nic == nil {
		return errors.New("the guest has no network device")
	}
	mac, err := net.ParseMAC(cfg.Mac)
	if err != nil {
		return fmt.Errorf("MAC %q: %w", cfg.Mac, err)
	}
	_ = netlink.LinkSetDown(nic)
	if nic.Attrs().Name != cfg.Name {
		if err := netlink.LinkSetName(nic, cfg.Name); err != nil {
			return fmt.Errorf("renaming %s to %s: %w", nic.Attrs().Name, cfg.Name, err)
		}
	}
	if err := netlink.LinkSetHardwareAddr(nic, mac); err != nil {
		return fmt.Errorf("%s: MAC %s: %w", cfg.Name, mac, err)
	}
	if err := netlink.LinkSetMTU(nic, int(cfg.Mtu)); err != nil {
		return fmt.Errorf("%s: MTU %d: %w", cfg.Name, cfg.Mtu, err)
	}
	if err := netlink.LinkSetUp(nic); err != nil {
		return fmt.Errorf("%s: %w", cfg.Name, err)
	}
	for _, a := range cfg.Addrs {
		addr, err := netlink.ParseAddr(a)
		if err != nil {
			return err
		}
		if err := netlink.AddrAdd(nic, addr); err != nil {
			return fmt.Errorf("%s: address %s: %w", cfg.Name, a, err)
		}
	}
	for _, rc := range cfg.Routes {
		r := &netlink.Route{LinkIndex: nic.Attrs().Index}
		if rc.Dst != "" {
			_, dst, err := net.ParseCIDR(rc.Dst)
			if err != nil {
				return err
			}
			r.Dst = dst
		}
		if rc.Gw != "" {
			r.Gw = net.ParseIP(rc.Gw)
		} else {
			r.Scope = netlink.SCOPE_LINK
		}
		if err := netlink.RouteReplace(r); err != nil {
			return fmt.Errorf("%s: route %+v: %w", cfg.Name, rc, err)
		}
	}
	return nil
}

// loopbackUp brings the guest's lo up: the containers share it.
func loopbackUp() error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return err
	}
	return netlink.LinkSetUp(lo)
}

// addVMTap makes the VM's tap in the monitor's network namespace; one left
// by a VM that was killed (in a pod's namespace, which outlives it) goes
// first.
func addVMTap() error {
	if old, err := netlink.LinkByName(vmTap); err == nil {
		_ = netlink.LinkDel(old)
	}
	_, err := tap.Add(vmTap, 1500, 0, 0)
	return err
}

// unwireNetwork gives the namespace back as it was: the redirects to the
// VM's tap go, so the interface's frames reach the namespace's own stack
// again, and the tap goes.
func unwireNetwork() {
	t, err := netlink.LinkByName(vmTap)
	if err != nil {
		return
	}
	links, _ := netlink.LinkList()
	for _, l := range links {
		fs, _ := netlink.FilterList(l, netlink.MakeHandle(0xffff, 0))
		for _, f := range fs {
			if u, ok := f.(*netlink.U32); ok {
				for _, act := range u.Actions {
					if m, ok := act.(*netlink.MirredAction); ok && m.Ifindex == t.Attrs().Index {
						_ = netlink.FilterDel(f)
					}
				}
			}
		}
	}
	_ = netlink.LinkDel(t)
}
