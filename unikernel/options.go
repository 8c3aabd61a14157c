package unikernel

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Options are solo5-spt's command line (section 9).
type Options struct {
	MemMiB      uint64
	XExecHeap   bool
	Blocks      []Attach // in command-line order
	SectorSizes map[string]int
	Nets        []Attach
	MACs        map[string]string
	Kernel      string
	Args        []string
}

// MaxMemMiB is where runx's image starts (the Makefile links it at 0x70000000).
const MaxMemMiB = 1792

// Attach names a manifest device and its host resource.
type Attach struct{ Name, Value string }

// Version is what --version prints, as upstream's tender does.
const Version = "solo5-spt tender (runx), version v0.12.1-runx\nABI version 2"

// Usage is printed on a bad command line.
const Usage = `usage: runx spt [ CORE OPTIONS ] [ MODULE OPTIONS ] [ -- ] KERNEL [ ARGS ]
KERNEL is the filename of the unikernel to run.
ARGS are optional arguments passed to KERNEL.
Core options:
  [ --mem=512 ] (guest memory in MB)
    --help (display this help)
    --version (display version information)
  [ --x-exec-heap ] (make the heap executable)
Compiled-in modules: net block
Module options:
  [ --block:NAME=PATH ] (attach block device/file at PATH as block storage NAME)
  [ --block-sector-size:NAME=SIZE ] (set sector size of block storage NAME to SIZE bytes)
  [ --net:NAME=IFACE | @NN ] (attach tap at IFACE or at fd @NN as network NAME)
  [ --net-mac:NAME=HWADDR ] (set HWADDR for network NAME)`

// ErrHelp and ErrVersion ask the caller to print usage or the version.
var (
	ErrHelp    = errors.New("help requested")
	ErrVersion = errors.New("version requested")
)

// UsageError is a bad command line: printed with the usage text, exit 1.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// validName is [A-Za-z0-9]{1,67}, written out: a package-level regexp would be
// compiled at every start of runx.
func validName(n string) bool {
	if len(n) < 1 || len(n) > 67 {
		return false
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// ParseArgs reads the arguments after "spt" (or after "solo5-spt").
func ParseArgs(args []string) (*Options, error) {
	o := &Options{MemMiB: 512, SectorSizes: map[string]int{}, MACs: map[string]string{}}
	// First pass: find KERNEL and answer --help and --version at once.
	k := -1
scan:
	for i, a := range args {
		switch {
		case a == "--help":
			return nil, ErrHelp
		case a == "--version":
			return nil, ErrVersion
		case a == "--":
			if i+1 < len(args) {
				k = i + 1
			}
			break scan
		case !strings.HasPrefix(a, "-"):
			k = i
			break scan
		}
	}
	if k < 0 {
		return nil, &UsageError{"Missing KERNEL operand"}
	}
	o.Kernel, o.Args = args[k], args[k+1:]
	for _, a := range args[:k] {
		if a == "--" {
			continue
		}
		if err := o.option(a); err != nil {
			return nil, err
		}
	}
	return o, nil
}

func (o *Options) option(a string) error {
	key, val, hasVal := strings.Cut(a, "=")
	switch {
	case key == "--mem" && hasVal:
		n, err := strconv.ParseUint(val, 10, 64)
		if err != nil || n == 0 {
			return &UsageError{fmt.Sprintf("Invalid value for --mem: %q", val)}
		}
		if n > MaxMemMiB {
			return &UsageError{fmt.Sprintf("--mem=%d: at most %d MiB (guest memory lies below runx's own image)", n, MaxMemMiB)}
		}
		o.MemMiB = n
	case key == "--x-exec-heap" && !hasVal:
		o.XExecHeap = true
	case strings.HasPrefix(key, "--block:") && hasVal:
		name, err := deviceName(key, "--block:")
		if err != nil {
			return err
		}
		o.Blocks = append(o.Blocks, Attach{name, val})
	case strings.HasPrefix(key, "--block-sector-size:") && hasVal:
		name, err := deviceName(key, "--block-sector-size:")
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(val)
		if err != nil || n < 512 || n&(n-1) != 0 || n > 1<<16-1 {
			return &UsageError{fmt.Sprintf("%s: Block sector size must be a power of two of at least 512 bytes (got %q)", a, val)}
		}
		o.SectorSizes[name] = n
	case strings.HasPrefix(key, "--net:") && hasVal:
		name, err := deviceName(key, "--net:")
		if err != nil {
			return err
		}
		o.Nets = append(o.Nets, Attach{name, val})
	case strings.HasPrefix(key, "--net-mac:") && hasVal:
		name, err := deviceName(key, "--net-mac:")
		if err != nil {
			return err
		}
		o.MACs[name] = val
	default:
		return &UsageError{fmt.Sprintf("Invalid option: `%s'", a)}
	}
	return nil
}

func deviceName(key, prefix string) (string, error) {
	name := strings.TrimPrefix(key, prefix)
	if !validName(name) {
		return "", &UsageError{fmt.Sprintf("Invalid device name %q in %s", name, key)}
	}
	return name, nil
}
