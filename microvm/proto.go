package microvm

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// The agent protocol: frames over the one virtio-serial port between the
// host's monitor and the guest's agent. A frame is a 9-byte header (payload
// length, kind, stream) and its payload. A stream is one process the agent
// runs for the monitor: the monitor opens it with a request, its stdin,
// stdout and stderr travel as data frames, and it ends with an exit frame.
// Requests are JSON. (No vsock here: the hosts runx is tested on have no
// /dev/vhost-vsock; the frames would travel over it unchanged.)

const (
	kindRun     byte = iota + 1 // monitor -> agent: runRequest (JSON), opens the stream
	kindStdin                   // monitor -> agent: data for the process's stdin
	kindEOF                     // monitor -> agent: stdin is closed
	kindSignal                  // monitor -> agent: one byte, a signal for the process
	kindStdout                  // agent -> monitor
	kindStderr                  // agent -> monitor
	kindExit                    // agent -> monitor: exitMsg (JSON), the stream is over
	kindReady                   // agent -> monitor, stream 0: the agent runs
	kindReap                    // monitor -> agent: pid (JSON); exit frame when that guest process ends
	kindStarted                 // agent -> monitor (and on to an exec's client): the stream's process runs
	kindResize                  // monitor -> agent (from an exec's client too): rows and columns, 2 bytes each, for the stream's terminal
	kindPorts                   // agent -> monitor, stream 0: the guest's listening TCP ports (JSON), when they change (portfwd.go)
	kindDial                    // monitor -> agent: dialRequest (JSON), opens a forwarded connection's stream
)

// maxPayload bounds a frame: the stdio relay sends at most this at a time.
const maxPayload = 64 << 10

type frame struct {
	kind    byte
	stream  uint32
	payload []byte
}

// runRequest starts a process in the guest: argv[0] is a runx command line
// run by the agent's own binary when Runx is set, else a guest program.
type runRequest struct {
	Argv  []string `json:"argv"`
	Runx  bool     `json:"runx,omitempty"`
	Stdin bool     `json:"stdin,omitempty"` // the process gets a stdin pipe (else /dev/null)
	// Files are written (made with their directories) before it starts.
	Files map[string][]byte `json:"files,omitempty"`
	// SignalPid names a file holding the pid that signals for the stream
	// go to (runx exec's --pid-file: the exec'd process, not runx).
	SignalPid string `json:"signalPid,omitempty"`
	// Console is a console socket path the agent listens on: the process
	// sends a terminal's master there (runx's --console-socket), which the
	// agent then relays as the stream's stdin and stdout.
	Console string `json:"console,omitempty"`
	// WaitPid names a pid file: when the process exits 0, the stream goes
	// on with the process named there and ends with its exit (runx exec -d
	// in the guest, whose program the agent reaps).
	WaitPid string `json:"waitPid,omitempty"`
	// Sysctls are set (in the agent's namespaces) before it starts.
	Sysctls map[string]string `json:"sysctls,omitempty"`
	// Net, instead of a process: the guest's NIC is to take this config.
	Net *netConfig `json:"net,omitempty"`
}

// exitMsg ends a stream: the process's wait status, or an error starting it.
type exitMsg struct {
	Status int    `json:"status"` // a Linux wait status
	Err    string `json:"err,omitempty"`
}

// ok tells a process that exited 0 from one that failed or did not start.
func (ex exitMsg) ok() bool { return ex.Err == "" && ex.Status == 0 }

// conn is one end of the channel.
type conn struct {
	rw io.ReadWriter
	mu sync.Mutex // one writer at a time
}

func (c *conn) send(kind byte, stream uint32, payload []byte) error {
	for {
		n := min(len(payload), maxPayload)
		var h [9]byte
		binary.LittleEndian.PutUint32(h[0:], uint32(n))
		h[4] = kind
		binary.LittleEndian.PutUint32(h[5:], stream)
		c.mu.Lock()
		_, err := c.rw.Write(append(h[:], payload[:n]...))
		c.mu.Unlock()
		if err != nil {
			return fmt.Errorf("agent channel: %w", err)
		}
		payload = payload[n:]
		if len(payload) == 0 {
			return nil
		}
	}
}

func (c *conn) sendJSON(kind byte, stream uint32, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.send(kind, stream, b)
}

// recv reads the next frame; only one goroutine reads.
func (c *conn) recv() (frame, error) {
	var h [9]byte
	if _, err := io.ReadFull(c.rw, h[:]); err != nil {
		return frame{}, err
	}
	n := binary.LittleEndian.Uint32(h[0:])
	if n > maxPayload {
		return frame{}, errors.New("agent channel: a frame larger than the protocol allows")
	}
	f := frame{kind: h[4], stream: binary.LittleEndian.Uint32(h[5:]), payload: make([]byte, n)}
	if _, err := io.ReadFull(c.rw, f.payload); err != nil {
		return frame{}, err
	}
	return f, nil
}
