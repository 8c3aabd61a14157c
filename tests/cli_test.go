package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestVersion(t *testing.T) {
	res := runCmd(t, runOpts{}, runtimeBin(t), "--version")
	if res.code != 0 {
		t.Fatalf("--version failed\n%s", res)
	}
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if !strings.Contains(lines[0], " version ") {
		t.Errorf("first line of --version = %q, want \"<name> version <v>\"", lines[0])
	}
	hasSpec := false
	for _, l := range lines {
		if strings.HasPrefix(l, "spec: ") {
			hasSpec = true
		}
	}
	if !hasSpec {
		t.Errorf("--version lacks a \"spec: \" line\n%s", res)
	}
}

func TestFeatures(t *testing.T) {
	res := runCmd(t, runOpts{}, runtimeBin(t), "features")
	if res.code != 0 {
		t.Fatalf("features failed\n%s", res)
	}
	var f map[string]json.RawMessage
	if err := json.Unmarshal([]byte(res.stdout), &f); err != nil {
		t.Fatalf("features output is not a JSON object: %v\n%s", err, res)
	}
	for _, k := range []string{"ociVersionMin", "ociVersionMax"} {
		if _, ok := f[k]; !ok {
			t.Errorf("features lacks %q", k)
		}
	}
}

func TestSpec(t *testing.T) {
	dir := t.TempDir()
	res := runCmd(t, runOpts{dir: dir}, runtimeBin(t), "spec")
	if res.code != 0 {
		t.Fatalf("spec failed\n%s", res)
	}
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("config.json from spec: %v", err)
	}
	if s.Version == "" || s.Process == nil || s.Root == nil || s.Linux == nil {
		t.Fatalf("spec lacks ociVersion, process, root or linux:\n%s", data)
	}
	if !s.Process.Terminal || strings.Join(s.Process.Args, " ") != "sh" {
		t.Errorf("default process: terminal %v args %q, want true and [sh]", s.Process.Terminal, s.Process.Args)
	}
	if s.Root.Path != "rootfs" {
		t.Errorf("root.path = %q, want rootfs", s.Root.Path)
	}
	// a second spec does not overwrite the first
	res = runCmd(t, runOpts{dir: dir}, runtimeBin(t), "spec")
	expectFailure(t, res, "config.json")

	// --bundle writes elsewhere
	other := t.TempDir()
	res = runCmd(t, runOpts{dir: dir}, runtimeBin(t), "spec", "--bundle", other)
	if res.code != 0 {
		t.Fatalf("spec --bundle failed\n%s", res)
	}
	if _, err := os.Stat(filepath.Join(other, "config.json")); err != nil {
		t.Errorf("spec --bundle %s: %v", other, err)
	}
}
