/*
 * sysprobe [quiet] NR [A0 [A1 ... A5]]: issues system call NR with the given
 * arguments, missing ones 0. A number is decimal or 0x-hex; the words
 * EPOLLFD and TIMERFD stand for the fds in the boot info. If the filter lets
 * the call through, the guest prints what it returned and exits 0, so a test
 * expecting SIGSYS sees status 0 instead of 159. "quiet" prints nothing (a
 * guest that stands for a silent program, sleep).
 */
#include "uk.h"

int uk_main(const char *cmdline)
{
    char w[32];
    uint64_t v[7] = {0};
    int i, quiet = 0;

    if (uk_word(cmdline, 0, w, sizeof(w)) && strcmp(w, "quiet") == 0)
        quiet = 1;
    for (i = 0; i < 7 && uk_word(cmdline, i + quiet, w, sizeof(w)); i++) {
        if (strcmp(w, "EPOLLFD") == 0)
            v[i] = (uint64_t)uk_bi->epollfd;
        else if (strcmp(w, "TIMERFD") == 0)
            v[i] = (uint64_t)uk_bi->timerfd;
        else if (uk_parse_u64(w, &v[i]) != (int)strlen(w))
            uk_abort("arguments must be numbers, EPOLLFD or TIMERFD");
    }
    if (i == 0)
        uk_abort("usage: sysprobe NR [ARGS...]");
    if (!quiet)
        uk_printf("syscall %lu(0x%lx, 0x%lx, 0x%lx, 0x%lx, 0x%lx, 0x%lx)\n",
                  v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
    long r = uk_syscall6((long)v[0], (long)v[1], (long)v[2], (long)v[3],
                         (long)v[4], (long)v[5], (long)v[6]);
    if (!quiet)
        uk_printf("survived: returned %ld\n", r);
    return 0;
}
