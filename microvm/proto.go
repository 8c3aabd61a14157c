package microvm

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// The monitor's control socket (monitor.sock in the container's state
// directory): how runx commands on the host (start, kill, exec, the exec and
// pod members' relays, ps, update, events) reach a VM's monitor. Host-local
// frames on a unix socket: a 5-byte header (payload length, kind) and its
// payload; a connection carries one request. A client sends one request (kindRun, a control) and gets
// its answer as a kindExit; an exec or a pod's later container also streams
// its stdio, signals and terminal size both ways before that. (The guest
// side, the agent, speaks ttrpc: channel.go.)

const (
	kindRun     byte = iota + 1 // client -> monitor: the request (control, JSON)
	kindStdin                   // client -> monitor: data for the process's stdin
	kindEOF                     // client -> monitor: stdin is closed
	kindSignal                  // client -> monitor: one byte, a signal for the process
	kindStdout                  // monitor -> client
	kindStderr                  // monitor -> client
	kindExit                    // monitor -> client: exitMsg (JSON), the request is over
	kindStarted                 // monitor -> client: the process runs
	kindResize                  // client -> monitor: rows and columns, 2 bytes each, for the process's terminal
)

// maxPayload bounds a frame of the stdio streams: the relay sends at most
// this at a time. A request or an answer (kindRun, kindExit) is one frame of
// up to maxMessage: an exec's environment may be megabytes.
const (
	maxPayload = 64 << 10
	maxMessage = 16 << 20
)

// limit is the largest payload of one frame of kind.
func limit(kind byte) int {
	if kind == kindRun || kind == kindExit {
		return maxMessage
	}
	return maxPayload
}

type frame struct {
	kind    byte
	payload []byte
}

// exitMsg ends a request: a process's wait status, or why it failed.
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

func (c *conn) send(kind byte, payload []byte) error {
	if limit(kind) == maxMessage && len(payload) > maxMessage {
		return fmt.Errorf("the monitor's control socket: a message of %d bytes is larger than the %d the protocol allows", len(payload), maxMessage)
	}
	for {
		n := min(len(payload), limit(kind))
		var h [5]byte
		binary.LittleEndian.PutUint32(h[0:], uint32(n))
		h[4] = kind
		c.mu.Lock()
		_, err := c.rw.Write(append(h[:], payload[:n]...))
		c.mu.Unlock()
		if err != nil {
			return fmt.Errorf("the monitor's control socket: %w", err)
		}
		payload = payload[n:]
		if len(payload) == 0 {
			return nil
		}
	}
}

func (c *conn) sendJSON(kind byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.send(kind, b)
}

// recv reads the next frame; only one goroutine reads.
func (c *conn) recv() (frame, error) {
	var h [5]byte
	if _, err := io.ReadFull(c.rw, h[:]); err != nil {
		return frame{}, err
	}
	n := binary.LittleEndian.Uint32(h[0:])
	if n > uint32(limit(h[4])) {
		return frame{}, errors.New("the monitor's control socket: a frame larger than the protocol allows")
	}
	f := frame{kind: h[4], payload: make([]byte, n)}
	if _, err := io.ReadFull(c.rw, f.payload); err != nil {
		return frame{}, err
	}
	return f, nil
}

// sendStdin copies in (a relay's stdin, or its terminal) to the monitor as
// the process's stdin, then closes that.
func sendStdin(c *conn, in io.Reader) {
	_, _ = io.Copy(frameWriter{c, kindStdin}, in)
	_ = c.send(kindEOF, nil)
}
