package isolation

import (
	"fmt"
)

// unbuilt stands for a mode that this runx does not implement yet: it is known
// by name, `runx check` reports on the host, and create fails with a clear
// error. (Every mode is built today; a new one starts as this.)
type unbuilt struct {
	name  string
	probe func() []string
}

func (u unbuilt) Name() string { return u.name }

func (u unbuilt) Check() Report {
	return Report{Mode: u.name, Built: false, Usable: false,
		Why: "not built yet in this version of runx", Facts: u.probe()}
}

func (u unbuilt) Create(*CreateRequest) (int, error) {
	return -1, fmt.Errorf("isolation mode %q is not built yet in this version of runx: "+
		"run the container in the %q mode (remove the %s annotation or the --isolation flag)", u.name, Default, Annotation)
}

func (u unbuilt) Load(root, id string) (Container, error) {
	return nil, fmt.Errorf("container %s uses isolation mode %q, which this runx cannot run", id, u.name)
}

var _ Mode = unbuilt{}
