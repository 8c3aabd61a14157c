package tests

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/vishvananda/netns"
)

// testNetns makes a network namespace whose eth0 is a veth to the test's
// namespace: the host end has hostIP, eth0 has ctIP and a default route
// through the host end, as a CNI bridge or an engine sets a container up.
func testNetns(t *testing.T) (ns, hostIP, ctIP string) {
	t.Helper()
	hostIP, ctIP = "10.77.0.1", "10.77.0.2"
	return vethNetns(t, "net", hostIP, ctIP, true), hostIP, ctIP
}

// vethNetns makes a network namespace named after tag and this process,
// whose eth0 is a veth to the test's namespace: hostIP (/24) on the host
// end, ctIP (/24) on eth0, and with gateway a default route through the
// host end. Both go when the test ends.
func vethNetns(t *testing.T, tag, hostIP, ctIP string, gateway bool) string {
	t.Helper()
	ns := "rx" + tag + itoa(os.Getpid()%100000)
	host := "rxv" + tag + itoa(os.Getpid()%100000)
	sh := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	sh("ip", "netns", "add", ns)
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", ns).Run()
		exec.Command("ip", "link", "del", host).Run()
	})
	sh("ip", "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns)
	sh("ip", "addr", "add", hostIP+"/24", "dev", host)
	sh("ip", "link", "set", host, "up")
	sh("ip", "-n", ns, "addr", "add", ctIP+"/24", "dev", "eth0")
	sh("ip", "-n", ns, "link", "set", "eth0", "up")
	sh("ip", "-n", ns, "link", "set", "lo", "up") // as CNI's loopback plugin does
	if gateway {
		sh("ip", "-n", ns, "route", "add", "default", "via", hostIP)
	}
	return ns
}

// joinNetns has b's container join the network namespace ns by its path,
// as a pod's containers join the one the engine made.
func (b *bundle) joinNetns(ns string) {
	b.edit(func(s *specs.Spec) {
		for i, n := range s.Linux.Namespaces {
			if n.Type == specs.NetworkNamespace {
				s.Linux.Namespaces[i].Path = "/var/run/netns/" + ns
			}
		}
	})
}

// dialInNetns connects to addr from inside the network namespace ns (its
// socket stays there), as containerd's port forwarding dials localhost in a
// pod's namespace.
func dialInNetns(ns, addr string, limit time.Duration) (net.Conn, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, err := netns.Get()
	if err != nil {
		return nil, err
	}
	defer self.Close()
	target, err := netns.GetFromName(ns)
	if err != nil {
		return nil, err
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		return nil, err
	}
	c, err := net.DialTimeout("tcp", addr, limit)
	if err := netns.Set(self); err != nil {
		panic(err) // this thread must not go back to the pool elsewhere
	}
	return c, err
}

// serverReply is the first line a server at addr (in ns when ns is not
// empty) answers, trying for up to limit while nothing listens yet.
func serverReply(ns, addr string, limit time.Duration) string {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		var c net.Conn
		var err error
		if ns == "" {
			c, err = net.DialTimeout("tcp", addr, time.Second)
		} else {
			c, err = dialInNetns(ns, addr, time.Second)
		}
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		l, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
		time.Sleep(100 * time.Millisecond)
	}
	return ""
}

// nsLinks lists the links of a network namespace by name.
func nsLinks(t *testing.T, ns string) string {
	t.Helper()
	out, err := exec.Command("ip", "-n", ns, "-o", "link").CombinedOutput()
	if err != nil {
		t.Fatalf("ip -n %s link: %v\n%s", ns, err, out)
	}
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(l); len(f) > 1 {
			names = append(names, strings.SplitN(strings.TrimSuffix(f[1], ":"), "@", 2)[0])
		}
	}
	// and what is set on the interface's ingress (the microvm mode's redirects)
	tc, _ := exec.Command("tc", "-n", ns, "filter", "show", "dev", "eth0", "ingress").CombinedOutput()
	return strings.Join(names, " ") + "; eth0 ingress filters: " + strings.TrimSpace(string(tc))
}

// TestNetworkNamespacePath: a container in a network namespace an engine
// made (config.json names its path) reaches the host through its eth0, and
// the host reaches a server in the container at the interface's address;
// the namespace is left as it was.
func TestNetworkNamespacePath(t *testing.T) {
	forEachMode(t, "network", func(t *testing.T, m mode) {
		ns, hostIP, ctIP := testNetns(t)
		before := nsLinks(t, ns)
		ln, err := net.Listen("tcp", hostIP+":0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		port := itoa(ln.Addr().(*net.TCPAddr).Port)
		got := make(chan string, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
			l, _ := bufio.NewReader(c).ReadString('\n')
			got <- strings.TrimSpace(l)
		}()

		r := newRuntime(t)
		// The server answers any number of connections.
		b := newBundle(t, "sh", "-c", "echo from-the-container | nc "+hostIP+" "+port+"; while :; do nc -l -p 8080 -e echo from-its-server; done")
		m.apply(b)
		b.joinNetns(ns)
		id := newID(t)
		r.ok("run", "-d", "--bundle", b.dir, id)
		select {
		case l := <-got:
			if l != "from-the-container" {
				t.Errorf("the host's server got %q", l)
			}
		case <-time.After(60 * time.Second):
			t.Fatalf("the container did not reach the host at %s:%s", hostIP, port)
		}
		if reply := serverReply("", ctIP+":8080", 30*time.Second); reply != "from-its-server" {
			t.Errorf("the container's server at %s:8080 answered %q", ctIP, reply)
		}
		// Localhost of the namespace reaches it too, from the host: what
		// containerd's port forwarding dials.
		if reply := serverReply(ns, "127.0.0.1:8080", 30*time.Second); reply != "from-its-server" {
			t.Errorf("the container's server at localhost:8080 in its network namespace answered %q", reply)
		}
		r.ok("delete", "--force", id)
		assertNothingLeft(t, r.root, id, b.dir)
		if after := nsLinks(t, ns); after != before {
			t.Errorf("the namespace's links were %q, are %q after delete", before, after)
		}
	})
}

// TestMicrovmKilledMonitorNetns: a VM whose monitor is killed leaves its tap
// and redirects in a namespace joined by path (which outlives it), and
// delete --force takes them away.
func TestMicrovmKilledMonitorNetns(t *testing.T) {
	m := mode{name: "microvm"}
	m.require(t, "network")
	ns, _, _ := testNetns(t)
	before := nsLinks(t, ns)
	r := newRuntime(t)
	b := newBundle(t)
	m.apply(b)
	b.joinNetns(ns)
	id := newID(t)
	st := startContainer(r, b, id)
	if during := nsLinks(t, ns); !strings.Contains(during, "runx-tap0") {
		t.Errorf("no VM tap in the namespace while it runs: %q", during)
	}
	if err := killPid(st.Pid); err != nil {
		t.Fatal(err)
	}
	waitGone(t, st.Pid, 10*time.Second)
	r.ok("delete", "--force", id)
	assertNothingLeft(t, r.root, id, b.dir)
	if after := nsLinks(t, ns); after != before {
		t.Errorf("the namespace was %q, is %q after delete --force", before, after)
	}
}

// TestMicrovmHostNetworkRefused: a VM cannot share the host's network: a
// config.json without a network namespace is refused, naming the field, and
// nothing is left.
func TestMicrovmHostNetworkRefused(t *testing.T) {
	m := mode{name: "microvm"}
	m.require(t, "network")
	r := newRuntime(t)
	b := newBundle(t)
	m.apply(b)
	b.edit(func(s *specs.Spec) {
		var keep []specs.LinuxNamespace
		for _, n := range s.Linux.Namespaces {
			if n.Type != specs.NetworkNamespace {
				keep = append(keep, n)
			}
		}
		s.Linux.Namespaces = keep
	})
	id := newID(t)
	expectFailure(t, r.run("create", "--bundle", b.dir, id), "linux.namespaces", "network namespace")
	assertNothingLeft(t, r.root, id, b.dir)
}

// TestNetworkSysctl: net.* sysctls of config.json apply to the container's
// network namespace (Docker sets two in every container).
func TestNetworkSysctl(t *testing.T) {
	forEachMode(t, "network", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t, "sh", "-c", "cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/net/ipv4/ping_group_range")
		m.apply(b)
		b.edit(func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_unprivileged_port_start": "0", "net.ipv4.ping_group_range": "0 2147483647"}
		})
		id := newID(t)
		res := r.run("run", "--bundle", b.dir, id)
		if f := strings.Fields(res.stdout); res.code != 0 || len(f) < 2 || f[0] != "0" || !strings.Contains(res.stdout, "2147483647") {
			t.Errorf("want the sysctls in the container\n%s", res)
		}
	})
}
