package tests

// Tests of behaviour only runx has. They are skipped when RUNX names
// another runtime (runc), and always run when it names runx.

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const isolationAnnotation = "dev.runx.isolation"

var isolationModes = []string{"namespace", "sandbox", "microvm", "unikernel"}

func TestRunxVersion(t *testing.T) {
	requireRunx(t)
	res := runCmd(t, runOpts{}, runtimeBin(t), "--version")
	if res.code != 0 {
		t.Fatalf("--version failed\n%s", res)
	}
	if !strings.HasPrefix(res.stdout, "runx version") {
		t.Errorf("first line of --version = %q, want it to start with \"runx version\"", firstLine(res.stdout))
	}
}

func TestRunxIsolationAnnotationBogus(t *testing.T) {
	requireRunx(t)
	for _, cmd := range []string{"create", "run"} {
		t.Run(cmd, func(t *testing.T) {
			r := newRuntime(t)
			b := newBundle(t, "echo", "should not run")
			b.edit(func(s *specs.Spec) {
				s.Annotations = map[string]string{isolationAnnotation: "bogus"}
			})
			id := newID(t)
			res := r.run(cmd, "--bundle", b.dir, id)
			expectFailure(t, res, "bogus")
			if !strings.Contains(res.stderr, isolationAnnotation) {
				t.Errorf("stderr does not name %s\n%s", isolationAnnotation, res)
			}
			if strings.Contains(res.stdout, "should not run") {
				t.Errorf("the process ran despite the bad isolation mode\n%s", res)
			}
			assertNothingLeft(t, r.root, id, b.dir)
		})
	}
}

func TestRunxIsolationFlagBogus(t *testing.T) {
	requireRunx(t)
	r := newRuntime(t)
	b := newBundle(t, "echo", "should not run")
	id := newID(t)
	r.track(id)
	res := runCmd(t, runOpts{}, r.bin, "--root", r.root, "--isolation", "bogus", "create", "--bundle", b.dir, id)
	expectFailure(t, res, "bogus")
	if !strings.Contains(res.stderr, "isolation") {
		t.Errorf("stderr does not mention isolation\n%s", res)
	}
	assertNothingLeft(t, r.root, id, b.dir)

	res = runCmd(t, runOpts{}, r.bin, "--root", r.root, "--isolation", "bogus", "run", "--bundle", b.dir, id)
	expectFailure(t, res, "bogus")
	if strings.Contains(res.stdout, "should not run") {
		t.Errorf("the process ran despite --isolation bogus\n%s", res)
	}
	assertNothingLeft(t, r.root, id, b.dir)
}

func TestRunxIsolationFlagNamespace(t *testing.T) {
	requireRunx(t)
	r := newRuntime(t)
	b := newBundle(t, "echo", "namespace mode")
	id := newID(t)
	r.track(id)
	res := runCmd(t, runOpts{}, r.bin, "--root", r.root, "--isolation", "namespace", "run", "--bundle", b.dir, id)
	if res.code != 0 || res.stdout != "namespace mode\n" {
		t.Errorf("run with --isolation namespace: want exit 0 and %q\n%s", "namespace mode\n", res)
	}
	assertNothingLeft(t, r.root, id, b.dir)
}

func TestRunxIsolationRecorded(t *testing.T) {
	requireRunx(t)
	r := newRuntime(t)
	b := newBundle(t)
	want := map[string]string{
		isolationAnnotation:  "namespace",
		"org.runx.test.keep": "kept",
	}
	b.edit(func(s *specs.Spec) { s.Annotations = want })
	id := newID(t)
	r.ok("create", "--bundle", b.dir, id)
	for _, phase := range []string{"created", "running"} {
		if phase == "running" {
			r.ok("start", id)
			r.waitStatus(id, "running", 10*time.Second)
		}
		st := r.state(id)
		for k, v := range want {
			if st.Annotations[k] != v {
				t.Errorf("%s: state annotation %s = %q, want %q (all: %v)", phase, k, st.Annotations[k], v, st.Annotations)
			}
		}
	}
	res := r.ok("list", "--format", "json")
	var items []containerState
	if err := json.Unmarshal([]byte(res.stdout), &items); err != nil || len(items) != 1 {
		t.Fatalf("list --format json: %v\n%s", err, res)
	}
	if items[0].Annotations[isolationAnnotation] != "namespace" {
		t.Errorf("list json annotations = %v, want %s=namespace", items[0].Annotations, isolationAnnotation)
	}
	r.ok("delete", "-f", id)
	assertNothingLeft(t, r.root, id, b.dir)
}

func TestRunxFeatures(t *testing.T) {
	requireRunx(t)
	res := runCmd(t, runOpts{}, runtimeBin(t), "features")
	if res.code != 0 {
		t.Fatalf("features failed\n%s", res)
	}
	var f map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &f); err != nil {
		t.Fatalf("features output is not JSON: %v\n%s", err, res)
	}
	if !strings.Contains(res.stdout, "namespace") {
		t.Errorf("features output does not mention the namespace mode\n%s", res)
	}
	if ann, ok := f["annotations"].(map[string]any); !ok {
		t.Logf("note: features has no \"annotations\" object")
	} else if _, ok := ann["dev.runx.isolation.modes"]; !ok {
		t.Logf("note: features annotations lack dev.runx.isolation.modes: %v", ann)
	}
}

func TestRunxCheck(t *testing.T) {
	requireRunx(t)
	requireRoot(t)
	res := runCmd(t, runOpts{}, runtimeBin(t), "check")
	if res.code != 0 {
		t.Fatalf("check failed\n%s", res)
	}
	out := res.stdout + res.stderr
	for _, m := range isolationModes {
		if !strings.Contains(out, m) {
			t.Errorf("check output does not mention the %s mode\n%s", m, res)
		}
	}
}

func TestRunxUnsupportedOCIVersion(t *testing.T) {
	// runc 1.1.5 accepts any ociVersion, so this is a runx expectation.
	requireRunx(t)
	for _, v := range []string{"0.1.0", "9.0.0"} {
		t.Run(v, func(t *testing.T) {
			r := newRuntime(t)
			b := newBundle(t, "echo", "should not run")
			b.edit(func(s *specs.Spec) { s.Version = v })
			id := newID(t)
			res := r.run("run", "--bundle", b.dir, id)
			expectFailure(t, res, v, "ociVersion")
			if strings.Contains(res.stdout, "should not run") {
				t.Errorf("the process ran despite ociVersion %s\n%s", v, res)
			}
			assertNothingLeft(t, r.root, id, b.dir)
		})
	}
}
