package sandbox

import "golang.org/x/sys/unix"

// The host as the sandbox shows it: uname, host and domain names (the
// Sentry's copies, never the host's).

// uname: the host's kernel, the sandbox's host and domain names.
func (s *sentry) sysUname(t *task) result {
	u := hostUname()
	s.mu.Lock()
	setUts(u.Nodename[:], s.hostname)
	setUts(u.Domainname[:], s.domain)
	s.mu.Unlock()
	if err := writeVal(t, t.arg(0), &u); err != nil {
		return fail(unix.EFAULT)
	}
	return ok(0)
}

func setUts(dst []byte, v string) {
	clear(dst)
	copy(dst[:len(dst)-1], v)
}

func (s *sentry) setName(t *task, dst *string) result {
	if !s.caller(t).has(unix.CAP_SYS_ADMIN) {
		return fail(unix.EPERM)
	}
	n := t.argInt(1)
	if n < 0 || n > 64 {
		return fail(unix.EINVAL)
	}
	b, err := t.read(t.arg(0), n)
	if err != nil {
		return fail(unix.EFAULT)
	}
	s.mu.Lock()
	*dst = string(b)
	s.mu.Unlock()
	return ok(0)
}

func (s *sentry) sysSethostname(t *task) result { return s.setName(t, &s.hostname) }

func (s *sentry) sysSetdomainname(t *task) result { return s.setName(t, &s.domain) }
