package libct

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/containerd/console"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/utils"
	"github.com/runx-dev/runx/isolation"
)

// stdio is how runx wires a process's standard streams: inherited, a terminal
// handed to a --console-socket, or a terminal runx itself relays (foreground).
type stdio struct {
	host      console.Console // our own terminal, put in raw mode while relaying
	pty       console.Console // the container's terminal master
	consoleC  chan error
	postStart []io.Closer
	copies    sync.WaitGroup
}

func setupIO(p *libcontainer.Process, terminal, detach bool, sockPath string) (*stdio, error) {
	t := &stdio{}
	if !terminal {
		// The process gets runx's own stdio: the caller (a shim, a shell) owns it.
		p.Stdin, p.Stdout, p.Stderr = os.Stdin, os.Stdout, os.Stderr
		return t, nil
	}
	if detach {
		sock, err := isolation.DialSocket(sockPath, "--console-socket")
		if err != nil {
			return nil, err
		}
		t.postStart = append(t.postStart, sock)
		p.ConsoleSocket = sock
		return t, nil
	}
	if err := t.findHostConsole(); err != nil {
		return nil, err
	}
	parent, child, err := utils.NewSockPair("console")
	if err != nil {
		return nil, err
	}
	p.ConsoleSocket = child
	t.postStart = append(t.postStart, parent, child)
	t.consoleC = make(chan error, 1)
	go func() { t.consoleC <- t.receivePty(parent) }()
	return t, nil
}

func (t *stdio) findHostConsole() error {
	for _, f := range []*os.File{os.Stderr, os.Stdout, os.Stdin} {
		c, err := console.ConsoleFromFile(f)
		if err == nil {
			t.host = c
			return nil
		}
		if !errors.Is(err, console.ErrNotAConsole) {
			return fmt.Errorf("unable to get console: %w", err)
		}
	}
	f, err := os.Open("/dev/tty")
	if err != nil {
		return fmt.Errorf("process.terminal is true but runx has no terminal to relay it to: %w", err)
	}
	c, err := console.ConsoleFromFile(f)
	if err != nil {
		return fmt.Errorf("unable to get console: %w", err)
	}
	t.host = c
	return nil
}

func (t *stdio) receivePty(sock *os.File) error {
	f, err := utils.RecvFile(sock)
	if err != nil {
		return err
	}
	c, err := console.ConsoleFromFile(f)
	if err != nil {
		f.Close()
		return err
	}
	if err := console.ClearONLCR(c.Fd()); err != nil {
		return err
	}
	t.pty = c
	if err := t.host.SetRaw(); err != nil {
		return err
	}
	go func() { _, _ = io.Copy(c, os.Stdin) }()
	t.copies.Add(1)
	go func() {
		defer t.copies.Done()
		_, _ = io.Copy(os.Stdout, c)
	}()
	return nil
}

func (t *stdio) waitConsole() error {
	if t.consoleC != nil {
		return <-t.consoleC
	}
	return nil
}

func (t *stdio) closePostStart() {
	for _, c := range t.postStart {
		c.Close()
	}
	t.postStart = nil
}

// resize copies our terminal's size to the container's.
func (t *stdio) resize() {
	if t.host == nil || t.pty == nil {
		return
	}
	if ws, err := t.host.Size(); err == nil {
		_ = t.pty.Resize(ws)
	}
}

// wait lets the relay drain what the process wrote before it exited.
func (t *stdio) wait() {
	if t.pty != nil {
		t.copies.Wait()
	}
}

func (t *stdio) close() {
	t.closePostStart()
	if t.pty != nil {
		t.pty.Close()
	}
	if t.host != nil {
		_ = t.host.Reset()
	}
}
