package sandbox

import (
	"encoding/binary"
	"slices"

	"golang.org/x/sys/unix"
)

// The identity calls, on the Sentry's credentials of each process
// (creds.go), with the kernel's rules: who may change what, and what a uid
// change does to the capabilities.

const noID = ^uint32(0) // -1: "leave unchanged"

// secKeepCaps is SECBIT_KEEP_CAPS, the securebit PR_SET_KEEPCAPS sets.
const secKeepCaps = 1 << 4

func (s *sentry) sysGetuid(t *task) result  { return ok(int64(s.caller(t).ruid)) }
func (s *sentry) sysGeteuid(t *task) result { return ok(int64(s.caller(t).euid)) }
func (s *sentry) sysGetgid(t *task) result  { return ok(int64(s.caller(t).rgid)) }
func (s *sentry) sysGetegid(t *task) result { return ok(int64(s.caller(t).egid)) }

func (s *sentry) sysGetresuid(t *task) result {
	c := s.caller(t)
	return putIDs(t, c.ruid, c.euid, c.suid)
}

func (s *sentry) sysGetresgid(t *task) result {
	c := s.caller(t)
	return putIDs(t, c.rgid, c.egid, c.sgid)
}

func putIDs(t *task, ids ...uint32) result {
	b := make([]byte, 4)
	for i, id := range ids {
		binary.LittleEndian.PutUint32(b, id)
		if err := t.write(t.arg(i), b); err != nil {
			return fail(unix.EFAULT)
		}
	}
	return ok(0)
}

func (s *sentry) sysGetgroups(t *task) result {
	groups := s.caller(t).groups
	size, n := t.argInt(0), len(groups)
	if size < 0 {
		return fail(unix.EINVAL)
	}
	if size == 0 {
		return ok(int64(n))
	}
	if size < n {
		return fail(unix.EINVAL)
	}
	b := make([]byte, 4*n)
	for i, g := range groups {
		binary.LittleEndian.PutUint32(b[4*i:], g)
	}
	if err := t.write(t.arg(1), b); err != nil {
		return fail(unix.EFAULT)
	}
	return ok(int64(n))
}

// changeCreds runs change on a copy of the caller's credentials and records
// the result.
func (s *sentry) changeCreds(t *task, change func(old, c *creds) unix.Errno) result {
	tgid, err := t.getTgid()
	if err != nil {
		return fail(unix.ESRCH)
	}
	// One process's identity calls in order: glibc makes every thread
	// repeat the call, and two threads may race.
	s.creds.change.Lock()
	defer s.creds.change.Unlock()
	old := s.creds.of(tgid)
	c := old.clone()
	if e := change(old, c); e != 0 {
		return fail(e)
	}
	if !t.valid() {
		return fail(unix.ESRCH)
	}
	s.creds.set(tgid, c)
	return ok(0)
}

// args32 are the call's first n arguments as ids.
func args32(t *task, n int) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i] = uint32(t.arg(i))
	}
	return out
}

func oneOf(id uint32, ids ...uint32) bool { return slices.Contains(ids, id) }

// ids is one of the two families: a pointer to r, e, s and fs.
type idSet struct{ r, e, s, fs *uint32 }

func uids(c *creds) idSet { return idSet{&c.ruid, &c.euid, &c.suid, &c.fsuid} }
func gids(c *creds) idSet { return idSet{&c.rgid, &c.egid, &c.sgid, &c.fsgid} }

func setOne(old, c idSet, id uint32, priv bool) unix.Errno {
	if id == noID {
		return unix.EINVAL
	}
	switch {
	case priv:
		*c.r, *c.e, *c.s, *c.fs = id, id, id, id
	case oneOf(id, *old.r, *old.s):
		*c.e, *c.fs = id, id
	default:
		return unix.EPERM
	}
	return 0
}

func setRE(old, c idSet, r, e uint32, priv bool) unix.Errno {
	if r != noID {
		if !priv && !oneOf(r, *old.r, *old.e) {
			return unix.EPERM
		}
		*c.r = r
	}
	if e != noID {
		if !priv && !oneOf(e, *old.r, *old.e, *old.s) {
			return unix.EPERM
		}
		*c.e = e
	}
	if r != noID || e != noID && e != *old.r {
		*c.s = *c.e
	}
	*c.fs = *c.e
	return 0
}

func setRES(old, c idSet, r, e, sv uint32, priv bool) unix.Errno {
	for _, id := range []uint32{r, e, sv} {
		if id != noID && !priv && !oneOf(id, *old.r, *old.e, *old.s) {
			return unix.EPERM
		}
	}
	for _, p := range []struct {
		id  uint32
		dst *uint32
	}{{r, c.r}, {e, c.e}, {sv, c.s}} {
		if p.id != noID {
			*p.dst = p.id
		}
	}
	*c.fs = *c.e
	return 0
}

func (s *sentry) sysSetuid(t *task) result {
	a := args32(t, 1)
	return s.changeCreds(t, func(old, c *creds) unix.Errno {
		return uidChange(old, c, setOne(uids(old), uids(c), a[0], old.has(unix.CAP_SETUID)))
	})
}

func (s *sentry) sysSetreuid(t *task) result {
	a := args32(t, 2)
	return s.changeCreds(t, func(old, c *creds) unix.Errno {
		return uidChange(old, c, setRE(uids(old), uids(c), a[0], a[1], old.has(unix.CAP_SETUID)))
	})
}

func (s *sentry) sysSetresuid(t *task) result {
	a := args32(t, 3)
	return s.changeCreds(t, func(old, c *creds) unix.Errno {
		return uidChange(old, c, setRES(uids(old), uids(c), a[0], a[1], a[2], old.has(unix.CAP_SETUID)))
	})
}

func uidChange(old, c *creds, e unix.Errno) unix.Errno {
	if e == 0 {
		c.fixUID(old)
	}
	return e
}

func (s *sentry) sysSetgid(t *task) result {
	a := args32(t, 1)
	return s.changeCreds(t, func(old, c *creds) unix.Errno {
		return setOne(gids(old), gids(c), a[0], old.has(unix.CAP_SETGID))
	})
}

func (s *sentry) sysSetregid(t *task) result {
	a := args32(t, 2)
	return s.changeCreds(t, func(old, c *creds) unix.Errno {
		return setRE(gids(old), gids(c), a[0], a[1], old.has(unix.CAP_SETGID))
	})
}

func (s *sentry) sysSetresgid(t *task) result {
	a := args32(t, 3)
	return s.changeCreds(t, func(old, c *creds) unix.Errno {
		return setRES(gids(old), gids(c), a[0], a[1], a[2], old.has(unix.CAP_SETGID))
	})
}

// setfsuid and setfsgid answer the previous id, whether or not they changed it.
func (s *sentry) sysSetfsuid(t *task) result { return s.setfs(t, uids, unix.CAP_SETUID) }
func (s *sentry) sysSetfsgid(t *task) result { return s.setfs(t, gids, unix.CAP_SETGID) }

func (s *sentry) setfs(t *task, family func(*creds) idSet, capability uint) result {
	id := uint32(t.arg(0))
	prev := *family(s.caller(t)).fs
	r := s.changeCreds(t, func(old, c *creds) unix.Errno {
		o, n := family(old), family(c)
		prev = *o.fs
		if id == noID || !old.has(capability) && !oneOf(id, *o.r, *o.e, *o.s, *o.fs) {
			return unix.EPERM // unchanged, not an error
		}
		*n.fs = id
		if capability == unix.CAP_SETUID {
			c.fixUID(old)
		}
		return 0
	})
	_ = r
	return ok(int64(prev))
}

func (s *sentry) sysSetgroups(t *task) result {
	n := t.argInt(0)
	if n < 0 || n > 65536 {
		return fail(unix.EINVAL)
	}
	b, err := t.read(t.arg(1), 4*n)
	if err != nil {
		return fail(unix.EFAULT)
	}
	groups := make([]uint32, n)
	for i := range groups {
		groups[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	slices.Sort(groups) // as the kernel keeps them
	return s.changeCreds(t, func(old, c *creds) unix.Errno {
		if !old.has(unix.CAP_SETGID) {
			return unix.EPERM
		}
		c.groups = groups
		return 0
	})
}

const (
	capV1 = 0x19980330
	capV2 = 0x20071026
	capV3 = 0x20080522

	capLast = unix.CAP_CHECKPOINT_RESTORE // CAP_LAST_CAP of the kernels runx knows
)

// capHeader reads capget's and capset's header: the number of 32-bit words
// its version has, and the pid.
func capHeader(t *task) (words int, pid int32, e unix.Errno) {
	var hdr struct {
		Version uint32
		Pid     int32
	}
	if err := readVal(t, t.arg(0), &hdr); err != nil {
		return 0, 0, unix.EFAULT
	}
	switch hdr.Version {
	case capV1:
		return 1, hdr.Pid, 0
	case capV2, capV3:
		return 2, hdr.Pid, 0
	}
	// Unknown version: the kernel writes back the one it prefers.
	hdr.Version = capV3
	if err := writeVal(t, t.arg(0), &hdr); err != nil {
		return 0, 0, unix.EFAULT
	}
	return 0, hdr.Pid, unix.EINVAL
}

func (s *sentry) sysCapget(t *task) result {
	words, pid, e := capHeader(t)
	if e == unix.EINVAL && t.arg(1) == 0 {
		return ok(0) // a probe of the version
	}
	if e != 0 {
		return fail(e)
	}
	c := s.caller(t)
	if pid < 0 {
		return fail(unix.ESRCH)
	}
	if pid > 0 {
		host := s.hostPid(int(pid))
		if host == 0 {
			return fail(unix.ESRCH)
		}
		c = s.creds.of(host)
	}
	if t.arg(1) == 0 {
		return ok(0)
	}
	b := make([]byte, 12*words)
	for w := 0; w < words; w++ {
		binary.LittleEndian.PutUint32(b[12*w:], uint32(c.eff>>(32*w)))
		binary.LittleEndian.PutUint32(b[12*w+4:], uint32(c.prm>>(32*w)))
		binary.LittleEndian.PutUint32(b[12*w+8:], uint32(c.inh>>(32*w)))
	}
	if err := t.write(t.arg(1), b); err != nil {
		return fail(unix.EFAULT)
	}
	return ok(0)
}

// capset sets the caller's own sets, within what it may.
func (s *sentry) sysCapset(t *task) result {
	words, pid, e := capHeader(t)
	if e != 0 {
		return fail(e)
	}
	if pid != 0 {
		_, vpid, err := t.nsIDs()
		if err != nil || int(pid) != vpid {
			return fail(unix.EPERM)
		}
	}
	b, err := t.read(t.arg(1), 12*words)
	if err != nil {
		return fail(unix.EFAULT)
	}
	var eff, prm, inh uint64
	for w := 0; w < words; w++ {
		eff |= uint64(binary.LittleEndian.Uint32(b[12*w:])) << (32 * w)
		prm |= uint64(binary.LittleEndian.Uint32(b[12*w+4:])) << (32 * w)
		inh |= uint64(binary.LittleEndian.Uint32(b[12*w+8:])) << (32 * w)
	}
	return s.changeCreds(t, func(old, c *creds) unix.Errno {
		switch {
		case inh&^(old.inh|old.prm) != 0 && !old.has(unix.CAP_SETPCAP),
			inh&^(old.inh|old.bnd) != 0,
			prm&^old.prm != 0,
			eff&^prm != 0:
			return unix.EPERM
		}
		c.eff, c.prm, c.inh = eff, prm, inh
		c.amb &= prm & inh
		return 0
	})
}

// prctlCaps serves the prctl options about capabilities.
func (s *sentry) prctlCaps(t *task, opt int) result {
	c := s.caller(t)
	capArg := func() (uint64, bool) {
		n := t.arg(1)
		return 1 << n, n <= capLast
	}
	switch opt {
	case unix.PR_GET_NO_NEW_PRIVS:
		if c.noNewPrivs {
			return ok(1)
		}
		return ok(0)
	case unix.PR_SET_NO_NEW_PRIVS:
		if t.arg(1) != 1 || t.arg(2) != 0 || t.arg(3) != 0 || t.arg(4) != 0 {
			return fail(unix.EINVAL)
		}
		return s.changeCreds(t, func(old, n *creds) unix.Errno { n.noNewPrivs = true; return 0 })
	case unix.PR_GET_SECUREBITS:
		v := c.secure &^ secKeepCaps
		if c.keepCaps {
			v |= secKeepCaps
		}
		return ok(int64(v))
	case unix.PR_SET_SECUREBITS:
		return s.changeCreds(t, func(old, n *creds) unix.Errno {
			if !old.has(unix.CAP_SETPCAP) || t.arg(1) > 0xff {
				return unix.EPERM
			}
			n.secure = uint32(t.arg(1))
			n.keepCaps = n.secure&secKeepCaps != 0
			return 0
		})
	case unix.PR_GET_KEEPCAPS:
		if c.keepCaps {
			return ok(1)
		}
		return ok(0)
	case unix.PR_SET_KEEPCAPS:
		if t.arg(1) > 1 {
			return fail(unix.EINVAL)
		}
		return s.changeCreds(t, func(old, n *creds) unix.Errno {
			n.keepCaps = t.arg(1) == 1
			return 0
		})
	case unix.PR_CAPBSET_READ:
		bit, valid := capArg()
		if !valid {
			return fail(unix.EINVAL)
		}
		if c.bnd&bit != 0 {
			return ok(1)
		}
		return ok(0)
	case unix.PR_CAPBSET_DROP:
		bit, valid := capArg()
		if !valid {
			return fail(unix.EINVAL)
		}
		return s.changeCreds(t, func(old, n *creds) unix.Errno {
			if !old.has(unix.CAP_SETPCAP) {
				return unix.EPERM
			}
			n.bnd &^= bit
			return 0
		})
	}
	// PR_CAP_AMBIENT
	if t.arg(3) != 0 || t.arg(4) != 0 || t.arg(1) != unix.PR_CAP_AMBIENT_CLEAR_ALL && t.arg(2) > capLast {
		return fail(unix.EINVAL)
	}
	bit := uint64(1) << (t.arg(2) & 63)
	switch t.arg(1) {
	case unix.PR_CAP_AMBIENT_IS_SET:
		if c.amb&bit != 0 {
			return ok(1)
		}
		return ok(0)
	case unix.PR_CAP_AMBIENT_CLEAR_ALL:
		if t.arg(2) != 0 {
			return fail(unix.EINVAL)
		}
		return s.changeCreds(t, func(old, n *creds) unix.Errno { n.amb = 0; return 0 })
	case unix.PR_CAP_AMBIENT_LOWER:
		return s.changeCreds(t, func(old, n *creds) unix.Errno { n.amb &^= bit; return 0 })
	case unix.PR_CAP_AMBIENT_RAISE:
		return s.changeCreds(t, func(old, n *creds) unix.Errno {
			if old.prm&bit == 0 || old.inh&bit == 0 {
				return unix.EPERM
			}
			n.amb |= bit
			return 0
		})
	}
	return fail(unix.EINVAL)
}
