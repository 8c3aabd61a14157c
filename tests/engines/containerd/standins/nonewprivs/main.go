// Command nonewprivs stands in for the program of the Kubernetes e2e
// "nonewprivs" image. The image installs it set-user-ID root; it prints the
// effective user ID it runs with, which tells whether the set-user-ID bit took
// effect (no_new_privs off) or not (no_new_privs on).
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Printf("Effective uid: %d\n", os.Geteuid())
}
