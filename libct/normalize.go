package libct

import (
	devcfg "github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/sirupsen/logrus"
)

// normalize smooths over places where libcontainer refuses configurations that
// the kernel, runc 1.1 and crun accept, so bundles written for them run here.
func normalize(config *configs.Config) {
	for _, m := range config.Mounts {
		// The kernel ignores file-system data on a bind mount.
		if m.IsBind() && m.Data != "" {
			logrus.Debugf("mount %s: ignoring options %q, which a bind mount cannot take", m.Destination, m.Data)
			m.Data = ""
		}
	}
	if c := config.Capabilities; c != nil {
		c.Ambient = raisableAmbient(c.Ambient, c.Permitted, c.Inheritable)
	}
	for _, d := range config.Devices {
		// A fifo has no device number: mknod ignores the one given.
		if d.Type == devcfg.FifoDevice {
			d.Major, d.Minor = 0, 0
		}
	}
}
