/*
 * ssp: built with -fstack-protector-all -mstack-protector-guard=global; a
 * stack buffer overrun must end in the runtime's abort (status 255).
 */
#include "uk.h"

static void __attribute__((noinline)) smash(volatile char *dst, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = 'A';
}

static int __attribute__((noinline)) victim(size_t n)
{
    volatile char buf[16];
    smash(buf, n);
    return buf[0];
}

int uk_main(const char *cmdline)
{
    (void)cmdline;
    uk_puts("smashing the stack\n");
    victim(64);
    uk_puts("survived\nFAILURE\n");
    return 1;
}
