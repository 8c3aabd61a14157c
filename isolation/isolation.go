// Package isolation defines the interface every runx isolation mode implements
// and picks the mode a container runs under. The commands at the repository root
// only talk to this interface.
package isolation

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/types"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Annotation is the config.json annotation that selects the isolation mode.
const Annotation = "dev.runx.isolation"

// Default is the mode used when nothing asks for another.
const Default = "namespace"

// modeFile records, inside a container's state directory, which mode owns it.
// Its absence means the namespace mode, whose state directory libcontainer owns.
const modeFile = "runx-isolation"

// Mode is one way of isolating a container.
type Mode interface {
	// Name is the value of dev.runx.isolation that selects this mode.
	Name() string
	// Check tells whether this host can run the mode.
	Check() Report
	// Create makes the container described by req. With req.Run set it also
	// starts it and, unless req.Detach, waits for it and returns its exit status.
	Create(req *CreateRequest) (int, error)
	// Load opens an existing container of this mode.
	Load(root, id string) (Container, error)
}

// Report is the answer of Mode.Check.
type Report struct {
	Mode   string   `json:"mode"`
	Built  bool     `json:"built"`
	Usable bool     `json:"usable"`
	Why    string   `json:"why,omitempty"`
	Facts  []string `json:"facts,omitempty"`
	// Features are annotations of runx features that the mode adds
	// (dev.runx.<mode>.*: which hypervisor and accelerator, ...).
	Features map[string]string `json:"features,omitempty"`
}

// CreateRequest carries what create and run were asked for.
type CreateRequest struct {
	Root          string
	ID            string
	Bundle        string // absolute
	Spec          *specs.Spec
	PidFile       string // absolute, or empty
	ConsoleSocket string
	PidfdSocket   string
	NoPivot       bool
	NoNewKeyring  bool
	PreserveFDs   int
	Run           bool // start the container too (runc run)
	Detach        bool
	Keep          bool // keep the container after a foreground run
	NoSubreaper   bool
	SystemdCgroup bool
	Rootless      string // auto, true or false
}

// ExecRequest carries what exec was asked for.
type ExecRequest struct {
	Process       *specs.Process
	Detach        bool
	PidFile       string
	ConsoleSocket string
	PidfdSocket   string
	PreserveFDs   int
	SubCgroup     map[string]string
	IgnorePaused  bool
	// ExtraFiles are a mode's own descriptors for the process, after the
	// preserved ones.
	ExtraFiles []*os.File
}

// State is runc's state JSON.
type State struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Container is a container of some mode, as the commands see it.
type Container interface {
	ID() string
	Mode() string
	State() (*State, error)
	Start() error
	Signal(sig syscall.Signal, all bool) error
	// Delete removes the container; force kills it first when it runs.
	Delete(force bool) error
	Exec(req *ExecRequest) (int, error)
	Pause() error
	Resume() error
	Processes() ([]int, error)
	Update(r *specs.LinuxResources) error
	Stats() (*types.Stats, error)
	// OOMNotify is closed on each OOM event; nil when the mode cannot tell.
	OOMNotify() (<-chan struct{}, error)
}

// ProcessTabler is a container whose ps table is not the host's ps over its
// Processes: the microvm mode's processes are the guest's, with guest pids.
type ProcessTabler interface {
	ProcessTable(psArgs []string) (string, error)
}

// CheckpointOptions are runc's checkpoint and restore flags, as CRIU takes
// them (libcontainer's type: the namespace mode hands them on unchanged).
type CheckpointOptions = libcontainer.CriuOpts

// Checkpointer is a container whose processes can be checkpointed with CRIU.
// A container of a mode without it refuses checkpoint.
type Checkpointer interface {
	Checkpoint(opts *CheckpointOptions) error
}

// Restorer is a mode that can make a container from a checkpoint: req as
// for run, the process restored instead of started.
type Restorer interface {
	Restore(req *CreateRequest, opts *CheckpointOptions) (int, error)
}

// NamespaceModeOnly is the error of an operation only the namespace mode has
// (checkpoint, restore), asked of a container of another mode.
func NamespaceModeOnly(op, mode string) error {
	return fmt.Errorf("%s is not supported in the %s isolation mode (only in the namespace mode)", op, mode)
}

// Errors whose wording the containerd shim and other engines match on.
var (
	ErrNotExist   = errors.New("container does not exist")
	ErrNotRunning = errors.New("container not running")
	ErrNotPaused  = errors.New("container not paused")
	ErrPaused     = errors.New("container paused")
)

var modes = map[string]Mode{}

// Register makes a mode selectable. Called from the modes' init functions.
func Register(m Mode) { modes[m.Name()] = m }

// Names lists every known mode, sorted with the default first.
func Names() []string {
	names := make([]string, 0, len(modes))
	for n := range modes {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if names[i] == Default || names[j] == Default {
			return names[i] == Default
		}
		return names[i] < names[j]
	})
	return names
}

// Get returns the mode called name.
func Get(name string) (Mode, error) {
	if m, ok := modes[name]; ok {
		return m, nil
	}
	return nil, fmt.Errorf("unknown isolation mode %q (known modes: %s)", name, strings.Join(Names(), ", "))
}

// FromProgramName maps runx-<mode> (the name the binary was called by) to a mode name.
func FromProgramName(argv0 string) string {
	base := filepath.Base(argv0)
	if rest, ok := strings.CutPrefix(base, "runx-"); ok {
		return rest
	}
	return ""
}

// Select picks the mode for a new container: the annotation in config.json, then
// the --isolation flag, then the program name, then the default.
func Select(spec *specs.Spec, flag, argv0 string) (Mode, error) {
	if v, ok := spec.Annotations[Annotation]; ok {
		m, err := Get(v)
		if err != nil {
			return nil, fmt.Errorf("config.json: annotations[%q]: %w", Annotation, err)
		}
		return m, nil
	}
	if flag != "" {
		m, err := Get(flag)
		if err != nil {
			return nil, fmt.Errorf("--isolation: %w", err)
		}
		return m, nil
	}
	// Only a known mode counts: a binary renamed runx-1.0 or runx-static is plain runx.
	if m, ok := modes[FromProgramName(argv0)]; ok {
		return m, nil
	}
	return Get(Default)
}

// Record writes the owning mode into a container's state directory so that every
// later command reaches the same mode.
func Record(root, id, mode string) error {
	if mode == Default {
		return nil
	}
	// Whole: an empty record left by a runx killed mid-write would be no
	// mode's (state, kill and delete go by it).
	return WriteFileAtomic(filepath.Join(root, id, modeFile), []byte(mode+"\n"), 0o600)
}

// WriteFileAtomic writes a file of a container's state whole or not at all
// (a temporary file renamed over it): a runx killed at any point leaves
// either the old file or the new one, which later commands can read.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// Load opens container id under root with the mode that created it.
func Load(root, id string) (Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, id)
	if _, err := os.Stat(dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, ErrNotExist
		}
		return nil, err
	}
	name := Default
	if b, err := os.ReadFile(filepath.Join(dir, modeFile)); err == nil {
		name = strings.TrimSpace(string(b))
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	m, err := Get(name)
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", id, err)
	}
	return m.Load(root, id)
}

// List returns the ids of the containers under root.
func List(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// maxIDLen is NAME_MAX: the id names the container's state directory.
const maxIDLen = 255

// ValidateID accepts the ids libcontainer accepts (letters, digits, "_", "+",
// "-", "."; not "." or "..") up to NAME_MAX bytes, and says what is wrong.
func ValidateID(id string) error {
	switch {
	case id == "":
		return errors.New("container id cannot be empty")
	case len(id) > maxIDLen:
		return fmt.Errorf("invalid container id: it is %d bytes long, the limit is %d", len(id), maxIDLen)
	case id == "." || id == "..":
		return fmt.Errorf("invalid container id %q", id)
	case strings.ContainsAny(id, "/\\"):
		return fmt.Errorf("invalid container id %q: it contains a path separator", id)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '+' || c == '-' || c == '.') {
			return fmt.Errorf("invalid container id %q: only letters, digits, '_', '+', '-' and '.' are allowed", id)
		}
	}
	return nil
}
