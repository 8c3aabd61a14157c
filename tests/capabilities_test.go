package tests

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// process.capabilities after the program's exec, as the kernel makes them
// (no file capabilities): a non-root user keeps only its ambient set,
// which needs each capability permitted and inheritable; root gets its
// bounding set. The sandbox's Sentry shows and applies the same sets as
// the namespace mode (and runc) give; an ambient capability that cannot be
// raised is left out without a warning, as runc 1.1 does.
func TestCapabilitiesAfterExec(t *testing.T) {
	requireRunx(t)
	def := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	nbs := []string{"CAP_NET_BIND_SERVICE"}
	for _, c := range []struct {
		name string
		uid  uint32
		nnp  bool // process.noNewPrivileges
		caps specs.LinuxCapabilities
		want string // the namespace mode's (runc's) lines, where known
	}{
		{"user-default", 1000, true, specs.LinuxCapabilities{Bounding: def, Effective: def, Permitted: def},
			"CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t0000000020000420\nCapAmb:\t0000000000000000\n"},
		{"user-ambient", 1000, true, specs.LinuxCapabilities{Bounding: def, Effective: def, Permitted: def, Inheritable: nbs, Ambient: nbs},
			"CapInh:\t0000000000000400\nCapPrm:\t0000000000000400\nCapEff:\t0000000000000400\nCapBnd:\t0000000020000420\nCapAmb:\t0000000000000400\n"},
		{"user-ambient-not-inheritable", 1000, true, specs.LinuxCapabilities{Bounding: def, Effective: def, Permitted: def, Ambient: def},
			"CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t0000000020000420\nCapAmb:\t0000000000000000\n"},
		{"root-default", 0, true, specs.LinuxCapabilities{Bounding: def, Effective: def, Permitted: def, Ambient: def},
			"CapInh:\t0000000000000000\nCapPrm:\t0000000020000420\nCapEff:\t0000000020000420\nCapBnd:\t0000000020000420\nCapAmb:\t0000000000000000\n"},
		// no_new_privs: exec grants root nothing beyond its permitted set;
		// without, root gets its whole bounding set.
		{"root-bounding-wider", 0, true, specs.LinuxCapabilities{Bounding: append([]string{"CAP_CHOWN"}, def...), Effective: nbs, Permitted: nbs},
			"CapInh:\t0000000000000000\nCapPrm:\t0000000000000400\nCapEff:\t0000000000000400\nCapBnd:\t0000000020000421\nCapAmb:\t0000000000000000\n"},
		{"root-bounding-wider-privs", 0, false, specs.LinuxCapabilities{Bounding: append([]string{"CAP_CHOWN"}, def...), Effective: nbs, Permitted: nbs},
			"CapInh:\t0000000000000000\nCapPrm:\t0000000020000421\nCapEff:\t0000000020000421\nCapBnd:\t0000000020000421\nCapAmb:\t0000000000000000\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			edit := func(b *bundle) {
				b.edit(func(s *specs.Spec) {
					caps := c.caps
					s.Process.Capabilities = &caps
					s.Process.User = specs.User{UID: c.uid, GID: c.uid}
					s.Process.NoNewPrivileges = c.nnp
				})
			}
			script := "grep Cap /proc/$$/status"
			ns := runIn(t, "namespace", edit, "sh", "-c", script)
			sb := runIn(t, "sandbox", edit, "sh", "-c", script)
			if c.want != "" && ns.stdout != c.want {
				t.Errorf("namespace mode: want\n%s\n%s", c.want, ns)
			}
			if sb.stdout != ns.stdout || sb.code != ns.code {
				t.Errorf("the sandbox's sets differ from the namespace mode's\nnamespace:\n%s\nsandbox:\n%s", ns, sb)
			}
			for _, r := range []result{ns, sb} {
				if strings.Contains(r.stderr, "ambient") {
					t.Errorf("a warning about ambient capabilities\n%s", r)
				}
			}
		})
	}
}
