/* seccomp: dup(1) is outside the spt allowlist, so the process gets SIGSYS. */
#include "uk.h"

int uk_main(const char *cmdline)
{
    (void)cmdline;
    uk_puts("calling dup(1)\n");
    long r = uk_syscall3(UK_SYS_dup, 1, 0, 0);
    uk_printf("dup(1) returned %ld\nFAILURE\n", r);
    return 1;
}
