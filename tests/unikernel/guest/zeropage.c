/* zeropage: a write to address 8 (the unmapped page below 0x10000): SIGSEGV. */
#include "uk.h"

int uk_main(const char *cmdline)
{
    (void)cmdline;
    uk_puts("writing to address 8\n");
    uintptr_t addr = 8;
    __asm__("" : "+r"(addr)); /* hide the constant from the optimiser */
    *(volatile uint64_t *)addr = 1;
    uk_puts("survived\nFAILURE\n");
    return 1;
}
