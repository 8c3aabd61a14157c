package sandbox

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The container's OCI seccomp profile (linux.seccomp) applies to the
// workload, not to the Sentry (which needs seccomp, ptrace and pidfds to do
// its work). runx compiles the profile to classic BPF when it creates the
// container (profile_seccomp.go, with libseccomp) and hands the program to
// the Sentry as a flag; every workload process installs it right before the
// Sentry's own filter (loader.go). The kernel runs both filters on every
// system call and keeps the action of higher precedence: a profile's
// ERRNO, TRAP or KILL wins over the Sentry's USER_NOTIF, so a call the
// profile denies fails as the profile says even though the Sentry would
// emulate it; a call the profile allows goes on to the Sentry's rules.

// profile is a compiled OCI seccomp profile.
type profile struct {
	flags uintptr // SECCOMP_FILTER_FLAG_* for seccomp(2)
	prog  []unix.SockFilter
}

// encode is the Sentry's --seccomp flag value: "FLAGS:BASE64" of the
// program in the kernel's layout (code, jt, jf, k; little endian).
func (p *profile) encode() string {
	b := make([]byte, 8*len(p.prog))
	for i, in := range p.prog {
		binary.LittleEndian.PutUint16(b[8*i:], in.Code)
		b[8*i+2] = in.Jt
		b[8*i+3] = in.Jf
		binary.LittleEndian.PutUint32(b[8*i+4:], in.K)
	}
	return strconv.FormatUint(uint64(p.flags), 16) + ":" + base64.StdEncoding.EncodeToString(b)
}

func decodeProfile(s string) (*profile, error) {
	f, data, ok := strings.Cut(s, ":")
	if !ok {
		return nil, errors.New("want FLAGS:PROGRAM")
	}
	flags, err := strconv.ParseUint(f, 16, 32)
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, err
	}
	return parseBPF(b, uintptr(flags))
}

// parseBPF reads a program in the kernel's layout.
func parseBPF(b []byte, flags uintptr) (*profile, error) {
	if len(b) == 0 || len(b)%8 != 0 || len(b)/8 > 4096 {
		return nil, fmt.Errorf("a seccomp program of %d bytes", len(b))
	}
	p := &profile{flags: flags, prog: make([]unix.SockFilter, len(b)/8)}
	for i := range p.prog {
		p.prog[i] = unix.SockFilter{
			Code: binary.LittleEndian.Uint16(b[8*i:]),
			Jt:   b[8*i+2],
			Jf:   b[8*i+3],
			K:    binary.LittleEndian.Uint32(b[8*i+4:]),
		}
	}
	return p, nil
}
