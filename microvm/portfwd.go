package microvm

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Localhost of the container's network namespace reaches the guest's
// servers, as it reaches a runc container's: CRI port forwarding (containerd
// dials localhost:PORT inside the pod's network namespace on the host) and
// anything else that does the same. The agent watches the TCP ports the
// guest listens on where localhost reaches (any address or loopback) and
// tells the monitor whenever the set changes; the monitor, which runs in
// the container's network namespace, listens on 127.0.0.1 and ::1 there for
// each, and carries every connection to the guest over the agent channel: a
// stream opened with a dial request, the bytes as stdin/stdout frames, EOF
// for a half-close, SIGKILL for a reset, and an exit frame when the guest's
// side ends.

// portsEvery is how often the agent looks at the guest's listeners: a new
// server is reachable from the host within it.
const portsEvery = 250 * time.Millisecond

// dialRequest opens a forwarded connection: the agent dials localhost:Port
// in the guest.
type dialRequest struct {
	Port int `json:"port"`
}

// --- guest side

// watchPorts sends the guest's listening ports (a JSON list on stream 0)
// each time they change, for the agent's life.
func (a *agentState) watchPorts() {
	var last []int
	for {
		ports := listeningPorts()
		if !slices.Equal(ports, last) {
			if err := a.c.sendJSON(kindPorts, 0, ports); err != nil {
				return
			}
			last = ports
		}
		time.Sleep(portsEvery)
	}
}

// listeningPorts are the TCP ports some socket of this network namespace
// listens on at an address localhost reaches, sorted.
func listeningPorts() []int {
	var ports []int
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
func parseListeners(path string) []int {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var ports []int
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
		ports = append(ports, int(n))
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

// forward is a forwarded connection in the guest: its socket, and how many
// of its two directions have ended (it closes after both).
type forward struct {
	c     *net.TCPConn
	ended int
}

// dial opens the guest's end of a forwarded connection for stream.
func (a *agentState) dial(stream uint32, payload []byte) {
	var req dialRequest
	if err := json.Unmarshal(payload, &req); err != nil || req.Port <= 0 || req.Port > 65535 {
		_ = a.c.sendJSON(kindExit, stream, exitMsg{Status: 1 << 8, Err: fmt.Sprintf("a bad dial request %q", payload)})
		return
	}
	c, err := dialLocalhost(req.Port)
	if err != nil {
		_ = a.c.sendJSON(kindExit, stream, exitMsg{Status: 1 << 8, Err: err.Error()})
		return
	}
	fw := &forward{c: c}
	a.mu.Lock()
	a.forwards[stream] = fw
	a.mu.Unlock()
	go func() {
		_, _ = io.Copy(frameWriter{a.c, kindStdout, stream}, c)
		_ = a.c.sendJSON(kindExit, stream, exitMsg{})
		a.forwardEnded(stream, fw)
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

// forwardInput handles a monitor frame for a forwarded connection: data,
// EOF (the host's client half-closed) or a signal (it reset). It says
// whether stream is one.
func (a *agentState) forwardInput(f frame) bool {
	a.mu.Lock()
	fw := a.forwards[f.stream]
	a.mu.Unlock()
	if fw == nil {
		return false
	}
	switch f.kind {
	case kindStdin:
		if _, err := fw.c.Write(f.payload); err != nil {
			_ = fw.c.Close() // its reader ends the stream
		}
	case kindEOF:
		_ = fw.c.CloseWrite()
		a.forwardEnded(f.stream, fw)
	case kindSignal:
		_ = fw.c.SetLinger(0)
		_ = fw.c.Close()
		a.forwardEnded(f.stream, fw)
	}
	return true
}

// forwardEnded counts one direction of fw as ended, and forgets it after
// both.
func (a *agentState) forwardEnded(stream uint32, fw *forward) {
	a.mu.Lock()
	defer a.mu.Unlock()
	fw.ended++
	if fw.ended == 2 {
		_ = fw.c.Close()
		delete(a.forwards, stream)
	}
}

// --- host side

// portForwarder holds the monitor's listeners, by port.
type portForwarder struct {
	mu  sync.Mutex
	lns map[int][]net.Listener
}

// setPorts makes the monitor's listeners those of the guest's ports (a JSON
// list): new ones listen, gone ones close.
func (m *monitor) setPorts(payload []byte) {
	var ports []int
	if err := json.Unmarshal(payload, &ports); err != nil {
		return
	}
	pf := &m.ports
	pf.mu.Lock()
	defer pf.mu.Unlock()
	if pf.lns == nil {
		pf.lns = map[int][]net.Listener{}
	}
	for port, lns := range pf.lns {
		if !slices.Contains(ports, port) {
			for _, ln := range lns {
				ln.Close()
			}
			delete(pf.lns, port)
		}
	}
	for _, port := range ports {
		if _, ok := pf.lns[port]; ok {
			continue
		}
		var lns []net.Listener
		// Either may fail: lo down (nothing can connect then), no IPv6, or
		// the port taken in the namespace (what is there keeps it).
		for _, addr := range []string{"127.0.0.1", "::1"} {
			ln, err := net.Listen("tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
			if err != nil {
				continue
			}
			lns = append(lns, ln)
			go m.acceptForwards(ln, port)
		}
		pf.lns[port] = lns
	}
}

// acceptForwards carries each connection ln takes to the guest's port.
func (m *monitor) acceptForwards(ln net.Listener, port int) {
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
func (m *monitor) forwardConn(c *net.TCPConn, port int) {
	defer c.Close()
	s, exited, end := m.newStream(c, nil, nil)
	defer end()
	if err := m.c.sendJSON(kindDial, s, dialRequest{Port: port}); err != nil {
		return
	}
	in := make(chan struct{})
	go func() {
		defer close(in)
		if _, err := io.Copy(frameWriter{m.c, kindStdin, s}, c); err != nil && !errors.Is(err, net.ErrClosed) {
			_ = m.c.send(kindSignal, s, []byte{byte(unix.SIGKILL)})
			return
		}
		_ = m.c.send(kindEOF, s, nil)
	}()
	if ex := <-exited; ex.Err != "" {
		// The guest refused it: nothing listens there any more.
		_ = c.SetLinger(0)
		return
	}
	_ = c.CloseWrite()
	<-in
}
