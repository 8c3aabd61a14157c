package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"strings"

	"github.com/moby/sys/capability"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/seccomp"
	"github.com/opencontainers/runc/libcontainer/specconv"
	runcfeatures "github.com/opencontainers/runc/types/features"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"github.com/urfave/cli/v2"

	"github.com/runx-dev/runx/isolation"
)

// Annotations of `runx features` that list the isolation modes.
const (
	featModes  = "dev.runx.isolation.modes"  // built into this binary
	featUsable = "dev.runx.isolation.usable" // this host can run them
)

var featuresCommand = &cli.Command{
	Name:      "features",
	Usage:     "show the enabled features",
	ArgsUsage: " ",
	Description: `Show the enabled features as JSON (runtime-spec features.md), with the
isolation modes of this runx in the annotations ` + featModes + ` and ` + featUsable + `.`,
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 0, true); err != nil {
			return err
		}
		t := true
		var built, usable []string
		extra := map[string]string{}
		for _, name := range isolation.Names() {
			m, _ := isolation.Get(name)
			r := m.Check()
			if r.Built {
				built = append(built, name)
			}
			if r.Usable {
				usable = append(usable, name)
			} else if r.Built && r.Why != "" {
				extra["dev.runx."+name+".unusable"] = r.Why // why this host cannot run it
			}
			maps.Copy(extra, r.Features)
		}
		var caps []string
		for _, cp := range capability.ListKnown() {
			caps = append(caps, "CAP_"+strings.ToUpper(cp.String()))
		}
		feat := features.Features{
			OCIVersionMin: "1.0.0",
			OCIVersionMax: specs.Version,
			Hooks:         configs.KnownHookNames(),
			MountOptions:  specconv.KnownMountOptions(),
			Annotations: map[string]string{
				"dev.runx.version":                version,
				featModes:                         strings.Join(built, ","),
				featUsable:                        strings.Join(usable, ","),
				isolation.Annotation + ".default": isolation.Default,
			},
			Linux: &features.Linux{
				Namespaces:   specconv.KnownNamespaces(),
				Capabilities: caps,
				Cgroup:       &features.Cgroup{V1: &t, V2: &t, Systemd: &t, SystemdUser: &t, Rdma: &t},
				Apparmor:     &features.Apparmor{Enabled: &t},
				Selinux:      &features.Selinux{Enabled: &t},
				IntelRdt:     &features.IntelRdt{Enabled: &t},
				MountExtensions: &features.MountExtensions{
					IDMap: &features.IDMap{Enabled: &t},
				},
			},
			PotentiallyUnsafeConfigAnnotations: []string{"bundle", "org.systemd.property.", "org.criu.config"},
		}
		maps.Copy(feat.Annotations, extra)
		if seccomp.Enabled {
			feat.Linux.Seccomp = &features.Seccomp{
				Enabled:        &t,
				Actions:        seccomp.KnownActions(),
				Operators:      seccomp.KnownOperators(),
				Archs:          seccomp.KnownArchs(),
				KnownFlags:     seccomp.KnownFlags(),
				SupportedFlags: seccomp.SupportedFlags(),
			}
			major, minor, patch := seccomp.Version()
			feat.Annotations[runcfeatures.AnnotationLibseccompVersion] = fmt.Sprintf("%d.%d.%d", major, minor, patch)
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "    ")
		return enc.Encode(feat)
	},
}
