/*
 * fault: memory accesses the spt tender must let the host kernel punish
 * with SIGSEGV (status 139). The first word picks the access:
 *
 *   unmapped  write to 2^34, far above guest memory (default)
 *   text      write to the text segment
 *   rodata    write to read-only data
 *   execdata  call code placed in the (non-executable) data segment
 *   execstack call code placed on the (non-executable) stack
 *   notls     read %fs:0x28 after the runtime set the FS base to 0
 */
#include "uk.h"

/* not volatile: gcc would put a const volatile object in .data */
static const uint64_t ro_value __attribute__((used)) = 0x1122334455667788ULL;
/* "ret" */
static uint8_t data_code[16] = {0xc3};

int uk_main(const char *cmdline)
{
    char mode[32] = "unmapped";
    uk_word(cmdline, 0, mode, sizeof(mode));
    uk_printf("fault mode: %s\n", mode);

    if (strcmp(mode, "unmapped") == 0) {
        uintptr_t addr = 1UL << 34;
        __asm__("" : "+r"(addr));
        *(volatile uint64_t *)addr = 1;
    } else if (strcmp(mode, "text") == 0) {
        *(volatile uint8_t *)(void *)&uk_main = 0xcc;
    } else if (strcmp(mode, "rodata") == 0) {
        uintptr_t addr = (uintptr_t)&ro_value;
        __asm__("" : "+r"(addr));
        *(volatile uint64_t *)addr = 0;
    } else if (strcmp(mode, "execdata") == 0) {
        ((void (*)(void))(void *)data_code)();
    } else if (strcmp(mode, "execstack") == 0) {
        volatile uint8_t stack_code[16];
        stack_code[0] = 0xc3;
        ((void (*)(void))(void *)stack_code)();
    } else if (strcmp(mode, "notls") == 0) {
        uint64_t v;
        __asm__ volatile("movq %%fs:0x28, %0" : "=r"(v));
        uk_printf("read %%fs:0x28 = 0x%lx\n", v);
    } else {
        uk_abort("unknown mode");
    }
    uk_puts("survived the fault\nFAILURE\n");
    return 1;
}
