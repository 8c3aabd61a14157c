package microvm

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/runx-dev/runx/microvm/agentpb"
	"golang.org/x/sys/unix"
)

// guestStream is one agent Stream call as the monitor makes it: a guest
// process (or a forwarded connection), where its output goes, and its start
// and exit.
type guestStream struct {
	id      uint32
	stdout  io.Writer
	stderr  io.Writer // nil: with stdout
	client  *conn     // told when the process runs (kindStarted); nil: nobody
	started chan struct{}
	exited  chan exitMsg // its one exit
	once    sync.Once
	mu      sync.Mutex // one Send at a time
	cs      agentpb.Agent_StreamClient
	in      *credits             // stdin messages it may send (flow.go)
	outq    chan *agentpb.Output // output and exit, in order, for write; closed when the call ends
}

// newStream names a stream whose output goes to stdout and stderr (nil:
// with stdout) and whose start is told to client; run or dial opens it.
func (m *monitor) newStream(stdout, stderr io.Writer, client *conn) *guestStream {
	m.mu.Lock()
	id := m.next
	m.next++
	m.mu.Unlock()
	if stdout == nil {
		stdout = io.Discard
	}
	return &guestStream{id: id, stdout: stdout, stderr: stderr, client: client,
		started: make(chan struct{}), exited: make(chan exitMsg, 1),
		in: newCredits(), outq: make(chan *agentpb.Output, window+8)}
}

// run opens g to run req in the guest.
func (m *monitor) run(g *guestStream, req *agentpb.Run) error {
	req.Id = g.id
	return m.open(g, &agentpb.Input{Kind: &agentpb.Input_Run{Run: req}})
}

// open makes g's call with its first input and reads its outputs until it
// closes.
func (m *monitor) open(g *guestStream, first *agentpb.Input) error {
	cs, err := m.agent.Stream(context.Background())
	if err != nil {
		return fmt.Errorf("the guest agent: %w", err)
	}
	g.cs = cs
	if err := g.send(first); err != nil {
		return fmt.Errorf("the guest agent: %w", err)
	}
	go g.read()
	go g.write()
	return nil
}

// read takes the stream's outputs as they come: a start and the agent's
// stdin acknowledgements at once, output and exit queued for write (at
// most a window of output: read never waits, so ttrpc never finds the
// stream's buffer full).
func (g *guestStream) read() {
	defer close(g.outq)
	defer g.in.close()
	for {
		out, err := g.cs.Recv()
		if err != nil {
			return
		}
		switch k := out.Kind.(type) {
		case *agentpb.Output_Ack:
			g.in.give(k.Ack)
		case *agentpb.Output_Started:
			g.once.Do(func() { close(g.started) })
			if g.client != nil {
				_ = g.client.send(kindStarted, nil)
			}
		default:
			g.outq <- out
		}
	}
}

// write writes the stream's output where it goes, acknowledging each
// message once written, and passes on its exit after the output before it.
func (g *guestStream) write() {
	exited := false
	for out := range g.outq {
		switch k := out.Kind.(type) {
		case *agentpb.Output_Stdout:
			_, _ = g.stdout.Write(k.Stdout)
			g.ack()
		case *agentpb.Output_Stderr:
			w := g.stderr
			if w == nil {
				w = g.stdout
			}
			_, _ = w.Write(k.Stderr)
			g.ack()
		case *agentpb.Output_Exit:
			if !exited {
				exited = true
				g.exited <- exitMsg{Status: int(k.Exit.Status), Err: k.Exit.Err}
			}
		}
	}
	if !exited {
		// The call or the connection broke: the VM is gone.
		g.exited <- exitMsg{Status: int(unix.SIGKILL), Err: vmEnded}
	}
}

func (g *guestStream) ack() {
	_ = g.send(&agentpb.Input{Kind: &agentpb.Input_Ack{Ack: 1}})
}

// waitStart waits until the stream's process started (true) or ended
// before it could start (false, how it ended). Neither within limit (a
// guest that hangs) is a timeout error.
func (g *guestStream) waitStart(limit time.Duration) (bool, exitMsg, error) {
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case <-timer.C:
		return false, exitMsg{}, fmt.Errorf("the guest neither started nor ended it within %v", limit)
	case <-g.started:
		return true, exitMsg{}, nil
	case ex := <-g.exited:
		select {
		case <-g.started:
			g.exited <- ex // its exit came after its start: for the next wait
			return true, exitMsg{}, nil
		default:
			return false, ex, nil
		}
	}
}

func (g *guestStream) send(in *agentpb.Input) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cs == nil {
		return fmt.Errorf("stream %d is not open", g.id)
	}
	return g.cs.Send(in)
}

func (g *guestStream) eof() error {
	return g.send(&agentpb.Input{Kind: &agentpb.Input_Eof{Eof: true}})
}

func (g *guestStream) signal(sig unix.Signal) error {
	return g.send(&agentpb.Input{Kind: &agentpb.Input_Signal{Signal: int32(sig)}})
}

// resize sends a terminal size as the control socket carries it (rows and
// columns, 2 bytes each); a malformed one is dropped.
func (g *guestStream) resize(b []byte) error {
	if len(b) != 4 {
		return nil
	}
	ws := &agentpb.WindowSize{Rows: uint32(binary.LittleEndian.Uint16(b)), Cols: uint32(binary.LittleEndian.Uint16(b[2:]))}
	return g.send(&agentpb.Input{Kind: &agentpb.Input_Resize{Resize: ws}})
}

// input passes on a control socket frame for g's process: stdin, EOF, a
// signal or a terminal size.
func (g *guestStream) input(f frame) {
	switch f.kind {
	case kindStdin:
		_ = g.sendStdin(f.payload)
	case kindEOF:
		_ = g.eof()
	case kindSignal:
		if len(f.payload) == 1 {
			_ = g.signal(unix.Signal(f.payload[0]))
		}
	case kindResize:
		_ = g.resize(f.payload)
	}
}

// stdinWriter writes what it is given to a stream's stdin.
type stdinWriter struct{ g *guestStream }

func (w stdinWriter) Write(p []byte) (int, error) {
	if err := w.g.sendStdin(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// sendStdin sends p as stdin once the agent has room for it (flow.go).
func (g *guestStream) sendStdin(p []byte) error {
	if !g.in.take() {
		return fmt.Errorf("stream %d ended", g.id)
	}
	return g.send(&agentpb.Input{Kind: &agentpb.Input_Stdin{Stdin: p}})
}

// relayStdin copies in (the process's stdin, or a terminal) to g's stdin,
// then closes that.
func relayStdin(g *guestStream, in io.Reader) {
	_, _ = io.Copy(stdinWriter{g}, in)
	_ = g.eof()
}
