package microvm

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/runx-dev/runx/microvm/agentpb"
	"golang.org/x/sys/unix"
)

// Localhost of the container's network namespace reaches the guest's
// servers, as it reaches a runc container's: CRI port forwarding (containerd
// dials localhost:PORT inside the pod's network namespace on the host) and
// anything else that does the same. The agent watches the TCP ports the
// guest listens on where localhost reaches (any address or loopback) and
// tells the monitor whenever the set changes (the Ports call); the monitor,
// which runs in the container's network namespace, listens on 127.0.0.1 and
// ::1 there for each, and carries every connection to the guest over the
// agent channel: a Stream call opened with a dial, the bytes as its stdin
// and stdout, EOF for a half-close, SIGKILL for a reset, and an exit when
// the guest's side ends.

// portsEvery is how often the agent looks at the guest's listeners: a new
// server is reachable from the host within it.
const portsEvery = 250 * time.Millisecond

// --- guest side

// Ports implements agentpb.AgentService: the guest's listening ports, at
// once and each time they change, for as long as the monitor listens.
func (a *agentState) Ports(ctx context.Context, _ *agentpb.Empty, s agentpb.Agent_PortsServer) error {
	var last []uint32
	for first := true; ; first = false {
		ports := listeningPorts()
		if first || !slices.Equal(ports, last) {
			if err := s.Send(&agentpb.PortList{Ports: ports}); err != nil {
				return err
			}
			last = ports
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(portsEvery):
		}
	}
}

// listeningPorts are the TCP ports some socket of this network namespace
// listens on at an address localhost reaches, sorted.
func listeningPorts() []uint32 {
	var ports []uint32
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		for _, p := range parseListeners(f) {
			if !slices.Contains(ports, p) {
				ports = append(ports, p)
			}
		}
	}
	slices.Sort(ports)
	return ports
}

// parseListeners reads one /proc/net/tcp* table: the local ports of the
// sockets in state LISTEN (0A) bound to any or a loopback address.
func parseListeners(path string) []uint32 {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var ports []uint32
	sc := bufio.NewScanner(f)
	sc.Scan() // the header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || fields[3] != "0A" {
			continue
		}
		addr, port, ok := strings.Cut(fields[1], ":")
		if !ok {
			continue
		}
		ip := procIP(addr)
		n, err := strconv.ParseUint(port, 16, 16)
		if ip == nil || err != nil || !(ip.IsUnspecified() || ip.IsLoopback()) {
			continue
		}
		ports = append(ports, uint32(n))
	}
	return ports
}

// procIP decodes an address as /proc/net/tcp* prints it: hex, each 32-bit
// word in the host's (little-endian) byte order.
func procIP(s string) net.IP {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 4 && len(b) != 16 {
		return nil
	}
	for i := 0; i < len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	return net.IP(b)
}

// forward is a forwarded connection in the guest: its socket, and which
// of its two directions have ended (it closes after both).
type forward struct {
	c       *net.TCPConn
	out, in bool // under agentState.mu
}

// dial opens the guest's end of a forwarded connection for st.
func (a *agentState) dial(st *agentStream, port uint32) {
	c, err := dialLocalhost(int(port))
	if err != nil {
		_ = st.exit(1<<8, err.Error())
		st.end()
		return
	}
	fw := &forward{c: c}
	st.fw = fw
	go func() {
		_, _ = io.Copy(outputWriter{st, false}, c)
		_ = st.exit(0, "")
		a.forwardEnded(st, fw, true)
	}()
}

// dialLocalhost connects to localhost:port as containerd does: IPv4 first.
func dialLocalhost(port int) (*net.TCPConn, error) {
	p := strconv.Itoa(port)
	c, err := net.DialTimeout("tcp4", "127.0.0.1:"+p, 10*time.Second)
	if err != nil {
		var err6 error
		if c, err6 = net.DialTimeout("tcp6", "[::1]:"+p, 10*time.Second); err6 != nil {
			return nil, fmt.Errorf("the guest's localhost:%d: %w", port, err)
		}
	}
	return c.(*net.TCPConn), nil
}

// input handles the monitor's input for a forwarded connection: data, EOF
// (the host's client half-closed; these two from stdinWriter) or a signal
// (it reset).
func (fw *forward) input(a *agentState, st *agentStream, in *agentpb.Input) {
	switch k := in.Kind.(type) {
	case *agentpb.Input_Stdin:
		if _, err := fw.c.Write(k.Stdin); err != nil {
			_ = fw.c.Close() // its reader ends the stream
		}
	case *agentpb.Input_Eof:
		_ = fw.c.CloseWrite()
		a.forwardEnded(st, fw, false)
	case *agentpb.Input_Signal:
		_ = fw.c.SetLinger(0)
		_ = fw.c.Close()
		a.forwardEnded(st, fw, false)
	}
}

// forwardEnded marks one direction of fw ended (out: the guest's side), and
// ends the stream after both.
func (a *agentState) forwardEnded(st *agentStream, fw *forward, out bool) {
	a.mu.Lock()
	if out {
		fw.out = true
	} else {
		fw.in = true
	}
	both := fw.out && fw.in
	a.mu.Unlock()
	if both {
		_ = fw.c.Close()
		st.end()
	}
}

// --- host side

// watchPorts keeps the monitor's listeners those of the guest's ports, for
// the VM's life.
func (m *monitor) watchPorts() {
	pc, err := m.agent.Ports(context.Background(), &agentpb.Empty{})
	if err != nil {
		return
	}
	lns := map[uint32][]net.Listener{} // by port
	for {
		l, err := pc.Recv()
		if err != nil {
			return
		}
		m.setPorts(lns, l.Ports)
	}
}

// setPorts makes the monitor's listeners (lns, by port) those of the
// guest's ports: new ones listen, gone ones close.
func (m *monitor) setPorts(lns map[uint32][]net.Listener, ports []uint32) {
	for port, l := range lns {
		if !slices.Contains(ports, port) {
			for _, ln := range l {
				ln.Close()
			}
			delete(lns, port)
		}
	}
	for _, port := range ports {
		if _, ok := lns[port]; ok {
			continue
		}
		// Either may fail: lo down (nothing can connect then), no IPv6, or
		// the port taken in the namespace (what is there keeps it). The
		// port is recorded even so, and not tried again while it stays.
		lns[port] = nil
		for _, addr := range []string{"127.0.0.1", "::1"} {
			ln, err := net.Listen("tcp", net.JoinHostPort(addr, strconv.Itoa(int(port))))
			if err != nil {
				continue
			}
			lns[port] = append(lns[port], ln)
			go m.acceptForwards(ln, port)
		}
	}
}

// acceptForwards carries each connection ln takes to the guest's port.
func (m *monitor) acceptForwards(ln net.Listener, port uint32) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		go m.forwardConn(c.(*net.TCPConn), port)
	}
}

// forwardConn relays one connection to localhost:port in the guest.
func (m *monitor) forwardConn(c *net.TCPConn, port uint32) {
	defer c.Close()
	g := m.newStream(c, nil, nil)
	if err := m.open(g, &agentpb.Input{Kind: &agentpb.Input_Dial{Dial: &agentpb.Dial{Port: port}}}); err != nil {
		return
	}
	in := make(chan struct{})
	go func() {
		defer close(in)
		if _, err := io.Copy(stdinWriter{g}, c); err != nil && !errors.Is(err, net.ErrClosed) {
			_ = g.signal(unix.SIGKILL)
			return
		}
		_ = g.eof()
	}()
	if ex := <-g.exited; ex.Err != "" {
		// The guest refused it: nothing listens there any more.
		_ = c.SetLinger(0)
		return
	}
	_ = c.CloseWrite()
	<-in
}
