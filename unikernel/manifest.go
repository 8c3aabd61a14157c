package unikernel

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// Device types of manifest entries (section 2.5).
const (
	DevBlock        = 1
	DevNet          = 2
	devReservedBase = 1 << 30

	mftEntrySize  = 104
	mftHeaderSize = 8
	mftMaxEntries = 64
)

var errBadManifest = errors.New("Solo5 manifest is invalid")

// Entry is one device of the manifest; index is the guest's device handle.
type Entry struct {
	Name string
	Type uint32
	// Filled in by the tender.
	HostFD    int
	Capacity  uint64
	BlockSize uint16
	MAC       [6]byte
	MTU       uint16
	Attached  bool
}

// Manifest is the unikernel's list of devices; entry 0 is reserved.
type Manifest struct {
	Entries []Entry
}

func parseManifest(b []byte) (*Manifest, error) {
	le := binary.LittleEndian
	if len(b) < mftHeaderSize || le.Uint32(b[0:]) != 1 {
		return nil, errBadManifest
	}
	n := le.Uint32(b[4:])
	if n < 1 || n > mftMaxEntries || len(b) != mftHeaderSize+mftEntrySize*int(n) {
		return nil, errBadManifest
	}
	m := &Manifest{}
	for i := 0; i < int(n); i++ {
		e := b[mftHeaderSize+i*mftEntrySize:][:mftEntrySize]
		if e[67] != 0 || e[96] != 0 {
			return nil, errBadManifest
		}
		name := string(e[:bytes.IndexByte(e[:68], 0)])
		typ := le.Uint32(e[68:])
		if i == 0 && (typ != devReservedBase || name != "") {
			return nil, errBadManifest
		}
		m.Entries = append(m.Entries, Entry{Name: name, Type: typ, HostFD: -1})
	}
	return m, nil
}

// find returns the index of the device called name, or -1.
func (m *Manifest) find(name string) int {
	for i, e := range m.Entries {
		if i > 0 && e.Name == name && e.Type < devReservedBase {
			return i
		}
	}
	return -1
}

// encode lays the manifest out as the guest reads it, tender fields included.
func (m *Manifest) encode() []byte {
	le := binary.LittleEndian
	b := make([]byte, mftHeaderSize+mftEntrySize*len(m.Entries))
	le.PutUint32(b[0:], 1)
	le.PutUint32(b[4:], uint32(len(m.Entries)))
	for i, e := range m.Entries {
		p := b[mftHeaderSize+i*mftEntrySize:]
		copy(p[:67], e.Name)
		le.PutUint32(p[68:], e.Type)
		switch e.Type {
		case DevBlock:
			le.PutUint64(p[72:], e.Capacity)
			le.PutUint16(p[80:], e.BlockSize)
		case DevNet:
			copy(p[72:78], e.MAC[:])
			le.PutUint16(p[78:], e.MTU)
		}
		if e.Attached {
			le.PutUint32(p[88:], uint32(int32(e.HostFD)))
			p[96] = 1
		}
	}
	return b
}

func typeName(t uint32) string {
	switch t {
	case DevBlock:
		return "BLOCK_BASIC"
	case DevNet:
		return "NET_BASIC"
	}
	return "RESERVED"
}
