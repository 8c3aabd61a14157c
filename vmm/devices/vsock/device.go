// Package vsock is virtio-vsock (virtio 1.2, 5.10) with Firecracker's
// host side: host programs reach the guest through a Unix socket, writing
// "CONNECT <port>\n" and reading "OK <host port>\n" once a guest program
// listening on that vsock port accepted (the connection is closed if none
// did). So the host needs no /dev/vhost-vsock and no vsock support at all.
// A guest's connection to the host (CID 2) port P goes to Config.Dial.
//
// The device keeps the protocol's credit accounting on both sides: it
// buffers at most bufAlloc bytes per connection from the guest, and sends
// the guest no more than the guest said it has room for.
package vsock

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/runx-dev/runx/vmm/virtio"
)

// Type is virtio-vsock's device ID.
const Type = 19

const (
	bufAlloc      = 256 << 10 // buffered per connection, guest to host
	maxPacket     = 64 << 10  // the largest packet Linux sends
	readSize      = 4096      // host to guest per packet: Linux's receive buffer
	firstHostPort = 1 << 30   // the host ports the device gives connections
	rxQueue       = 0
	txQueue       = 1
	// The event queue (2) carries only transport resets (after a
	// migration): never used.
	handshakeTimeout = 5 * time.Second
)

// Config is a vsock device.
type Config struct {
	CID uint64 // the guest's address, 3 or more
	// Listener is where host programs connect (Firecracker's uds_path).
	Listener *net.UnixListener
	// Dial connects a guest's connection to host port p; nil refuses.
	Dial func(port uint32) (net.Conn, error)
}

type key struct{ local, peer uint32 } // the host's port, the guest's

// conn is one connection between a host socket and a guest socket.
type conn struct {
	key         key
	c           net.Conn
	established bool
	closed      bool
	cond        *sync.Cond // on Device.mu: output, credit or close
	// guest to host
	rxCnt, fwdCnt, reported uint32 // received, written to c, fwdCnt as last told
	out                     [][]byte
	peerDone                bool // the guest will send no more
	// host to guest
	txCnt                 uint32
	peerBufAlloc, peerFwd uint32
}

// Device is a virtio-vsock device.
type Device struct {
	cfg     Config
	mu      sync.Mutex
	conns   map[key]*conn
	port    uint32
	pending []packet // to the guest, in order
	active  bool
	act     virtio.Activation
	workers virtio.Workers
}

// New makes the device and starts accepting host connections.
func New(cfg Config) (*Device, error) {
	if cfg.CID < 3 || cfg.CID > 0xffffffff {
		return nil, fmt.Errorf("vsock: guest CID %d: 3 to 2^32-1 (0-2 are reserved)", cfg.CID)
	}
	d := &Device{cfg: cfg, conns: map[key]*conn{}, port: firstHostPort}
	if cfg.Listener != nil {
		go d.accept()
	}
	return d, nil
}

func (*Device) Type() uint32     { return Type }
func (*Device) Features() uint64 { return 0 } // stream sockets only
func (*Device) QueueSizes() []uint16 {
	return []uint16{virtio.MaxQueueSize, virtio.MaxQueueSize, virtio.MaxQueueSize}
}
func (*Device) WriteConfig(uint64, []byte) {}

// ReadConfig: the configuration space is the guest's CID (64-bit).
func (d *Device) ReadConfig(off uint64, data []byte) {
	var b [8]byte
	for i := range b {
		b[i] = byte(d.cfg.CID >> (8 * i))
	}
	clear(data)
	if off < 8 {
		copy(data, b[off:])
	}
}

// Activate starts the receive and transmit queues.
func (d *Device) Activate(a virtio.Activation) error {
	d.mu.Lock()
	d.act, d.active = a, true
	d.mu.Unlock()
	d.workers.Start(a.Kicks[rxQueue], d.serveRx)
	d.workers.Start(a.Kicks[txQueue], d.serveTx)
	return nil
}

// Reset stops the queues and closes every connection.
func (d *Device) Reset() {
	d.workers.Stop()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.active = false
	for _, c := range d.conns {
		d.drop(c)
	}
	d.pending = nil
}

// accept takes host connections until the listener is closed.
func (d *Device) accept() {
	for {
		nc, err := d.cfg.Listener.Accept()
		if err != nil {
			return
		}
		go d.handshake(nc)
	}
}

// handshake reads "CONNECT <port>\n" and asks the guest to accept.
func (d *Device) handshake(nc net.Conn) {
	_ = nc.SetReadDeadline(time.Now().Add(handshakeTimeout))
	line, err := bufio.NewReaderSize(io.LimitReader(nc, 32), 32).ReadString('\n')
	var port uint64
	if err == nil {
		verb, arg, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		if port, err = strconv.ParseUint(arg, 10, 32); !ok || verb != "CONNECT" {
			err = fmt.Errorf("not CONNECT <port>: %q", line)
		}
	}
	if err != nil {
		nc.Close()
		return
	}
	_ = nc.SetReadDeadline(time.Time{})
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.newConn(key{d.freePort(), uint32(port)}, nc)
	d.send(c, opRequest, 0, nil)
}

// freePort is a host port no connection uses.
func (d *Device) freePort() uint32 {
	for {
		p := d.port
		d.port++
		if d.port < firstHostPort {
			d.port = firstHostPort
		}
		inUse := false
		for k := range d.conns {
			inUse = inUse || k.local == p
		}
		if !inUse {
			return p
		}
	}
}

func (d *Device) newConn(k key, nc net.Conn) *conn {
	c := &conn{key: k, c: nc, cond: sync.NewCond(&d.mu)}
	d.conns[k] = c
	return c
}

// send queues a packet of c for the guest (d.mu held).
func (d *Device) send(c *conn, op uint16, flags uint32, data []byte) {
	c.reported = c.fwdCnt
	d.queue(packet{hdr: header{
		SrcPort: c.key.local, DstPort: c.key.peer, Len: uint32(len(data)), Op: op, Flags: flags,
		BufAlloc: bufAlloc, FwdCnt: c.fwdCnt,
	}, data: data})
}

// queue adds p to what goes to the guest and wakes the receive queue.
func (d *Device) queue(p packet) {
	p.hdr.SrcCID, p.hdr.DstCID, p.hdr.Type = HostCID, d.cfg.CID, typeStream
	d.pending = append(d.pending, p)
	if d.active {
		d.act.Kicks[rxQueue].Signal()
	}
}

// reset answers a packet for no connection with RST.
func (d *Device) reset(h header) {
	d.queue(packet{hdr: header{SrcPort: h.DstPort, DstPort: h.SrcPort, Op: opRst}})
}

// drop closes c (d.mu held); its goroutines end.
func (d *Device) drop(c *conn) {
	if c.closed {
		return
	}
	c.closed = true
	delete(d.conns, c.key)
	c.cond.Broadcast()
	c.c.Close()
}

// serveTx takes the guest's packets.
func (d *Device) serveTx() {
	err := virtio.Drain(&d.act, txQueue, func(ch *virtio.Chain) (uint32, error) {
		b, err := ch.ReadAll(d.act.Mem, hdrLen+maxPacket)
		if err != nil || len(b) < hdrLen {
			log.Printf("vsock: a malformed packet dropped: %v (%d bytes)", err, len(b))
			return 0, nil
		}
		h := parseHeader(b)
		if int(h.Len) > len(b)-hdrLen {
			log.Printf("vsock: a packet of %d bytes says %d: dropped", len(b)-hdrLen, h.Len)
			return 0, nil
		}
		d.fromGuest(h, b[hdrLen:hdrLen+int(h.Len)])
		return 0, nil
	})
	if err != nil {
		log.Printf("vsock: %v", err)
	}
}

func (d *Device) fromGuest(h header, data []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if h.Type != typeStream || h.SrcCID != d.cfg.CID || h.DstCID != HostCID {
		if h.Op != opRst {
			d.reset(h)
		}
		return
	}
	c := d.conns[key{h.DstPort, h.SrcPort}]
	if c == nil {
		switch h.Op {
		case opRequest:
			go d.dial(h)
		case opRst:
		default:
			d.reset(h)
		}
		return
	}
	c.peerBufAlloc, c.peerFwd = h.BufAlloc, h.FwdCnt
	c.cond.Broadcast()
	switch h.Op {
	case opResponse:
		if c.established {
			d.send(c, opRst, 0, nil)
			d.drop(c)
			return
		}
		c.established = true
		d.start(c, fmt.Appendf(nil, "OK %d\n", c.key.local))
	case opRW:
		if !c.established || c.rxCnt-c.fwdCnt+uint32(len(data)) > bufAlloc {
			d.send(c, opRst, 0, nil) // beyond the credit it was given
			d.drop(c)
			return
		}
		if len(data) > 0 {
			c.out = append(c.out, append([]byte(nil), data...))
			c.rxCnt += uint32(len(data))
		}
	case opShutdown:
		if h.Flags&shutdownSend != 0 {
			c.peerDone = true
		}
		if h.Flags&(shutdownSend|shutdownRcv) == shutdownSend|shutdownRcv {
			d.send(c, opRst, 0, nil)
			d.drop(c)
		}
	case opCreditRequest:
		d.send(c, opCreditUpdate, 0, nil)
	case opCreditUpdate:
	case opRst:
		d.drop(c)
	default: // a second REQUEST, an unknown operation
		d.send(c, opRst, 0, nil)
		d.drop(c)
	}
}

// dial connects a guest's connection request to the host.
func (d *Device) dial(h header) {
	var nc net.Conn
	err := fmt.Errorf("no host service")
	if d.cfg.Dial != nil {
		nc, err = d.cfg.Dial(h.DstPort)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	k := key{h.DstPort, h.SrcPort}
	if err != nil || d.conns[k] != nil || !d.active {
		if nc != nil {
			nc.Close()
		}
		d.reset(h)
		return
	}
	c := d.newConn(k, nc)
	c.established, c.peerBufAlloc, c.peerFwd = true, h.BufAlloc, h.FwdCnt
	d.send(c, opResponse, 0, nil)
	d.start(c, nil)
}

// start runs c's two directions; first is written to the host first.
func (d *Device) start(c *conn, first []byte) {
	go d.toHost(c, first)
	go d.toGuest(c)
}

// toHost writes what the guest sent to the host socket.
func (d *Device) toHost(c *conn, first []byte) {
	if _, err := c.c.Write(first); err != nil {
		d.mu.Lock()
		d.send(c, opRst, 0, nil)
		d.drop(c)
		d.mu.Unlock()
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for {
		for len(c.out) == 0 && !c.closed && !c.peerDone {
			c.cond.Wait()
		}
		if c.closed {
			return
		}
		if len(c.out) == 0 { // the guest shut its sending down
			if cw, ok := c.c.(interface{ CloseWrite() error }); ok {
				_ = cw.CloseWrite()
			}
			return
		}
		out := net.Buffers(c.out)
		c.out = nil
		d.mu.Unlock()
		n, err := out.WriteTo(c.c)
		d.mu.Lock()
		if c.closed {
			return
		}
		if err != nil {
			d.send(c, opRst, 0, nil)
			d.drop(c)
			return
		}
		c.fwdCnt += uint32(n)
		// Tell the guest of the room once what it believes is left is
		// less than a packet's worth.
		if bufAlloc-(c.rxCnt-c.reported) < maxPacket {
			d.send(c, opCreditUpdate, 0, nil)
		}
	}
}

// toGuest reads the host socket into packets, within the guest's credit.
func (d *Device) toGuest(c *conn) {
	buf := make([]byte, readSize)
	d.mu.Lock()
	defer d.mu.Unlock()
	for {
		credit := c.peerBufAlloc - (c.txCnt - c.peerFwd)
		for !c.closed && (credit == 0 || credit > c.peerBufAlloc) {
			c.cond.Wait()
			credit = c.peerBufAlloc - (c.txCnt - c.peerFwd)
		}
		if c.closed {
			return
		}
		d.mu.Unlock()
		n, err := c.c.Read(buf[:min(credit, readSize)])
		d.mu.Lock()
		if c.closed {
			return
		}
		if n > 0 {
			c.txCnt += uint32(n)
			d.send(c, opRW, 0, append([]byte(nil), buf[:n]...))
		}
		if err == io.EOF {
			d.send(c, opShutdown, shutdownSend, nil)
			return
		}
		if err != nil {
			d.send(c, opRst, 0, nil)
			d.drop(c)
			return
		}
	}
}

// serveRx fills the guest's receive buffers with what is queued for it,
// splitting a packet larger than a buffer.
func (d *Device) serveRx() {
	q, mem := d.act.Queues[rxQueue], d.act.Mem
	pushed := false
	d.mu.Lock()
	for len(d.pending) > 0 {
		ch, err := q.Pop(mem)
		if err != nil {
			log.Printf("vsock: receive queue: %v", err)
			break
		}
		if ch == nil {
			break
		}
		p := &d.pending[0]
		_, room := ch.Sizes()
		var n uint64
		if room >= hdrLen {
			n = min(uint64(len(p.data)), room-hdrLen)
		}
		h := p.hdr
		h.Len = uint32(n)
		written, err := ch.Fill(mem, append(h.bytes(), p.data[:n]...))
		if err != nil || room < hdrLen {
			log.Printf("vsock: a receive buffer of %d bytes: %v", room, err)
			written = 0
		} else if n < uint64(len(p.data)) {
			p.data = p.data[n:]
		} else {
			d.pending = d.pending[1:]
		}
		if err := q.Push(mem, ch.Head, uint32(written)); err != nil {
			log.Printf("vsock: receive queue: %v", err)
			break
		}
		pushed = true
	}
	d.mu.Unlock()
	if !pushed {
		return
	}
	if ok, err := q.NeedsInterrupt(mem); ok || err != nil {
		d.act.Interrupt(virtio.InterruptUsedBuffer)
	}
}
