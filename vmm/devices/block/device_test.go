package block

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/runx-dev/runx/vmm/virtio/virtiotest"
)

// disk is a 64-sector image whose sector i is filled with byte i.
func disk(t *testing.T, ro bool) (*Device, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "disk.img")
	var img []byte
	for i := range 64 {
		img = append(img, bytes.Repeat([]byte{byte(i)}, SectorSize)...)
	}
	if err := os.WriteFile(path, append(img, 1, 2, 3), 0o600); err != nil { // a partial sector at the end: not the disk's
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	d, err := New(Config{File: f, ReadOnly: ro, ID: "runx-test-disk"})
	if err != nil {
		t.Fatal(err)
	}
	return d, path
}

func header(typ uint32, sector uint64) []byte {
	h := make([]byte, headerSize)
	binary.LittleEndian.PutUint32(h, typ)
	binary.LittleEndian.PutUint64(h[8:], sector)
	return h
}

// do sends one request and returns the bytes the device said it wrote,
// the status and the data buffers it filled.
func do(t *testing.T, drv *virtiotest.Driver, readable [][]byte, writable ...uint32) (uint32, byte, [][]byte) {
	t.Helper()
	drv.Offer(0, readable, append(writable, 1)...)
	drv.Kick(0)
	u, ok := drv.Next(0, 5*time.Second)
	if !ok {
		t.Fatal("the request was not answered")
	}
	return u.Len, u.Written[len(u.Written)-1][0], u.Written[:len(u.Written)-1]
}

func TestRequests(t *testing.T) {
	d, path := disk(t, false)
	drv := virtiotest.New(t, d)
	if c := binary.LittleEndian.Uint64(drv.Config(0, 8)); c != 64 {
		t.Errorf("capacity %d sectors, want 64", c)
	}

	// A read of sectors 3 and 4 into two buffers.
	n, st, data := do(t, drv, [][]byte{header(typeIn, 3)}, SectorSize, SectorSize)
	if st != statusOK || n != 2*SectorSize+1 || data[0][0] != 3 || data[1][SectorSize-1] != 4 {
		t.Errorf("read: status %d, %d bytes, data %d %d", st, n, data[0][0], data[1][SectorSize-1])
	}
	// A write of sector 10, the header and data in one buffer.
	payload := bytes.Repeat([]byte{0xee}, SectorSize)
	n, st, _ = do(t, drv, [][]byte{append(header(typeOut, 10), payload...)})
	if st != statusOK || n != 1 {
		t.Errorf("write: status %d, %d bytes", st, n)
	}
	img, _ := os.ReadFile(path)
	if !bytes.Equal(img[10*SectorSize:11*SectorSize], payload) || img[11*SectorSize] != 11 {
		t.Error("the write did not reach sector 10 alone")
	}
	if _, st, _ = do(t, drv, [][]byte{header(typeFlush, 0)}); st != statusOK {
		t.Errorf("flush: status %d", st)
	}
	if n, st, data = do(t, drv, [][]byte{header(typeGetID, 0)}, idSize); st != statusOK || n != idSize+1 || string(bytes.TrimRight(data[0], "\x00")) != "runx-test-disk" {
		t.Errorf("get id: status %d, %d bytes, %q", st, n, data[0])
	}
	for _, c := range []struct {
		name string
		req  [][]byte
		buf  []uint32
		want byte
	}{
		{"read past the end", [][]byte{header(typeIn, 63)}, []uint32{2 * SectorSize}, statusIOErr},
		{"read at a huge sector", [][]byte{header(typeIn, 1<<60)}, []uint32{SectorSize}, statusIOErr},
		{"write past the end", [][]byte{header(typeOut, 64), payload}, nil, statusIOErr},
		{"discard", [][]byte{header(11, 0)}, nil, statusUnsupp},
	} {
		if _, st, _ := do(t, drv, c.req, c.buf...); st != c.want {
			t.Errorf("%s: status %d, want %d", c.name, st, c.want)
		}
	}
	img2, _ := os.ReadFile(path)
	if !bytes.Equal(img, img2) {
		t.Error("a refused request changed the image")
	}
}

func TestReadOnly(t *testing.T) {
	d, path := disk(t, true)
	if d.Features()&FeatureRO == 0 {
		t.Error("read-only not offered")
	}
	drv := virtiotest.New(t, d)
	before, _ := os.ReadFile(path)
	if _, st, _ := do(t, drv, [][]byte{header(typeOut, 0), make([]byte, SectorSize)}); st != statusIOErr {
		t.Errorf("a write to a read-only disk: status %d, want an I/O error", st)
	}
	if _, st, data := do(t, drv, [][]byte{header(typeIn, 5)}, SectorSize); st != statusOK || data[0][0] != 5 {
		t.Errorf("a read of a read-only disk: status %d", st)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("a read-only disk changed")
	}
}

// A chain without a header or status byte stops the queue: no answer.
func TestMalformed(t *testing.T) {
	d, _ := disk(t, false)
	drv := virtiotest.New(t, d)
	drv.Offer(0, [][]byte{{0, 0, 0, 0}}, 1)
	drv.Kick(0)
	if _, ok := drv.Next(0, 200*time.Millisecond); ok {
		t.Error("a 4-byte header was answered")
	}
}

func TestBadConfig(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "small")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write([]byte("tiny")); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{File: f}); err == nil {
		t.Error("a 4-byte disk accepted")
	}
}
