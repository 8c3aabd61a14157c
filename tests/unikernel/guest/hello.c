/* hello: greets, echoes its command line, succeeds. */
#include "uk.h"

int uk_main(const char *cmdline)
{
    uk_puts("\n== runx spt test guest: hello ==\n\n");
    uk_puts("Hello, World\n");
    uk_printf("Command line is: '%s'\n", cmdline);
    uk_puts("SUCCESS\n");
    return 0;
}
