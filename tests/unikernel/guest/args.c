/*
 * args: shows what the tender wrote as the command line and what remains
 * after the runtime removed the leading --solo5:<level> tokens, word by word.
 */
#include "uk.h"

int uk_main(const char *cmdline)
{
    char w[UK_CMDLINE_MAX];
    int i;

    uk_printf("Raw command line is: '%s'\n", uk_raw_cmdline);
    uk_printf("Command line is: '%s'\n", cmdline);
    for (i = 0; uk_word(cmdline, i, w, sizeof(w)); i++)
        uk_printf("word %d: '%s'\n", i, w);
    uk_printf("words: %d\n", i);
    uk_printf("length: %lu\n", strlen(uk_raw_cmdline));
    uk_printf("log level: %d\n", uk_loglevel);
    uk_puts("SUCCESS\n");
    return 0;
}
