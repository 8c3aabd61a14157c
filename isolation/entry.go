package isolation

import "path/filepath"

// Entries are the names runx is started by inside a container or a guest,
// where it is a mode's own program rather than the runc command line: the
// sandbox's Sentry (runx-sentry), the unikernel tender (solo5-spt), the
// microvm guest agent (/init). A mode registers its entries in init; main
// runs the one argv[0] names before the command-line framework starts.
var entries = map[string]func(args []string){}

// RegisterEntry makes main run fn(os.Args[1:]) when runx is started as name
// (the base name of argv[0]). fn does not return.
func RegisterEntry(name string, fn func(args []string)) { entries[name] = fn }

// EntryFor is the entry argv0 names, or nil.
func EntryFor(argv0 string) func(args []string) { return entries[filepath.Base(argv0)] }
