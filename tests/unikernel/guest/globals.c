/*
 * globals: initialised data is loaded, writable and private; .bss is zero
 * and writable; read-only data is readable.
 */
#include "uk.h"

static volatile uint64_t counter = 0x1122334455667788ULL;
static volatile char greeting[] = "initialised data";
static volatile uint64_t zeroes[4096]; /* 32 KiB of .bss, several pages */
static const char ro[] = "read-only data";

int uk_main(const char *cmdline)
{
    (void)cmdline;
    int failures = 0;

    if (counter != 0x1122334455667788ULL) {
        uk_puts("FAIL: .data initial value\n");
        failures++;
    }
    counter += 1;
    if (counter != 0x1122334455667789ULL) {
        uk_puts("FAIL: .data write\n");
        failures++;
    }
    if (greeting[0] != 'i' || greeting[15] != 'a') {
        uk_puts("FAIL: .data string\n");
        failures++;
    }
    greeting[0] = 'I';
    if (greeting[0] != 'I') {
        uk_puts("FAIL: .data string write\n");
        failures++;
    }
    for (size_t i = 0; i < 4096; i++) {
        if (zeroes[i] != 0) {
            uk_puts("FAIL: .bss is not zero\n");
            failures++;
            break;
        }
        zeroes[i] = i * 3 + 1;
    }
    for (size_t i = 0; i < 4096; i++) {
        if (zeroes[i] != i * 3 + 1) {
            uk_puts("FAIL: .bss write\n");
            failures++;
            break;
        }
    }
    if (strcmp(ro, "read-only data") != 0) {
        uk_puts("FAIL: .rodata\n");
        failures++;
    }
    /* heap and stack region above _end is usable too */
    extern char _end[];
    volatile uint64_t *heap = (volatile uint64_t *)(((uint64_t)_end + 0xfff) & ~0xfffUL);
    heap[0] = 42;
    heap[1000] = 43;
    if (heap[0] != 42 || heap[1000] != 43) {
        uk_puts("FAIL: heap\n");
        failures++;
    }
    if (failures) {
        uk_puts("FAILURE\n");
        return 1;
    }
    uk_puts("SUCCESS\n");
    return 0;
}
