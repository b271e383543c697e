/* test_text.c - core/text.c: IP literal parsers (strict IPv4, IPv6, the
 * lenient inet_aton convention) and the digit formatters that replace
 * stdio and inet_* in the core.  Tables of good and bad input, then the
 * parsers against the C library's own on random strings (the test may use
 * libc; the core may not). */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "testlib.h"

static int v4(const char *s, uint8_t out[4]) { return fr_ipv4_parse(s, strlen(s), out); }
static int v6(const char *s, uint8_t out[16]) { return fr_ipv6_parse(s, strlen(s), out); }
static int loose(const char *s, uint8_t out[4]) { return fr_ipv4_parse_loose(s, strlen(s), out); }

TEST(ipv4_strict) {
    uint8_t a[4];
    CHECK(v4("192.0.2.1", a));
    CHECK_MEM(a, "\xc0\x00\x02\x01", 4);
    CHECK(v4("0.0.0.0", a));
    CHECK_MEM(a, "\0\0\0\0", 4);
    CHECK(v4("255.255.255.255", a));
    CHECK_MEM(a, "\xff\xff\xff\xff", 4);
    static const char *const bad[] = {
        "",          "1",           "1.2.3",      "1.2.3.4.5", "256.1.1.1",  "1.2.3.256",
        "01.2.3.4",  "1.2.3.04",    "00.0.0.0",   "1..2.3",    ".1.2.3",     "1.2.3.4.",
        "1.2.3.4 ",  " 1.2.3.4",    "0x1.2.3.4",  "1.2.3.-4",  "+1.2.3.4",   "1.2.3.1000",
        "1.2.3.a",   "1,2,3,4",     "::1",        "1.2.3.4/8", "1.2.3.4\n",  "9999.1.1.1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(a, 0xee, 4);
        if (v4(bad[i], a)) fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
        CHECK(!v4(bad[i], a));
        CHECK_MEM(a, "\xee\xee\xee\xee", 4); /* untouched on failure */
    }
    /* The length bounds the input: no NUL needed, and one inside is an octet. */
    CHECK(fr_ipv4_parse("10.0.0.1junk", 8, a));
    CHECK_MEM(a, "\x0a\x00\x00\x01", 4);
    CHECK(!fr_ipv4_parse("10.0.0.1\0", 9, a));
    CHECK(!fr_ipv4_parse("10.0.0.1", 7, a) || memcmp(a, "\x0a\x00\x00\x00", 4) == 0);
    CHECK(!fr_ipv4_parse(NULL, 0, a));
}

TEST(ipv6_strict) {
    static const struct {
        const char *text;
        const char *bytes;
    } good[] = {
        {"::", "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"},
        {"::1", "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1"},
        {"1::", "\0\1\0\0\0\0\0\0\0\0\0\0\0\0\0\0"},
        {"2001:db8::8:800:200c:417a", "\x20\x01\x0d\xb8\0\0\0\0\0\x08\x08\0\x20\x0c\x41\x7a"},
        {"2001:DB8:0:0:8:800:200C:417A", "\x20\x01\x0d\xb8\0\0\0\0\0\x08\x08\0\x20\x0c\x41\x7a"},
        {"0001:0002:0003:0004:0005:0006:0007:0008",
         "\0\1\0\2\0\3\0\4\0\5\0\6\0\7\0\x08"},
        {"1:2:3:4:5:6:7::", "\0\1\0\2\0\3\0\4\0\5\0\6\0\7\0\0"},
        {"::2:3:4:5:6:7:8", "\0\0\0\2\0\3\0\4\0\5\0\6\0\7\0\x08"},
        {"::ffff:192.0.2.1", "\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\x00\x02\x01"},
        {"::192.0.2.1", "\0\0\0\0\0\0\0\0\0\0\0\0\xc0\x00\x02\x01"},
        {"1:2:3:4:5:6:1.2.3.4", "\0\1\0\2\0\3\0\4\0\5\0\6\1\2\3\4"},
        {"fe80::1:2", "\xfe\x80\0\0\0\0\0\0\0\0\0\0\0\1\0\2"},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint8_t a[16];
        if (!v6(good[i].text, a)) fprintf(stderr, "  refused \"%s\"\n", good[i].text);
        CHECK(v6(good[i].text, a) && memcmp(a, good[i].bytes, 16) == 0);
    }
    static const char *const bad[] = {
        "",
        ":",
        ":::",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7",
        "1::2::3",
        ":1::2",
        "1::2:",
        ":1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7:8:",
        "::1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7:8::",
        "12345::",
        "1:2:3:4:5:6:7:1.2.3.4",
        "::1.2.3",
        "::1.2.3.4.5",
        "::01.2.3.4",
        "::1.2.3.4:5",
        "::ffff:1.2.3.256",
        "1.2.3.4",
        "fe80::1%eth0",
        "[::1]",
        "::g",
        " ::1",
        "::1 ",
        "::-1",
        "::a.1.2.3",
        "0x1::",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t a[16];
        memset(a, 0xee, 16);
        if (v6(bad[i], a)) fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
        CHECK(!v6(bad[i], a));
        CHECK(a[0] == 0xee && a[15] == 0xee);
    }
    uint8_t a[16];
    CHECK(!fr_ipv6_parse("::1\0", 4, a));
    CHECK(fr_ipv6_parse("::1x", 3, a));
    CHECK_EQ(fr_ip_parse("10.1.2.3", 8, a), 4);
    CHECK_EQ(fr_ip_parse("::1", 3, a), 16);
    CHECK_EQ(fr_ip_parse("example.com", 11, a), 0);
    CHECK_EQ(fr_ip_parse("", 0, a), 0);
}

TEST(ipv4_loose) {
    static const struct {
        const char *text;
        const char *bytes;
    } good[] = {
        {"127.0.0.1", "\x7f\0\0\1"},  {"127.1", "\x7f\0\0\1"},        {"127.0.1", "\x7f\0\0\1"},
        {"2130706433", "\x7f\0\0\1"}, {"0x7f000001", "\x7f\0\0\1"},  {"0177.0.0.1", "\x7f\0\0\1"},
        {"0x7F.1", "\x7f\0\0\1"},     {"01.02.03.04", "\1\2\3\4"},   {"0", "\0\0\0\0"},
        {"1.2.3.4 tail", "\1\2\3\4"}, {"1.2.3.4\t", "\1\2\3\4"},     {"4294967295", "\xff\xff\xff\xff"},
        {"1.65535", "\1\0\xff\xff"},  {"1.2.65535", "\1\2\xff\xff"}, {"1.16777215", "\1\xff\xff\xff"},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint8_t a[4];
        if (!loose(good[i].text, a)) fprintf(stderr, "  refused \"%s\"\n", good[i].text);
        CHECK(loose(good[i].text, a) && memcmp(a, good[i].bytes, 4) == 0);
    }
    static const char *const bad[] = {
        "",         "4294967296", "1.2.3.256", "1.2.65536", "1.16777216", "256.1",
        "08.1.1.1", "0x",         "0xg",       "1..2",      "1.2.3.4.5",  ".1",
        "1.",       " 1",         "a.b.c.d",   "1.2.3.4x",  "-1",         "+1",
        "::1",      "99999999999999999999",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t a[4];
        if (loose(bad[i], a)) fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
        CHECK(!loose(bad[i], a));
    }
}

/* The parsers agree with inet_pton / inet_aton, which the core used
 * before, on random strings over the characters that matter. */
TEST(parsers_match_libc) {
    static const char ALPHA[] = "0123456789abcdefABCDEFxX:.: \t0001fF";
    uint32_t x = 0x9e3779b9u;
    size_t agree = 0;
    for (size_t iter = 0; iter < 200000; iter++) {
        char s[24];
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        size_t n = 1 + x % 20;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            s[i] = ALPHA[x % (sizeof(ALPHA) - 1)];
        }
        s[n] = 0;
        uint8_t a[16], b[16];
        struct in_addr ia;
        int ours = fr_ipv4_parse(s, n, a), libc = inet_pton(AF_INET, s, b) == 1;
        if (ours != libc || (ours && memcmp(a, b, 4) != 0)) fprintf(stderr, "  v4 \"%s\"\n", s);
        CHECK(ours == libc && (!ours || memcmp(a, b, 4) == 0));
        ours = fr_ipv6_parse(s, n, a), libc = inet_pton(AF_INET6, s, b) == 1;
        if (ours != libc || (ours && memcmp(a, b, 16) != 0)) fprintf(stderr, "  v6 \"%s\"\n", s);
        CHECK(ours == libc && (!ours || memcmp(a, b, 16) == 0));
        ours = fr_ipv4_parse_loose(s, n, a), libc = inet_aton(s, &ia) != 0;
        if (ours != libc || (ours && memcmp(a, &ia.s_addr, 4) != 0))
            fprintf(stderr, "  loose \"%s\"\n", s);
        CHECK(ours == libc && (!ours || memcmp(a, &ia.s_addr, 4) == 0));
        agree += ours != 0;
    }
    CHECK(agree > 100); /* the random strings did reach the accepting paths */
}

TEST(ip_text) {
    static const struct {
        const char *in;
        const char *canonical; /* RFC 5952 §4 */
    } cases[] = {
        {"192.0.2.1", "192.0.2.1"},
        {"0.0.0.0", "0.0.0.0"},
        {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
        {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"}, /* no "::" for one group */
        {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},    /* the first on a tie */
        {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},          /* the longest run */
        {"::", "::"},
        {"::1", "::1"},
        {"1::", "1::"},
        {"FE80::ABCD", "fe80::abcd"},
        {"::ffff:192.0.2.1", "::ffff:c000:201"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t ip[16];
        size_t n = fr_ip_parse(cases[i].in, strlen(cases[i].in), ip);
        CHECK(n != 0);
        char out[64];
        size_t len = fr_ip_text(ip, n, out, sizeof(out));
        if (strcmp(out, cases[i].canonical) != 0)
            fprintf(stderr, "  %s -> %s\n", cases[i].in, out);
        CHECK_EQ(len, strlen(cases[i].canonical));
        CHECK(strcmp(out, cases[i].canonical) == 0);
        /* too small by one: nothing, an empty string */
        char small[64];
        CHECK_EQ(fr_ip_text(ip, n, small, len), 0);
        CHECK_EQ(small[0], 0);
        CHECK_EQ(fr_ip_text(ip, n, small, len + 1), len);
    }
    char out[8];
    const uint8_t ip[16] = {1, 2, 3, 4, 5};
    CHECK_EQ(fr_ip_text(ip, 5, out, sizeof(out)), 0);
    CHECK_EQ(fr_ip_text(ip, 0, out, sizeof(out)), 0);
    CHECK_EQ(fr_ip_text(ip, 4, out, 0), 0);
}

TEST(digits) {
    char b[32];
    CHECK_EQ(fr_fmt_dec(b, sizeof(b), 0), 1);
    CHECK(strcmp(b, "0") == 0);
    CHECK_EQ(fr_fmt_dec(b, sizeof(b), UINT64_MAX), 20);
    CHECK(strcmp(b, "18446744073709551615") == 0);
    CHECK_EQ(fr_fmt_dec(b, 3, 123), 0);
    CHECK_EQ(b[0], 0);
    CHECK_EQ(fr_fmt_dec(b, 4, 123), 3);
    CHECK_EQ(fr_fmt_dec(b, 0, 1), 0);
    CHECK_EQ(fr_fmt_hex(b, sizeof(b), 0xab, 2, 1), 2);
    CHECK(strcmp(b, "AB") == 0);
    CHECK_EQ(fr_fmt_hex(b, sizeof(b), 0x7, 2, 1), 2);
    CHECK(strcmp(b, "07") == 0);
    CHECK_EQ(fr_fmt_hex(b, sizeof(b), 0x12345, 4, 0), 5);
    CHECK(strcmp(b, "12345") == 0);
    CHECK_EQ(fr_fmt_hex(b, sizeof(b), 0, 1, 0), 1);
    CHECK(strcmp(b, "0") == 0);
    CHECK_EQ(fr_fmt_hex(b, sizeof(b), UINT64_MAX, 1, 0), 16);
    CHECK(strcmp(b, "ffffffffffffffff") == 0);
    CHECK_EQ(fr_fmt_hex(b, 4, 0x1, 4, 0), 0); /* padding counts */
    CHECK_EQ(b[0], 0);
    CHECK_EQ(fr_fmt_hex(b, 5, 0x1, 4, 0), 4);
    CHECK(strcmp(b, "0001") == 0);
}

TEST_MAIN("text", TL_CASE(ipv4_strict), TL_CASE(ipv6_strict), TL_CASE(ipv4_loose),
          TL_CASE(parsers_match_libc), TL_CASE(ip_text), TL_CASE(digits))
