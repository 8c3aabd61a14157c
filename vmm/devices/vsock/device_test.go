package vsock

import (
	"bufio"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runx-dev/runx/vmm/virtio/virtiotest"
)

const guestCID = 3

// guest is the guest's side of the device in a test: the driver, with
// receive buffers as Linux 6.1 offers them (a header, then 4 KiB).
type guest struct {
	t *testing.T
	d *virtiotest.Driver
}

func newGuest(t *testing.T, cfg Config) (*guest, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "v.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	cfg.CID, cfg.Listener = guestCID, l
	dev, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g := &guest{t: t, d: virtiotest.New(t, dev)}
	for range 8 {
		g.d.Offer(rxQueue, nil, hdrLen, readSize)
	}
	g.d.Kick(rxQueue)
	return g, path
}

// recv is the next packet the device sent; the buffer goes back.
func (g *guest) recv() (header, []byte) {
	g.t.Helper()
	u, ok := g.d.Next(rxQueue, 5*time.Second)
	if !ok {
		g.t.Fatal("no packet from the device")
	}
	b := append(append([]byte(nil), u.Written[0]...), u.Written[1]...)[:u.Len]
	g.d.Offer(rxQueue, nil, hdrLen, readSize)
	g.d.Kick(rxQueue)
	return parseHeader(b), b[hdrLen:]
}

// quiet checks that the device sends nothing for a while.
func (g *guest) quiet() {
	g.t.Helper()
	if u, ok := g.d.Next(rxQueue, 100*time.Millisecond); ok {
		g.t.Fatalf("unexpected packet %+v", parseHeader(u.Written[0]))
	}
}

func (g *guest) send(h header, data string) {
	h.SrcCID, h.DstCID, h.Type, h.Len = guestCID, HostCID, typeStream, uint32(len(data))
	if h.BufAlloc == 0 {
		h.BufAlloc = 1 << 20
	}
	g.d.Offer(txQueue, [][]byte{h.bytes(), []byte(data)})
	g.d.Kick(txQueue)
	if _, ok := g.d.Next(txQueue, 5*time.Second); !ok {
		g.t.Fatal("the device did not take a packet")
	}
}

func connect(t *testing.T, path, line string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, line); err != nil {
		t.Fatal(err)
	}
	return c, bufio.NewReader(c)
}

// A host program connects to guest port 52, the guest accepts, data flows
// both ways, the guest closes.
func TestHostConnects(t *testing.T) {
	g, path := newGuest(t, Config{})
	c, r := connect(t, path, "CONNECT 52\n")
	req, _ := g.recv()
	if req.Op != opRequest || req.DstPort != 52 || req.SrcCID != HostCID || req.DstCID != guestCID || req.SrcPort < firstHostPort || req.BufAlloc != bufAlloc {
		t.Fatalf("request %+v", req)
	}
	g.send(header{SrcPort: 52, DstPort: req.SrcPort, Op: opResponse}, "")
	line, err := r.ReadString('\n')
	if want := "OK " + strconv.Itoa(int(req.SrcPort)) + "\n"; err != nil || line != want {
		t.Fatalf("handshake answer %q, %v; want %q", line, err, want)
	}
	if _, err := io.WriteString(c, "ping"); err != nil {
		t.Fatal(err)
	}
	h, data := g.recv()
	if h.Op != opRW || string(data) != "ping" || h.DstPort != 52 {
		t.Fatalf("data packet %+v %q", h, data)
	}
	g.send(header{SrcPort: 52, DstPort: req.SrcPort, Op: opRW}, "pong")
	b := make([]byte, 4)
	if _, err := io.ReadFull(r, b); err != nil || string(b) != "pong" {
		t.Fatalf("host read %q, %v", b, err)
	}
	// The guest closes: the device resets the connection and the host
	// sees the end.
	g.send(header{SrcPort: 52, DstPort: req.SrcPort, Op: opShutdown, Flags: shutdownRcv | shutdownSend}, "")
	if h, _ := g.recv(); h.Op != opRst {
		t.Fatalf("after shutdown: %+v", h)
	}
	if _, err := r.ReadByte(); err != io.EOF {
		t.Fatalf("host read after the guest closed: %v", err)
	}
}

// No guest program listens: the guest resets, the host's connection is
// closed without an OK.
func TestGuestRefuses(t *testing.T) {
	g, path := newGuest(t, Config{})
	_, r := connect(t, path, "CONNECT 99\n")
	req, _ := g.recv()
	g.send(header{SrcPort: 99, DstPort: req.SrcPort, Op: opRst}, "")
	if line, err := r.ReadString('\n'); err != io.EOF || line != "" {
		t.Fatalf("after a refusal: %q, %v", line, err)
	}
}

// A host program that does not speak the handshake is closed and the
// guest never hears of it.
func TestBadHandshake(t *testing.T) {
	for _, line := range []string{"HELLO 1\n", "CONNECT x\n", "CONNECT 99999999999\n", "CONNECT\n"} {
		g, path := newGuest(t, Config{})
		_, r := connect(t, path, line)
		if _, err := r.ReadByte(); err != io.EOF {
			t.Errorf("%q: connection not closed: %v", line, err)
		}
		g.quiet()
	}
}

// The device sends no more than the guest has room for, and goes on when
// the guest reports it consumed data.
func TestCredit(t *testing.T) {
	g, path := newGuest(t, Config{})
	c, r := connect(t, path, "CONNECT 7\n")
	req, _ := g.recv()
	g.send(header{SrcPort: 7, DstPort: req.SrcPort, Op: opResponse, BufAlloc: 10}, "")
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, strings.Repeat("x", 25)); err != nil {
		t.Fatal(err)
	}
	got := 0
	for got < 10 {
		h, data := g.recv()
		if h.Op != opRW {
			t.Fatalf("%+v", h)
		}
		got += len(data)
	}
	if got != 10 {
		t.Fatalf("sent %d bytes with a credit of 10", got)
	}
	g.quiet()
	g.send(header{SrcPort: 7, DstPort: req.SrcPort, Op: opCreditUpdate, BufAlloc: 10, FwdCnt: 10}, "")
	for got < 20 {
		_, data := g.recv()
		got += len(data)
	}
	if got != 20 {
		t.Fatalf("sent %d bytes after a credit of 20", got)
	}
	// A guest that sends beyond the device's credit is reset.
	g.send(header{SrcPort: 7, DstPort: req.SrcPort, Op: opRW, BufAlloc: 10, FwdCnt: 20}, strings.Repeat("y", 100))
	big := strings.Repeat("z", 60<<10)
	for range 5 {
		g.send(header{SrcPort: 7, DstPort: req.SrcPort, Op: opRW, BufAlloc: 10, FwdCnt: 20}, big)
	}
}

// A guest's connection to the host goes to Dial; a port Dial refuses, and
// a packet for no connection, get a reset.
func TestGuestConnects(t *testing.T) {
	l, err := net.Listen("unix", filepath.Join(t.TempDir(), "host.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	g, _ := newGuest(t, Config{Dial: func(port uint32) (net.Conn, error) {
		if port != 1024 {
			return nil, io.ErrClosedPipe
		}
		return net.Dial("unix", l.Addr().String())
	}})
	g.send(header{SrcPort: 5000, DstPort: 1024, Op: opRequest}, "")
	if h, _ := g.recv(); h.Op != opResponse || h.SrcPort != 1024 || h.DstPort != 5000 {
		t.Fatalf("answer to a request: %+v", h)
	}
	host, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	g.send(header{SrcPort: 5000, DstPort: 1024, Op: opRW}, "hi")
	b := make([]byte, 2)
	if _, err := io.ReadFull(host, b); err != nil || string(b) != "hi" {
		t.Fatalf("host read %q %v", b, err)
	}
	g.send(header{SrcPort: 5001, DstPort: 80, Op: opRequest}, "")
	if h, _ := g.recv(); h.Op != opRst || h.DstPort != 5001 {
		t.Fatalf("answer to a refused request: %+v", h)
	}
	g.send(header{SrcPort: 6000, DstPort: 6000, Op: opRW}, "stray")
	if h, _ := g.recv(); h.Op != opRst {
		t.Fatalf("answer to a stray packet: %+v", h)
	}
}
