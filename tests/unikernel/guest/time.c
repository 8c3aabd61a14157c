/*
 * time: the clocks work and yield sleeps until its deadline.
 *
 * - the monotonic clock never goes back and advances;
 * - the wall clock is plausible (after 2020-01-01);
 * - yield to a deadline 200 ms ahead returns no earlier than the deadline
 *   (and not absurdly late);
 * - three consecutive 50 ms yields each wait (re-arming clears the expiry);
 * - a deadline in the past, and deadline 0, return at once;
 * - with no net device the ready set is empty.
 */
#include "uk.h"

#define MS 1000000UL

static int failures;

static void fail(const char *what, uint64_t a, uint64_t b)
{
    uk_printf("FAIL: %s (%lu, %lu)\n", what, a, b);
    failures++;
}

int uk_main(const char *cmdline)
{
    (void)cmdline;
    uk_handle_set_t ready;

    uk_time_t wall = uk_clock_wall();
    uk_printf("wall clock: %lu s\n", wall / 1000000000UL);
    if (wall < 1577836800UL * 1000000000UL)
        fail("wall clock before 2020", wall, 0);

    uk_time_t t0 = uk_clock_monotonic(), prev = t0, t;
    int advanced = 0;
    for (int i = 0; i < 10000000 && !advanced; i++) {
        t = uk_clock_monotonic();
        if (t < prev)
            fail("monotonic clock went back", prev, t);
        if (t > t0)
            advanced = 1;
        prev = t;
    }
    if (!advanced)
        fail("monotonic clock does not advance", t0, prev);

    /* a 200 ms sleep */
    uk_time_t start = uk_clock_monotonic();
    uk_time_t wstart = uk_clock_wall();
    uk_time_t deadline = start + 200 * MS;
    uk_yield(deadline, &ready);
    uk_time_t end = uk_clock_monotonic();
    uk_time_t wend = uk_clock_wall();
    uk_printf("yield 200 ms: slept %lu us\n", (end - start) / 1000);
    if (end < deadline)
        fail("yield returned before its deadline", end, deadline);
    if (end - start > 3000 * MS)
        fail("yield overslept by seconds", end - start, 0);
    if (ready != 0)
        fail("ready set not empty without net devices", ready, 0);
    if (wend < wstart + 150 * MS)
        fail("wall clock did not advance during the sleep", wstart, wend);

    /* repeated short sleeps: each must wait again */
    for (int i = 0; i < 3; i++) {
        start = uk_clock_monotonic();
        deadline = start + 50 * MS;
        uk_yield(deadline, &ready);
        end = uk_clock_monotonic();
        uk_printf("yield 50 ms #%d: slept %lu us\n", i, (end - start) / 1000);
        if (end < deadline)
            fail("repeated yield returned before its deadline", end, deadline);
    }

    /* deadlines in the past */
    start = uk_clock_monotonic();
    uk_yield(start - 10 * MS, &ready);
    uk_yield(0, &ready);
    uk_yield(1, &ready);
    end = uk_clock_monotonic();
    uk_printf("yield to past deadlines: took %lu us\n", (end - start) / 1000);
    if (end - start > 100 * MS)
        fail("yield to a past deadline did not return at once", end - start, 0);

    if (failures) {
        uk_puts("FAILURE\n");
        return 1;
    }
    uk_puts("SUCCESS\n");
    return 0;
}
