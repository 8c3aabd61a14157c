/*
 * net: a tiny IPv4 host on NET_BASIC device "service0" with address
 * 10.0.0.2. It answers ARP requests for 10.0.0.2 and ICMP echo requests to
 * 10.0.0.2 until it has sent as many echo replies as the first word of its
 * command line says (default 5), then prints SUCCESS and exits 0. It gives
 * up with FAILURE (status 1) after a period without traffic: the second word
 * of the command line, in seconds (default 30).
 */
#include "uk.h"

#define ETH_HLEN 14
#define ETHERTYPE_IP 0x0800
#define ETHERTYPE_ARP 0x0806

static const uint8_t my_ip[4] = {10, 0, 0, 2};
static uint8_t my_mac[6];
static uint8_t frame[65536 + ETH_HLEN];

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

static uint16_t csum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (; n > 1; n -= 2, p += 2)
        s += (uint32_t)(p[0] << 8 | p[1]);
    if (n)
        s += (uint32_t)(p[0] << 8);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static void print_mac(const char *label, const uint8_t *m)
{
    uk_printf("%s%02x:%02x:%02x:%02x:%02x:%02x\n", label, m[0], m[1], m[2],
              m[3], m[4], m[5]);
}

/* Returns 1 if a reply was sent in place; *echo set for ICMP echo replies. */
static int handle(uint8_t *f, size_t n, size_t *outlen, int *echo)
{
    *echo = 0;
    if (n < ETH_HLEN)
        return 0;
    uint16_t type = get16(f + 12);
    uint8_t *p = f + ETH_HLEN;

    if (type == ETHERTYPE_ARP) {
        if (n < ETH_HLEN + 28)
            return 0;
        if (get16(p) != 1 || get16(p + 2) != ETHERTYPE_IP || p[4] != 6 ||
            p[5] != 4 || get16(p + 6) != 1 /* request */)
            return 0;
        if (memcmp(p + 24, my_ip, 4) != 0)
            return 0;
        /* target := sender, sender := us */
        memcpy(p + 18, p + 8, 6);
        memcpy(p + 24, p + 14, 4);
        memcpy(p + 8, my_mac, 6);
        memcpy(p + 14, my_ip, 4);
        put16(p + 6, 2); /* reply */
        memcpy(f, p + 18, 6);
        memcpy(f + 6, my_mac, 6);
        *outlen = ETH_HLEN + 28;
        return 1;
    }

    if (type == ETHERTYPE_IP) {
        if (n < ETH_HLEN + 20)
            return 0;
        size_t ihl = (size_t)(p[0] & 0xf) * 4;
        size_t tot = get16(p + 2);
        if ((p[0] >> 4) != 4 || ihl < 20 || tot < ihl + 8 || ETH_HLEN + tot > n)
            return 0;
        if (p[9] != 1 /* ICMP */ || memcmp(p + 16, my_ip, 4) != 0)
            return 0;
        if ((get16(p + 6) & 0x3fff) != 0) /* fragments: not handled */
            return 0;
        uint8_t *icmp = p + ihl;
        if (icmp[0] != 8 || icmp[1] != 0) /* echo request */
            return 0;
        if (csum(icmp, tot - ihl) != 0) {
            uk_puts("dropping an echo request with a bad checksum\n");
            return 0;
        }
        uint8_t tmp[4];
        memcpy(tmp, p + 12, 4);
        memcpy(p + 12, p + 16, 4);
        memcpy(p + 16, tmp, 4);
        p[8] = 64; /* TTL */
        put16(p + 10, 0);
        put16(p + 10, csum(p, ihl));
        icmp[0] = 0; /* echo reply */
        put16(icmp + 2, 0);
        put16(icmp + 2, csum(icmp, tot - ihl));
        memcpy(f, f + 6, 6);
        memcpy(f + 6, my_mac, 6);
        *outlen = ETH_HLEN + tot;
        *echo = 1;
        return 1;
    }
    return 0;
}

int uk_main(const char *cmdline)
{
    uk_handle_t h;
    struct uk_net_info ni;
    uint64_t limit = 5, idle = 30;
    char w[32];

    if (uk_word(cmdline, 0, w, sizeof(w)) && !uk_parse_u64(w, &limit))
        uk_abort("the first argument must be the number of pings to answer");
    if (uk_word(cmdline, 1, w, sizeof(w)) && !uk_parse_u64(w, &idle))
        uk_abort("the second argument must be the idle limit in seconds");
    if (uk_net_acquire("service0", &h, &ni) != UK_R_OK)
        uk_abort("cannot acquire net device 'service0'");
    memcpy(my_mac, ni.mac, 6);
    print_mac("MAC: ", my_mac);
    uk_printf("MTU: %lu\n", ni.mtu);
    uk_printf("handle: %lu\n", h);
    uk_printf("answering %lu pings at 10.0.0.2\n", limit);
    if (ni.mtu + ETH_HLEN > sizeof(frame))
        uk_abort("MTU too large for this test");

    uint64_t replies = 0, arps = 0, others = 0;
    uk_time_t last = uk_clock_monotonic();
    while (replies < limit) {
        uk_handle_set_t ready = 0;
        uk_yield(uk_clock_monotonic() + 1000000000UL, &ready);
        if (ready & ~(1ULL << h)) {
            uk_printf("FAIL: ready set 0x%lx names a handle other than %lu\n", ready, h);
            uk_puts("FAILURE\n");
            return 1;
        }
        if (!(ready & (1ULL << h))) {
            if (uk_clock_monotonic() - last > idle * 1000000000UL) {
                uk_printf("no traffic for %lu s: %lu replies, %lu ARP replies\n", idle, replies, arps);
                uk_puts("FAILURE\n");
                return 1;
            }
            continue;
        }
        last = uk_clock_monotonic();
        for (;;) {
            size_t n = 0, outlen = 0;
            int echo;
            int r = uk_net_read(h, frame, ni.mtu + ETH_HLEN, &n);
            if (r == UK_R_AGAIN)
                break;
            if (r != UK_R_OK)
                uk_abort("net read failed");
            if (!handle(frame, n, &outlen, &echo)) {
                others++;
                continue;
            }
            if (uk_net_write(h, frame, outlen) != UK_R_OK)
                uk_abort("net write failed");
            if (echo)
                replies++;
            else
                arps++;
            if (replies >= limit)
                break;
        }
    }
    uk_printf("answered %lu echo requests and %lu ARP requests; ignored %lu frames\n",
              replies, arps, others);
    uk_puts("SUCCESS\n");
    return 0;
}
