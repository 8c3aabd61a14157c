//go:build !cgo || !seccomp

package sandbox

import (
	"errors"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func compileProfile(spec *specs.LinuxSeccomp) (*profile, error) {
	if spec == nil {
		return nil, nil
	}
	return nil, errors.New("linux.seccomp: runx was built without seccomp support (the seccomp build tag)")
}
