package isolation

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/runc/libcontainer/configs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
)

// Hooks of config.json, for the modes that run them on the host themselves
// (the namespace mode's poststart and poststop, the microvm mode's).

// CommandHooks are the spec's hooks as libcontainer runs them.
func CommandHooks(hs []specs.Hook) []configs.CommandHook {
	var out []configs.CommandHook
	for _, h := range hs {
		out = append(out, configs.NewCommandHook(&configs.Command{Path: h.Path, Args: h.Args, Env: h.Env, Timeout: timeout(h.Timeout)}))
	}
	return out
}

func timeout(sec *int) *time.Duration {
	if sec == nil {
		return nil
	}
	d := time.Duration(*sec) * time.Second
	return &d
}

// RunHooks runs hooks in order with st on their stdin; the first that fails
// ends it, in the words of runc's libcontainer (see HookWording).
func RunHooks(kind string, hooks []configs.CommandHook, st *specs.State) error {
	for i, h := range hooks {
		if err := h.Run(st); err != nil {
			return HookError(kind, i, h.Path, err)
		}
	}
	return nil
}

// HookError is hook #i's failure in both runc wordings.
func HookError(kind string, i int, path string, err error) error {
	return fmt.Errorf("error running %s hook #%d: error running hook (%s): %w", kind, i, path, err)
}

var libcontainerHookError = regexp.MustCompile(`error running [A-Za-z]+ hook #[0-9]+: `)

// HookWording gives a hook failure reported by libcontainer ("error running
// startContainer hook #0: exit status 1") the words of both runc lines that
// tools match on: today's "error running <kind> hook #N:" and runc 1.1's
// "error running hook".
func HookWording(msg string) string {
	loc := libcontainerHookError.FindStringIndex(msg)
	if loc == nil || strings.HasPrefix(msg[loc[1]:], "error running hook") {
		return msg
	}
	return msg[:loc[1]] + "error running hook: " + msg[loc[1]:]
}

// WarnHooks runs hooks in order; a failing hook is logged and the rest still run.
func WarnHooks(kind string, hooks []configs.CommandHook, st *specs.State) {
	for i, h := range hooks {
		if err := h.Run(st); err != nil {
			logrus.Warnf("%s hook #%d (%s) failed: %v", kind, i, h.Path, err)
		}
	}
}

// VersionAtLeast compares a "major.minor[.patch[-suffix]]" version (a
// bundle's ociVersion); an unreadable one counts as the newest.
func VersionAtLeast(v string, major, minor int) bool {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return true
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil {
		return true
	}
	return ma > major || ma == major && mi >= minor
}
