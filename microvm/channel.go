package microvm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/containerd/ttrpc"
	"github.com/runx-dev/runx/microvm/agentpb"
)

// The agent channel: ttrpc (agentpb/agent.proto) over the VM's one
// virtio-serial port, the guest's agent serving and the host's monitor
// calling. (No vsock: the hosts runx is tested on have no /dev/vhost-vsock;
// ttrpc would run over it unchanged.) Before ttrpc, the agent writes
// agentHello: the host end of the port accepts connections before the
// guest has opened it, so the hello is how the monitor knows the agent is
// there.

// The hello is "runx-agent/1 <µs since the agent started>\n": the
// monitor takes the agent's own start-up from its time to the hello, which
// leaves the hypervisor's start to the guest's /init.
const agentHello = "runx-agent/1"

// agentStart is when this process started (its package initialised).
var agentStart = time.Now()

// serveAgent serves svc on the guest's end of the agent port until the
// host's end goes.
func serveAgent(port *os.File, svc agentpb.AgentService) error {
	if _, err := fmt.Fprintf(port, "%s %d\n", agentHello, time.Since(agentStart).Microseconds()); err != nil {
		return fmt.Errorf("the agent port: %w", err)
	}
	srv, err := ttrpc.NewServer()
	if err != nil {
		return err
	}
	agentpb.RegisterAgentService(srv, svc)
	ln := &oneConn{c: &portConn{File: port}, gone: make(chan struct{})}
	err = srv.Serve(context.Background(), ln)
	if errors.Is(err, errPortGone) {
		return errors.New("the host's end of the agent port went away")
	}
	return err
}

// dialAgent waits, at most until deadline, for the agent's hello on nc (the
// host's end of the port) and returns the client that calls it, and how
// long the agent took from its start to the hello.
func dialAgent(nc net.Conn, deadline time.Time) (agentpb.AgentClient, *ttrpc.Client, time.Duration, error) {
	_ = nc.SetReadDeadline(deadline)
	line, err := readLine(nc)
	if err != nil {
		return nil, nil, 0, err
	}
	us, ok := strings.CutPrefix(line, agentHello+" ")
	n, err := strconv.ParseInt(us, 10, 64)
	if !ok || err != nil {
		return nil, nil, 0, fmt.Errorf("the agent port said %q, not the agent's hello", line)
	}
	_ = nc.SetReadDeadline(time.Time{})
	c := ttrpc.NewClient(nc)
	return agentpb.NewAgentClient(c), c, time.Duration(n) * time.Microsecond, nil
}

// portConn is the guest's virtio-serial port as a net.Conn.
type portConn struct {
	*os.File
}

type portAddr struct{}

func (portAddr) Network() string { return "virtio-serial" }
func (portAddr) String() string  { return agentPort }

func (portConn) LocalAddr() net.Addr  { return portAddr{} }
func (portConn) RemoteAddr() net.Addr { return portAddr{} }

var errPortGone = errors.New("the agent port is closed")

// oneConn is a listener that gives its one connection, then waits until
// that is closed or the listener is.
type oneConn struct {
	mu    sync.Mutex
	c     net.Conn
	given bool
	gone  chan struct{}
	once  sync.Once
}

func (l *oneConn) Accept() (net.Conn, error) {
	l.mu.Lock()
	if !l.given {
		l.given = true
		l.mu.Unlock()
		return &closeNotify{Conn: l.c, l: l}, nil
	}
	l.mu.Unlock()
	<-l.gone
	return nil, errPortGone
}

func (l *oneConn) Close() error {
	l.once.Do(func() { close(l.gone) })
	return nil
}

func (l *oneConn) Addr() net.Addr { return portAddr{} }

// closeNotify closes its listener with itself: the server then returns.
type closeNotify struct {
	net.Conn
	l *oneConn
}

func (c *closeNotify) Close() error {
	err := c.Conn.Close()
	_ = c.l.Close()
	return err
}
