package fs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"

	"golang.org/x/sys/unix"
)

// The vhost-user protocol's front end (QEMU's docs/interop/vhost-user.rst):
// messages of a 12-byte header (request, flags, payload size) and a
// payload, file descriptors alongside as SCM_RIGHTS.

const (
	reqGetFeatures         = 1
	reqSetFeatures         = 2
	reqSetOwner            = 3
	reqSetMemTable         = 5
	reqSetVringNum         = 8
	reqSetVringAddr        = 9
	reqSetVringBase        = 10
	reqGetVringBase        = 11
	reqSetVringKick        = 12
	reqSetVringCall        = 13
	reqGetProtocolFeatures = 15
	reqSetProtocolFeatures = 16
	reqSetVringEnable      = 18

	flagVersion   = 1
	flagReply     = 1 << 2
	flagNeedReply = 1 << 3

	// featureProtocol: the back end has protocol features (and its rings
	// start disabled until SET_VRING_ENABLE).
	featureProtocol = 1 << 30
	// protocolReplyAck: the back end acknowledges a message on request.
	protocolReplyAck = 1 << 3

	maxRegions = 8
)

type backend struct {
	c        *net.UnixConn
	replyAck bool
}

// call sends a request with its payload and fds; a reply (GET_*, or the
// acknowledgement when REPLY_ACK was negotiated) is read and returned.
func (b *backend) call(req uint32, payload []byte, fds []int, wantReply bool) ([]byte, error) {
	flags := uint32(flagVersion)
	ack := !wantReply && b.replyAck
	if ack {
		flags |= flagNeedReply
	}
	msg := make([]byte, 12, 12+len(payload))
	binary.LittleEndian.PutUint32(msg[0:], req)
	binary.LittleEndian.PutUint32(msg[4:], flags)
	binary.LittleEndian.PutUint32(msg[8:], uint32(len(payload)))
	msg = append(msg, payload...)
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if _, _, err := b.c.WriteMsgUnix(msg, oob, nil); err != nil {
		return nil, fmt.Errorf("vhost-user request %d: %w", req, err)
	}
	if !wantReply && !ack {
		return nil, nil
	}
	var hdr [12]byte
	if _, err := io.ReadFull(b.c, hdr[:]); err != nil {
		return nil, fmt.Errorf("vhost-user request %d: the reply: %w", req, err)
	}
	got, rflags, size := binary.LittleEndian.Uint32(hdr[0:]), binary.LittleEndian.Uint32(hdr[4:]), binary.LittleEndian.Uint32(hdr[8:])
	if got != req || rflags&flagReply == 0 || size > 4096 {
		return nil, fmt.Errorf("vhost-user request %d: a reply to %d (flags %#x, %d bytes)", req, got, rflags, size)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(b.c, body); err != nil {
		return nil, fmt.Errorf("vhost-user request %d: the reply: %w", req, err)
	}
	if ack {
		if len(body) != 8 || binary.LittleEndian.Uint64(body) != 0 {
			return nil, fmt.Errorf("vhost-user request %d: refused by the back end", req)
		}
	}
	return body, nil
}

func (b *backend) getU64(req uint32) (uint64, error) {
	body, err := b.call(req, nil, nil, true)
	if err != nil {
		return 0, err
	}
	if len(body) != 8 {
		return 0, fmt.Errorf("vhost-user request %d: a reply of %d bytes", req, len(body))
	}
	return binary.LittleEndian.Uint64(body), nil
}

func (b *backend) setU64(req uint32, v uint64, fds ...int) error {
	_, err := b.call(req, binary.LittleEndian.AppendUint64(nil, v), fds, false)
	return err
}

// vringState is SET_VRING_NUM/BASE/ENABLE's and GET_VRING_BASE's payload.
func vringState(index, num uint32) []byte {
	return binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, index), num)
}

func (b *backend) setState(req, index, num uint32) error {
	_, err := b.call(req, vringState(index, num), nil, false)
	return err
}

// region is one entry of SET_MEM_TABLE.
type region struct {
	gpa, size, uaddr uint64
	fd               int
}

func (b *backend) setMemTable(rs []region) error {
	if len(rs) == 0 || len(rs) > maxRegions {
		return errors.New("vhost-user: 1 to 8 memory regions")
	}
	p := binary.LittleEndian.AppendUint32(nil, uint32(len(rs)))
	p = binary.LittleEndian.AppendUint32(p, 0)
	var fds []int
	for _, r := range rs {
		p = binary.LittleEndian.AppendUint64(p, r.gpa)
		p = binary.LittleEndian.AppendUint64(p, r.size)
		p = binary.LittleEndian.AppendUint64(p, r.uaddr)
		p = binary.LittleEndian.AppendUint64(p, 0) // mmap offset
		fds = append(fds, r.fd)
	}
	_, err := b.call(reqSetMemTable, p, fds, false)
	return err
}

func (b *backend) setVringAddr(index uint32, desc, used, avail uint64) error {
	p := binary.LittleEndian.AppendUint32(nil, index)
	p = binary.LittleEndian.AppendUint32(p, 0) // no dirty log
	p = binary.LittleEndian.AppendUint64(p, desc)
	p = binary.LittleEndian.AppendUint64(p, used)
	p = binary.LittleEndian.AppendUint64(p, avail)
	p = binary.LittleEndian.AppendUint64(p, 0)
	_, err := b.call(reqSetVringAddr, p, nil, false)
	return err
}
