package sandbox

import (
	"testing"

	"golang.org/x/sys/unix"
)

const allCaps = 1<<(capLast+1) - 1

func rootCreds() *creds {
	return &creds{eff: allCaps, prm: allCaps, bnd: allCaps}
}

// The kernel's rules for a uid change, as capabilities(7) states them.
func TestCredsUIDChange(t *testing.T) {
	old := rootCreds()

	// setresuid(1000, 1000, 1000): no root id left, every capability goes.
	c := old.clone()
	if e := setRES(uids(old), uids(c), 1000, 1000, 1000, true); e != 0 {
		t.Fatal(e)
	}
	c.fixUID(old)
	if c.prm != 0 || c.eff != 0 || c.fsuid != 1000 {
		t.Errorf("after dropping root: %+v", c)
	}

	// seteuid(1000) (glibc: setresuid(-1, 1000, -1)): the effective set
	// goes, the permitted set stays, and seteuid(0) gives it back.
	c = old.clone()
	if e := setRES(uids(old), uids(c), noID, 1000, noID, true); e != 0 {
		t.Fatal(e)
	}
	c.fixUID(old)
	if c.eff != 0 || c.prm != allCaps || c.suid != 0 || c.ruid != 0 {
		t.Errorf("after seteuid(1000): %+v", c)
	}
	// setreuid(-1, 1000) also moves the saved uid (the effective one is not
	// the real one).
	c2 := old.clone()
	if e := setRE(uids(old), uids(c2), noID, 1000, true); e != 0 || c2.suid != 1000 {
		t.Errorf("setreuid(-1, 1000): %+v", c2)
	}
	back := c.clone()
	if e := setRES(uids(c), uids(back), noID, 0, noID, c.has(unix.CAP_SETUID)); e != 0 {
		t.Fatalf("seteuid(0) back: %v", e)
	}
	back.fixUID(c)
	if back.eff != allCaps {
		t.Errorf("after seteuid(0): eff %x", back.eff)
	}

	// With keep-caps the permitted set survives, the effective does not.
	old.keepCaps = true
	c = old.clone()
	_ = setOne(uids(old), uids(c), 1000, true)
	c.fixUID(old)
	if c.prm != allCaps || c.eff != 0 {
		t.Errorf("keep-caps: %+v", c)
	}

	// Without CAP_SETUID only the real and saved ids are reachable.
	user := &creds{ruid: 1000, euid: 1000, suid: 2000, fsuid: 1000}
	c = user.clone()
	if e := setOne(uids(user), uids(c), 0, false); e != unix.EPERM {
		t.Errorf("setuid(0) unprivileged = %v, want EPERM", e)
	}
	if e := setOne(uids(user), uids(c), 2000, false); e != 0 || c.euid != 2000 || c.ruid != 1000 {
		t.Errorf("setuid(saved) = %v, %+v", e, c)
	}
}

func TestCredsAfterExec(t *testing.T) {
	// Root: the bounding set becomes permitted and effective.
	r := &creds{bnd: 0xff, eff: 0x1, prm: 0x1}
	if n := r.afterExec(); n.prm != 0xff || n.eff != 0xff {
		t.Errorf("root exec: %+v", n)
	}
	// Another user keeps only its ambient set.
	u := &creds{ruid: 1000, euid: 1000, suid: 0, bnd: 0xff, prm: 0x3, eff: 0x3, inh: 0x2, amb: 0x2}
	if n := u.afterExec(); n.prm != 0x2 || n.eff != 0x2 || n.suid != 1000 {
		t.Errorf("user exec: %+v", n)
	}
}
