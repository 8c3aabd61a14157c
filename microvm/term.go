package microvm

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/containerd/console"
	"github.com/opencontainers/runc/libcontainer/utils"
	"golang.org/x/sys/unix"

	"github.com/runx-dev/runx/isolation"
	"github.com/runx-dev/runx/microvm/agentpb"
)

// Terminals. A container's terminal is a pty in the guest, made by the
// guest's runx and handed to the agent over a console socket there; the
// agent relays its master in the stream's frames. On the host the other
// end is hostTerm: with --console-socket, a new host pty whose master goes
// to that socket (the engine's end) and whose slave the monitor (or an
// exec's relay) copies to and from the frames, raw, so that the guest's
// line discipline is the only one; without, runx's own terminal. A resize
// of the host terminal (SIGWINCH: the slave is the relay's controlling
// terminal) travels as a resize to the guest's pty.

// hostTerm is the host end of a container's terminal.
type hostTerm struct {
	in  io.Reader
	out io.Writer
	tty console.Console // whose size is the terminal's; nil when there is none
	raw console.Console // put in raw mode, reset at close
}

// openHostTerm opens the host end: a pty whose master is sent to sockPath,
// or, when sockPath is empty, this process's own stdio.
func openHostTerm(sockPath string) (*hostTerm, error) {
	if sockPath == "" {
		t := &hostTerm{in: os.Stdin, out: os.Stdout}
		for _, f := range []*os.File{os.Stdin, os.Stdout, os.Stderr} {
			if c, err := console.ConsoleFromFile(f); err == nil {
				t.tty = c
				break
			}
		}
		if t.tty != nil {
			if err := rawTerm(t.tty); err != nil {
				return nil, fmt.Errorf("terminal: %w", err)
			}
			t.raw = t.tty
		}
		return t, nil
	}
	sock, err := isolation.DialSocket(sockPath, "--console-socket")
	if err != nil {
		return nil, err
	}
	defer sock.Close()
	master, slavePath, err := console.NewPty()
	if err != nil {
		return nil, fmt.Errorf("terminal: %w", err)
	}
	defer master.Close() // the engine's now
	slave, err := os.OpenFile(slavePath, os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("terminal %s: %w", slavePath, err)
	}
	sc, err := console.ConsoleFromFile(slave)
	if err == nil {
		err = rawTerm(sc)
	}
	if err != nil {
		slave.Close()
		return nil, fmt.Errorf("terminal %s: %w", slavePath, err)
	}
	if err := utils.SendRawFd(sock, master.Name(), master.Fd()); err != nil {
		slave.Close()
		return nil, fmt.Errorf("--console-socket %s: %w", sockPath, err)
	}
	// The slave as our controlling terminal: the engine's resizes of the
	// master signal SIGWINCH to us.
	if _, err := unix.Setsid(); err == nil {
		_ = unix.IoctlSetInt(int(slave.Fd()), unix.TIOCSCTTY, 0)
	}
	return &hostTerm{in: slave, out: slave, tty: sc}, nil
}

// rawTerm passes bytes through unchanged: the guest's terminal already did
// the line discipline and output processing (console's SetRaw keeps
// OPOST's newline to CR-NL mapping, which would add a second CR).
func rawTerm(c console.Console) error {
	if err := c.SetRaw(); err != nil {
		return err
	}
	return console.ClearONLCR(c.Fd())
}

// detachStdio gives up the caller's stdio once the process runs with a
// terminal of its own: a caller such as containerd's shim reads a create's
// output to its end, which would not come while we kept it open.
func detachStdio() {
	null, err := os.OpenFile("/dev/null", os.O_RDWR, 0)
	if err != nil {
		return
	}
	defer null.Close()
	for fd := 0; fd <= 2; fd++ {
		_ = unix.Dup2(int(null.Fd()), fd)
	}
}

// size is the terminal's size as a kindResize payload, nil when unknown.
func (t *hostTerm) size() []byte {
	if t == nil || t.tty == nil {
		return nil
	}
	ws, err := t.tty.Size()
	if err != nil || ws.Height == 0 && ws.Width == 0 {
		return nil
	}
	b := make([]byte, 4)
	binary.LittleEndian.PutUint16(b, ws.Height)
	binary.LittleEndian.PutUint16(b[2:], ws.Width)
	return b
}

// close gives our own terminal its mode back.
func (t *hostTerm) close() {
	if t != nil && t.raw != nil {
		_ = t.raw.Reset()
	}
}

// setSize gives a pty master a window size.
func setSize(master *os.File, size *agentpb.WindowSize) error {
	ws := &unix.Winsize{Row: uint16(size.Rows), Col: uint16(size.Cols)}
	return unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws)
}
