package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"

	"github.com/runx-dev/runx/isolation"
)

const specConfig = "config.json"

// checkArgs enforces the number of positional arguments as runc does.
func checkArgs(c *cli.Context, want int, exact bool) error {
	n := c.NArg()
	switch {
	case exact && n != want:
		return usageError{fmt.Errorf("%q requires exactly %d argument(s), got %d", c.Command.Name, want, n)}
	case !exact && n < want:
		return usageError{fmt.Errorf("%q requires a minimum of %d argument(s), got %d", c.Command.Name, want, n)}
	}
	return nil
}

// interspersed moves a command's flags that follow its arguments in front of
// them, as runc's command line takes "runx update ID --memory 1M": every
// command but exec and ps, whose arguments after the id are a program's own.
// Only the command's known flags move (a value-taking flag with its value);
// nothing after "--" does.
func interspersed(app *cli.App, args []string) []string {
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "--" {
		if f := lookupFlag(app.Flags, args[i]); f != nil && takesValue(f) && !strings.Contains(args[i], "=") {
			i++
		}
		i++
	}
	if i >= len(args) {
		return args
	}
	cmd := app.Command(args[i])
	if cmd == nil || cmd.SkipFlagParsing || cmd.Name == "exec" || cmd.Name == "ps" {
		return args
	}
	var flags, rest []string
	tail := args[i+1:]
	for j := 0; j < len(tail); j++ {
		a := tail[j]
		if a == "--" {
			rest = append(rest, tail[j:]...)
			break
		}
		f := lookupFlag(cmd.Flags, a)
		if f == nil && (a == "-h" || a == "--help") {
			f = cli.HelpFlag
		}
		if f == nil {
			rest = append(rest, a)
			continue
		}
		flags = append(flags, a)
		if takesValue(f) && !strings.Contains(a, "=") && j+1 < len(tail) {
			flags = append(flags, tail[j+1])
			j++
		}
	}
	out := append([]string{}, args[:i+1]...)
	return append(append(out, flags...), rest...)
}

// lookupFlag finds the flag "-name", "--name" or "--name=value" names.
func lookupFlag(flags []cli.Flag, arg string) cli.Flag {
	if len(arg) < 2 || arg[0] != '-' {
		return nil
	}
	name, _, _ := strings.Cut(strings.TrimPrefix(arg[1:], "-"), "=")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}

func takesValue(f cli.Flag) bool {
	v, ok := f.(interface{ TakesValue() bool })
	return ok && v.TakesValue()
}

// containerID returns the first argument, validated.
func containerID(c *cli.Context) (string, error) {
	id := c.Args().First()
	if err := isolation.ValidateID(id); err != nil {
		return "", err
	}
	return id, nil
}

// getContainer loads the container named by the first argument.
func getContainer(c *cli.Context) (isolation.Container, error) {
	id, err := containerID(c)
	if err != nil {
		return nil, err
	}
	return isolation.Load(c.String("root"), id)
}

// loadSpec reads and checks bundle/config.json; every error names the file or field.
func loadSpec(bundle string) (*specs.Spec, error) {
	path := filepath.Join(bundle, specConfig)
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s not found in bundle %s (create one with \"runx spec\")", specConfig, bundle)
		}
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return parseSpec(path, data, bundle)
}

// parseSpec decodes and checks the config.json read from path.
func parseSpec(path string, data []byte, bundle string) (*specs.Spec, error) {
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("%s: malformed JSON: %s", path, jsonErrorPlace(data, err))
	}
	if err := validateSpec(&spec, bundle); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &spec, nil
}

// jsonErrorPlace adds the line and column of a JSON syntax error.
func jsonErrorPlace(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	if errors.As(err, &se) {
		off = se.Offset
	} else if errors.As(err, &te) {
		off = te.Offset
		if te.Field != "" {
			return fmt.Sprintf("field %q: %v", te.Field, err)
		}
	}
	if off < 0 || off > int64(len(data)) {
		return err.Error()
	}
	line := 1 + strings.Count(string(data[:off]), "\n")
	col := off - int64(strings.LastIndex(string(data[:off]), "\n"))
	return fmt.Sprintf("line %d, column %d: %v", line, col, err)
}

// validateSpec checks what every isolation mode needs before anything is created.
func validateSpec(spec *specs.Spec, bundle string) error {
	if spec.Version == "" {
		return errors.New("ociVersion is missing")
	}
	if !strings.HasPrefix(spec.Version, "1.") {
		return fmt.Errorf("ociVersion %q is not supported: runx implements runtime-spec 1.x (up to %s)", spec.Version, specs.Version)
	}
	if spec.Root == nil || spec.Root.Path == "" {
		return errors.New("root.path is missing: the bundle must name its root filesystem")
	}
	rootfs := isolation.RootfsOf(spec, bundle)
	if fi, err := os.Stat(rootfs); err != nil {
		return fmt.Errorf("root.path: rootfs %s: %w", rootfs, errors.Unwrap(err))
	} else if !fi.IsDir() {
		return fmt.Errorf("root.path: rootfs %s is not a directory", rootfs)
	}
	for i, m := range spec.Mounts {
		if err := validateMount(m, bundle); err != nil {
			return fmt.Errorf("mounts[%d] (destination %q): %w", i, m.Destination, err)
		}
	}
	return validateProcess(spec.Process)
}

// validateMount catches, before anything is created, what would otherwise fail
// deep inside the container's setup with no hint of which mount was meant.
func validateMount(m specs.Mount, bundle string) error {
	if m.Destination == "" {
		return errors.New("destination is missing")
	}
	bind := m.Type == "bind"
	for _, o := range m.Options {
		if o == "bind" || o == "rbind" {
			bind = true
		}
	}
	if !bind {
		return nil
	}
	src := m.Source
	if src == "" {
		return errors.New("a bind mount needs a source")
	}
	if !filepath.IsAbs(src) {
		src = filepath.Join(bundle, src)
	}
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("source %s: %w", src, errors.Unwrap(err))
	}
	return nil
}

func validateProcess(p *specs.Process) error {
	switch {
	case p == nil:
		return errors.New("process is missing")
	case p.Cwd == "":
		return errors.New("process.cwd is missing")
	case !filepath.IsAbs(p.Cwd):
		return fmt.Errorf("process.cwd %q must be an absolute path", p.Cwd)
	case len(p.Args) == 0:
		return errors.New("process.args must not be empty")
	}
	if c := p.Capabilities; c != nil {
		for set, names := range map[string][]string{"bounding": c.Bounding, "effective": c.Effective,
			"inheritable": c.Inheritable, "permitted": c.Permitted, "ambient": c.Ambient} {
			for _, n := range names {
				if !knownCapability(n) {
					return fmt.Errorf("process.capabilities.%s: unknown capability %q", set, n)
				}
			}
		}
	}
	return nil
}

var knownCaps map[string]bool

func knownCapability(name string) bool {
	if knownCaps == nil {
		knownCaps = map[string]bool{}
		for _, c := range capability.ListKnown() {
			knownCaps["CAP_"+strings.ToUpper(c.String())] = true
		}
	}
	return knownCaps[name]
}

// absPath makes a path flag absolute before runx changes its directory.
func absPath(c *cli.Context, name string) (string, error) {
	v := c.String(name)
	if v == "" {
		return "", nil
	}
	p, err := filepath.Abs(v)
	if err != nil {
		return "", fmt.Errorf("--%s %s: %w", name, v, err)
	}
	return p, nil
}
