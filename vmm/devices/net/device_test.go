package net

import (
	"bytes"
	"encoding/binary"
	gonet "net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runx-dev/runx/vmm/virtio"
	"github.com/runx-dev/runx/vmm/virtio/virtiotest"
)

// pair is a device on one end of a packet socket pair (a frame per
// message, as a tap) and the test's end.
func pair(t *testing.T, mac gonet.HardwareAddr) (*Device, *os.File) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	dev, peer := os.NewFile(uintptr(fds[0]), "dev"), os.NewFile(uintptr(fds[1]), "peer")
	t.Cleanup(func() { dev.Close(); peer.Close() })
	for _, fd := range fds {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 1<<20); err != nil {
			t.Fatal(err)
		}
	}
	d, err := New(Config{Backend: dev, MAC: mac})
	if err != nil {
		t.Fatal(err)
	}
	return d, peer
}

// frame is a header (flags, gso type ... zero, num_buffers 0) and n
// bytes of a pattern.
func frame(n int) []byte {
	b := make([]byte, HeaderSize+n)
	for i := range n {
		b[HeaderSize+i] = byte(i * 7)
	}
	return b
}

func TestTransmit(t *testing.T) {
	d, peer := pair(t, nil)
	drv := virtiotest.New(t, d)
	for _, n := range []int{60, 1514, 65000} {
		f := frame(n)
		// The guest's header and its frame in separate buffers, as Linux
		// sends them without ANY_LAYOUT.
		drv.Offer(txQueue, [][]byte{f[:HeaderSize], f[HeaderSize:]})
		drv.Kick(txQueue)
		if _, ok := drv.Next(txQueue, 5*time.Second); !ok {
			t.Fatalf("%d bytes: the buffer was not returned", n)
		}
		got := make([]byte, 70000)
		_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
		m, err := peer.Read(got)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if !bytes.Equal(got[:m], f) {
			t.Errorf("%d bytes: the backend got %d bytes, not the frame with its header", n, m)
		}
	}
}

// rx reads the frame a guest got from the used chains starting at u (the
// first buffer's num_buffers says how many).
func rx(t *testing.T, drv *virtiotest.Driver, first virtiotest.Used) []byte {
	t.Helper()
	var got []byte
	take := func(u virtiotest.Used) {
		left := int(u.Len)
		for _, w := range u.Written {
			k := min(left, len(w))
			got = append(got, w[:k]...)
			left -= k
		}
	}
	take(first)
	num := int(binary.LittleEndian.Uint16(got[10:12]))
	for i := 1; i < num; i++ {
		u, ok := drv.Next(rxQueue, 5*time.Second)
		if !ok {
			t.Fatalf("num_buffers %d, only %d returned", num, i)
		}
		take(u)
	}
	return got
}

func TestReceiveMergeable(t *testing.T) {
	d, peer := pair(t, nil)
	drv := virtiotest.New(t, d)
	for _, n := range []int{60, 1514, 4000, 65000} {
		f := frame(n)
		for range (len(f) + 1535) / 1536 {
			drv.Offer(rxQueue, nil, 1536)
		}
		drv.Kick(rxQueue)
		if _, err := peer.Write(f); err != nil {
			t.Fatal(err)
		}
		u, ok := drv.Next(rxQueue, 5*time.Second)
		if !ok {
			t.Fatalf("%d bytes: not received", n)
		}
		got := rx(t, drv, u)
		want := append([]byte{}, f...)
		binary.LittleEndian.PutUint16(want[10:12], uint16((len(f)+1535)/1536))
		if !bytes.Equal(got, want) {
			t.Errorf("%d bytes: the guest got %d bytes (num_buffers %d), not the frame", n, len(got), binary.LittleEndian.Uint16(got[10:12]))
		}
		if drv.Interrupt(5*time.Second)&virtio.InterruptUsedBuffer == 0 {
			t.Errorf("%d bytes: no interrupt", n)
		}
	}
}

// A frame that arrives before the guest offered room for it waits, whole,
// for the buffers; none is taken meanwhile. The guest notifies only when
// the device asked (EVENT_IDX): a device that gave buffers back must still
// be told of the next one.
func TestReceiveWaitsForBuffers(t *testing.T) {
	d, peer := pair(t, nil)
	drv := virtiotest.New(t, d)
	f := frame(3100)
	if _, err := peer.Write(f); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the frame reaches the device before any buffer
	drv.OfferNotify(rxQueue, nil, 1536)
	if _, ok := drv.Next(rxQueue, 300*time.Millisecond); ok {
		t.Fatal("a 3112-byte frame was put in one 1536-byte buffer")
	}
	drv.OfferNotify(rxQueue, nil, 1536)
	if _, ok := drv.Next(rxQueue, 300*time.Millisecond); ok {
		t.Fatal("a 3112-byte frame was put in two 1536-byte buffers")
	}
	drv.OfferNotify(rxQueue, nil, 1536)
	u, ok := drv.Next(rxQueue, 5*time.Second)
	if !ok {
		t.Fatal("not received once the buffers were there: the device was not notified of them")
	}
	if got := rx(t, drv, u); !bytes.Equal(got[HeaderSize:], f[HeaderSize:]) {
		t.Error("the frame was damaged")
	}
}

// Without mergeable buffers a frame takes one buffer; one larger than the
// buffer is dropped and the buffer kept for the next.
func TestReceiveOneBuffer(t *testing.T) {
	d, peer := pair(t, nil)
	drv := virtiotest.NewAccepting(t, d, ^uint64(FeatureMrgRxbuf))
	drv.Offer(rxQueue, nil, HeaderSize, 1514) // header and frame apart, as Linux's small buffers
	drv.Kick(rxQueue)
	big, small := frame(2000), frame(100)
	for _, f := range [][]byte{big, small} {
		if _, err := peer.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	u, ok := drv.Next(rxQueue, 5*time.Second)
	if !ok {
		t.Fatal("not received")
	}
	got := rx(t, drv, u)
	want := append([]byte{}, small...)
	want[10] = 1
	if !bytes.Equal(got, want) {
		t.Errorf("got %d bytes (num_buffers %d), want the 112-byte frame", len(got), got[10])
	}
}

func TestConfig(t *testing.T) {
	mac := gonet.HardwareAddr{0x02, 0x42, 0xac, 0x11, 0, 2}
	d, _ := pair(t, mac)
	if d.Features()&FeatureMAC == 0 {
		t.Error("MAC not offered")
	}
	drv := virtiotest.New(t, d)
	if got := drv.Config(0, 6); !bytes.Equal(got, mac) {
		t.Errorf("config MAC %x, want %s", got, mac)
	}
	if got := drv.Config(2, 4); !bytes.Equal(got, mac[2:]) {
		t.Errorf("config at 2: %x", got)
	}
	d2, _ := pair(t, nil)
	if d2.Features()&FeatureMAC != 0 {
		t.Error("MAC offered without one")
	}
	if _, err := New(Config{Backend: os.Stdin, MAC: gonet.HardwareAddr{1, 2}}); err == nil {
		t.Error("a 2-byte MAC accepted")
	}
}

func TestTunOffload(t *testing.T) {
	for _, c := range []struct {
		features uint64
		want     int
	}{
		{0, 0},
		{FeatureGuestTSO4, 0}, // segments need checksum offload
		{FeatureGuestCsum, TunCsum},
		{FeatureGuestCsum | FeatureGuestTSO4, TunCsum | TunTSO4},
		{FeatureGuestCsum | FeatureGuestTSO4 | FeatureGuestTSO6 | FeatureGuestECN, TunCsum | TunTSO4 | TunTSO6 | TunTSOECN},
		{FeatureGuestCsum | FeatureGuestECN, TunCsum},
	} {
		if got := tunOffload(c.features); got != c.want {
			t.Errorf("features %#x: offload %#x, want %#x", c.features, got, c.want)
		}
	}
}
