package isolation

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

type fakeMode struct{ name string }

func (f fakeMode) Name() string                           { return f.name }
func (f fakeMode) Check() Report                          { return Report{Mode: f.name, Built: true, Usable: true} }
func (f fakeMode) Create(*CreateRequest) (int, error)     { return 0, nil }
func (f fakeMode) Load(string, string) (Container, error) { return nil, nil }

// The real modes register from their own packages; these stand in for them.
func init() {
	Register(fakeMode{name: Default})
	Register(fakeMode{name: "sandbox"})
	Register(fakeMode{name: "microvm"})
}

func TestSelectOrder(t *testing.T) {
	withAnn := &specs.Spec{Annotations: map[string]string{Annotation: "sandbox"}}
	plain := &specs.Spec{}
	cases := []struct {
		spec        *specs.Spec
		flag, argv0 string
		want        string
	}{
		{withAnn, "microvm", "/usr/bin/runx-sandbox", "sandbox"},
		{plain, "microvm", "/usr/bin/runx-sandbox", "microvm"},
		{plain, "", "/usr/bin/runx-sandbox", "sandbox"},
		{plain, "", "/usr/bin/runx", Default},
		{plain, "", "runc", Default},
	}
	for _, c := range cases {
		m, err := Select(c.spec, c.flag, c.argv0)
		if err != nil {
			t.Fatalf("Select(%v, %q, %q): %v", c.spec.Annotations, c.flag, c.argv0, err)
		}
		if m.Name() != c.want {
			t.Errorf("Select(%v, %q, %q) = %s, want %s", c.spec.Annotations, c.flag, c.argv0, m.Name(), c.want)
		}
	}
}

func TestSelectUnknownNamesTheSource(t *testing.T) {
	_, err := Select(&specs.Spec{Annotations: map[string]string{Annotation: "bogus"}}, "", "runx")
	if err == nil || !strings.Contains(err.Error(), Annotation) || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("annotation error = %v", err)
	}
	_, err = Select(&specs.Spec{}, "bogus", "runx")
	if err == nil || !strings.Contains(err.Error(), "--isolation") {
		t.Errorf("flag error = %v", err)
	}
	if m, err := Select(&specs.Spec{}, "", "/bin/runx-static"); err != nil || m.Name() != Default {
		t.Errorf("a program name that is no mode gave %v, %v; want the default", m, err)
	}
}

func TestValidateID(t *testing.T) {
	for _, ok := range []string{"a", "abc-DEF_1.2+3", strings.Repeat("x", 255)} {
		if err := ValidateID(ok); err != nil {
			t.Errorf("ValidateID(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", "a/b", "../x", "a b", "a\x00", strings.Repeat("x", 256)} {
		if err := ValidateID(bad); err == nil {
			t.Errorf("ValidateID(%q) accepted", bad)
		}
	}
}

func TestRecordAndLoadPickTheMode(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "c1"), 0o700); err != nil {
		t.Fatal(err)
	}
	Register(unbuilt{name: "futurevm", probe: func() []string { return nil }})
	if err := Record(root, "c1", "futurevm"); err != nil {
		t.Fatal(err)
	}
	_, err := Load(root, "c1")
	if err == nil || !strings.Contains(err.Error(), "futurevm") {
		t.Errorf("Load of a container of a mode not built = %v, want an error naming the mode", err)
	}
	if _, err := Load(root, "missing"); err != ErrNotExist {
		t.Errorf("Load(missing) = %v, want ErrNotExist", err)
	}
}

func TestUnbuiltModesFailClearly(t *testing.T) {
	Register(unbuilt{name: "futurevm", probe: func() []string { return nil }})
	for _, n := range []string{"futurevm"} {
		m, err := Get(n)
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.Create(&CreateRequest{})
		if err == nil || !strings.Contains(err.Error(), n) || !strings.Contains(err.Error(), "not built") {
			t.Errorf("%s Create = %v", n, err)
		}
		if r := m.Check(); r.Usable || r.Why == "" {
			t.Errorf("%s Check = %+v", n, r)
		}
	}
}

func TestVersionAtLeast(t *testing.T) {
	for v, want := range map[string]bool{
		"1.0.0": false, "1.1.0": false, "1.1.0-rc.1": false, "1.2.0": true, "1.3.0": true,
		"1.2": true, "2.0.0": true, "garbage": true, "1.10.0": true,
	} {
		if got := VersionAtLeast(v, 1, 2); got != want {
			t.Errorf("VersionAtLeast(%q, 1, 2) = %v, want %v", v, got, want)
		}
	}
}
