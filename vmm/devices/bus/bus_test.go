package bus

import "testing"

type rec struct{ off uint64 }

func (r *rec) Read(off uint64, data []byte)  { r.off = off; data[0] = 0x42 }
func (r *rec) Write(off uint64, data []byte) { r.off = off }

func TestBus(t *testing.T) {
	var b Bus
	a, c := &rec{}, &rec{}
	if err := b.Insert(0x3f8, 8, a); err != nil {
		t.Fatal(err)
	}
	if err := b.Insert(0x60, 5, c); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][2]uint64{{0x3f0, 9}, {0x3ff, 1}, {0x64, 4}, {0x10, 0}, {^uint64(0), 2}} {
		if err := b.Insert(bad[0], bad[1], &rec{}); err == nil {
			t.Errorf("range %#x+%#x accepted", bad[0], bad[1])
		}
	}
	d := []byte{0}
	if !b.Read(0x3fd, d) || d[0] != 0x42 || a.off != 5 {
		t.Errorf("read at 0x3fd: offset %d", a.off)
	}
	if !b.Write(0x64, d) || c.off != 4 {
		t.Errorf("write at 0x64: offset %d", c.off)
	}
	if b.Read(0x400, d) || b.Write(0x5f, d) || b.Read(0x65, d) {
		t.Error("an access outside every range was taken")
	}
}
