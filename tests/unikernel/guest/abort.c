/* abort: gives up through the runtime's abort path (status 255). */
#include "uk.h"

int uk_main(const char *cmdline)
{
    (void)cmdline;
    uk_puts("about to abort\n");
    uk_abort("the abort test guest aborts on purpose");
}
