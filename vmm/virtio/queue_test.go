package virtio

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/runx-dev/runx/vmm/memory"
)

// A guest of 64 KiB at 0 with a queue of 8: descriptor table at 0x1000,
// driver area at 0x2000, device area at 0x3000, buffers from 0x8000.
const (
	tDesc  = 0x1000
	tAvail = 0x2000
	tUsed  = 0x3000
	tSize  = 8
)

type ring struct {
	mem *memory.Memory
	q   *Queue
}

func newRing(t *testing.T) *ring {
	t.Helper()
	mem := memory.FromBytes(0, make([]byte, 64<<10))
	q := &Queue{Size: tSize, Desc: tDesc, Avail: tAvail, Used: tUsed, Ready: true}
	if err := q.Valid(mem); err != nil {
		t.Fatal(err)
	}
	return &ring{mem: mem, q: q}
}

// desc writes descriptor i of the table at table.
func (r *ring) desc(table uint64, i int, addr uint64, n uint32, flags, next uint16) {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint64(b, addr)
	binary.LittleEndian.PutUint32(b[8:], n)
	binary.LittleEndian.PutUint16(b[12:], flags)
	binary.LittleEndian.PutUint16(b[14:], next)
	if err := r.mem.Write(table+16*uint64(i), b); err != nil {
		panic(err)
	}
}

// offer makes heads available, as a driver does, and publishes the index.
func (r *ring) offer(heads ...uint16) {
	idx, _ := r.mem.U16(tAvail + 2)
	for _, h := range heads {
		r.mem.PutU16(tAvail+4+2*uint64(idx%tSize), h)
		idx++
	}
	r.mem.PutU16(tAvail+2, idx)
}

func TestPopChains(t *testing.T) {
	cases := []struct {
		name  string
		setup func(r *ring) uint16 // the head to offer
		want  []Desc
		err   error
	}{
		{"one readable", func(r *ring) uint16 {
			r.desc(tDesc, 3, 0x8000, 100, 0, 0)
			return 3
		}, []Desc{{0x8000, 100, false}}, nil},
		{"readable then writable", func(r *ring) uint16 {
			r.desc(tDesc, 0, 0x8000, 16, descNext, 5)
			r.desc(tDesc, 5, 0x9000, 512, descNext|descWrite, 2)
			r.desc(tDesc, 2, 0xa000, 1, descWrite, 0)
			return 0
		}, []Desc{{0x8000, 16, false}, {0x9000, 512, true}, {0xa000, 1, true}}, nil},
		{"indirect", func(r *ring) uint16 {
			r.desc(0x4000, 0, 0x8000, 16, descNext, 1)
			r.desc(0x4000, 1, 0x9000, 64, descWrite, 0)
			r.desc(tDesc, 1, 0x4000, 32, descIndirect, 0)
			return 1
		}, []Desc{{0x8000, 16, false}, {0x9000, 64, true}}, nil},
		{"head beyond the table", func(r *ring) uint16 { return tSize }, nil, ErrDescIndex},
		{"next beyond the table", func(r *ring) uint16 {
			r.desc(tDesc, 0, 0x8000, 16, descNext, tSize)
			return 0
		}, nil, ErrDescIndex},
		{"a loop", func(r *ring) uint16 {
			r.desc(tDesc, 0, 0x8000, 16, descNext, 1)
			r.desc(tDesc, 1, 0x8000, 16, descNext, 0)
			return 0
		}, nil, ErrChainLoop},
		{"buffer outside memory", func(r *ring) uint16 {
			r.desc(tDesc, 0, 0xfff0, 0x20, 0, 0)
			return 0
		}, nil, memory.ErrRange},
		{"buffer address wraps", func(r *ring) uint16 {
			r.desc(tDesc, 0, ^uint64(0)-4, 16, 0, 0)
			return 0
		}, nil, memory.ErrRange},
		{"readable after writable", func(r *ring) uint16 {
			r.desc(tDesc, 0, 0x8000, 16, descNext|descWrite, 1)
			r.desc(tDesc, 1, 0x9000, 16, 0, 0)
			return 0
		}, nil, ErrOrder},
		{"indirect with next", func(r *ring) uint16 {
			r.desc(tDesc, 0, 0x4000, 32, descIndirect|descNext, 1)
			return 0
		}, nil, ErrIndirect},
		{"indirect not whole descriptors", func(r *ring) uint16 {
			r.desc(tDesc, 0, 0x4000, 20, descIndirect, 0)
			return 0
		}, nil, ErrIndirect},
		{"indirect in indirect", func(r *ring) uint16 {
			r.desc(0x4000, 0, 0x5000, 16, descIndirect, 0)
			r.desc(tDesc, 0, 0x4000, 16, descIndirect, 0)
			return 0
		}, nil, ErrIndirect},
		{"indirect table outside memory", func(r *ring) uint16 {
			r.desc(tDesc, 0, 0xfff0, 32, descIndirect, 0)
			return 0
		}, nil, memory.ErrRange},
		{"indirect loop", func(r *ring) uint16 {
			r.desc(0x4000, 0, 0x8000, 16, descNext, 1)
			r.desc(0x4000, 1, 0x8000, 16, descNext, 0)
			r.desc(tDesc, 0, 0x4000, 32, descIndirect, 0)
			return 0
		}, nil, ErrChainLoop},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRing(t)
			r.offer(c.setup(r))
			got, err := r.q.Pop(r.mem)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("error %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got == nil || len(got.Descs) != len(c.want) {
				t.Fatalf("chain %+v, want %+v", got, c.want)
			}
			for i := range c.want {
				if got.Descs[i] != c.want[i] {
					t.Errorf("descriptor %d: %+v, want %+v", i, got.Descs[i], c.want[i])
				}
			}
			if again, err := r.q.Pop(r.mem); again != nil || err != nil {
				t.Errorf("a second pop: %+v, %v; want nothing", again, err)
			}
		})
	}
}

// The used ring: entries in order, the index published, wrapping at 2^16.
func TestPushAndWrap(t *testing.T) {
	r := newRing(t)
	r.desc(tDesc, 0, 0x8000, 16, descWrite, 0)
	for i := 0; i < 70000; i++ {
		r.offer(0)
		c, err := r.q.Pop(r.mem)
		if err != nil || c == nil {
			t.Fatalf("pop %d: %v %v", i, c, err)
		}
		if err := r.q.Push(r.mem, c.Head, uint32(i%100)); err != nil {
			t.Fatal(err)
		}
		idx, _ := r.mem.U16(tUsed + 2)
		if idx != uint16(i+1) {
			t.Fatalf("used index %d after %d pushes", idx, i+1)
		}
		slot := tUsed + 4 + 8*uint64(i%tSize)
		id, _ := r.mem.U32(slot)
		n, _ := r.mem.U32(slot + 4)
		if id != 0 || n != uint32(i%100) {
			t.Fatalf("used entry %d: id %d len %d", i, id, n)
		}
	}
}

func TestAvailIndexTooFarAhead(t *testing.T) {
	r := newRing(t)
	r.mem.PutU16(tAvail+2, tSize+1)
	if _, err := r.q.Pop(r.mem); !errors.Is(err, ErrAvailIdx) {
		t.Fatalf("error %v, want %v", err, ErrAvailIdx)
	}
}

func TestValid(t *testing.T) {
	mem := memory.FromBytes(0, make([]byte, 64<<10))
	for _, q := range []Queue{
		{Size: 0, Desc: tDesc, Avail: tAvail, Used: tUsed},
		{Size: 6, Desc: tDesc, Avail: tAvail, Used: tUsed},
		{Size: 512, Desc: tDesc, Avail: tAvail, Used: tUsed},
		{Size: 8, Desc: tDesc + 8, Avail: tAvail, Used: tUsed},
		{Size: 8, Desc: tDesc, Avail: tAvail + 1, Used: tUsed},
		{Size: 8, Desc: tDesc, Avail: tAvail, Used: tUsed + 2},
		{Size: 8, Desc: 0xfff0, Avail: tAvail, Used: tUsed},
		{Size: 8, Desc: tDesc, Avail: tAvail, Used: 0xfffc},
	} {
		if err := q.Valid(mem); err == nil {
			t.Errorf("queue %+v: valid", q)
		}
	}
	if _, err := (&Queue{Size: 8}).Pop(mem); !errors.Is(err, ErrNotReady) {
		t.Errorf("a queue not ready: %v", err)
	}
}

// Interrupt suppression: the avail ring's flag, or with EVENT_IDX the
// driver's used_event.
func TestNeedsInterrupt(t *testing.T) {
	r := newRing(t)
	r.desc(tDesc, 0, 0x8000, 16, descWrite, 0)
	push := func(n int) {
		for i := 0; i < n; i++ {
			r.offer(0)
			c, _ := r.q.Pop(r.mem)
			r.q.Push(r.mem, c.Head, 0)
		}
	}
	push(1)
	if ok, _ := r.q.NeedsInterrupt(r.mem); !ok {
		t.Error("no flag: an interrupt is wanted")
	}
	r.mem.PutU16(tAvail, availNoInterrupt)
	push(1)
	if ok, _ := r.q.NeedsInterrupt(r.mem); ok {
		t.Error("NO_INTERRUPT: none is wanted")
	}
	r.q.EventIdx = true
	usedEvent := tAvail + 4 + 2*uint64(tSize)
	r.mem.PutU16(usedEvent, 4) // interrupt once used index passes 4
	push(1)                    // used index 3
	if ok, _ := r.q.NeedsInterrupt(r.mem); ok {
		t.Error("event index 4, used 3: none is wanted")
	}
	push(2) // used index 5: crossed 4
	if ok, _ := r.q.NeedsInterrupt(r.mem); !ok {
		t.Error("event index 4, used 5: an interrupt is wanted")
	}
	// avail_event follows the device's progress.
	if ev, _ := r.mem.U16(tUsed + 4 + 8*tSize); ev != 5 {
		t.Errorf("avail_event %d, want 5", ev)
	}
}
