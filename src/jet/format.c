/*
 * format.c -- libjet's on-disk formats (see format.h and docs/formats.md).
 *
 * Everything here is a pure function over caller-supplied buffers: no I/O
 * (except jf_sig_new, which reads the clock, the host name and the kernel
 * random source), no global mutable state, safe from any thread.
 * Decoders validate every length/count against the buffer before use and
 * write their output only on success.
 */
#include "config.h"

#include "format.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "jet.h"

/* ---- field offsets (spec 6.2) ---- */
#define OFF_FILETYPE 667 /* u32 in DB header, log header, checkpoint */

/* DBFILEHDR */
#define DB_CHECKSUM 0
#define DB_MAGIC 4
#define DB_VERSION 8
#define DB_ATTRIB 12
#define DB_DBTIME 16
#define DB_SIGNDB 24
#define DB_DBSTATE 52
#define DB_LGPOS_CONS 56
#define DB_TIME_CONS 64
#define DB_TIME_ATTACH 72
#define DB_LGPOS_ATTACH 80
#define DB_TIME_DETACH 88
#define DB_LGPOS_DETACH 96
#define DB_DBID 104
#define DB_SIGNLOG 108
#define DB_BK_FULL_PREV 136
#define DB_BK_INC_PREV 160
#define DB_BK_FULL_CUR 184
#define DB_FLAGS 208
#define DB_CBPAGE 236
#define DB_GEN_MIN_REQ 296
#define DB_GEN_MAX_REQ 300
#define DB_BK_SNAP_CUR 316
#define DB_TIME_GENMAX_CREATE 348
#define DB_TYPE_FULL_PREV 356
#define DB_TYPE_INC_PREV 360
#define DB_GEN_MAX_COMMITTED 416
#define DB_BK_COPY_PREV 420
#define DB_BK_DIFF_PREV 444
#define DB_TYPE_COPY_PREV 468
#define DB_TYPE_DIFF_PREV 472
#define DB_GEN_MIN_CONS 640
#define DB_EXT_CB_RECORD 1024
#define DB_EXT_PGNO_LAST 1028

/* PATCHHDR */
#define TR_BKINFO 40
#define TR_SIGNDB 64
#define TR_SIGNLOG 92
#define TR_GEN_MIN_REQ 120
#define TR_GEN_MAX_REQ 124
#define TR_GEN_MAX_COMMITTED 128
#define TR_TIME_MIN_REQ 132
#define TR_TIME_MAX_REQ 140

/* LGFILEHDR */
#define LH_GEN 4
#define LH_CBSEC 8
#define LH_CSEC_HEADER 10
#define LH_CSEC_FILE 12
#define LH_CBPAGE 14
#define LH_TIME_CREATE 16
#define LH_TIME_PREV 24
#define LH_SIGNLOG 44
#define LH_LGPOS_CHK 640
#define LH_ATTACH 671

/* LGSEGHDR */
#define SEG_LGPOS 8
#define SEG_TIME 16
#define SEG_FLAGS 36

/* CHECKPOINT */
#define CK_LGPOS_FULL 4
#define CK_LGPOS_CHK 12
#define CK_SIGNLOG 20
#define CK_LGPOS_DBCONS 648
#define CK_ATTACH 679

#define SIG_SIZE 28
#define BKINFO_SIZE 24

/* ================================================================ */
/* small helpers                                                     */
/* ================================================================ */

/* Compare two log positions by (gen, isec, ib); gen compares signed.
 * Returns <0, 0 or >0.  No errors, no locking. */
int jf_lgpos_cmp(jf_lgpos a, jf_lgpos b)
{
    if (a.gen != b.gen)
        return a.gen < b.gen ? -1 : 1;
    if (a.isec != b.isec)
        return a.isec < b.isec ? -1 : 1;
    if (a.ib != b.ib)
        return a.ib < b.ib ? -1 : 1;
    return 0;
}

/* Pack a log position as gen<<32 | isec<<16 | ib (ESE's LGPOS::qw layout).
 * Order-preserving for gen >= 0 (every valid position); the zero lgpos maps
 * to 0.  No errors. */
uint64_t jf_lgpos_u64(jf_lgpos p)
{
    return (uint64_t)(uint32_t)p.gen << 32 | (uint64_t)p.isec << 16 | p.ib;
}

/* Inverse of jf_lgpos_u64.  No errors. */
jf_lgpos jf_lgpos_from_u64(uint64_t v)
{
    jf_lgpos p;
    p.ib = (uint16_t)v;
    p.isec = (uint16_t)(v >> 16);
    p.gen = (int32_t)(uint32_t)(v >> 32);
    return p;
}

/* Days since 1970-01-01 of a proleptic Gregorian civil date (Howard
 * Hinnant's days_from_civil).  m is 1..12.  No errors. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* Civil date of a day count since 1970-01-01 (inverse of the above).
 * No errors. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Fill *lt with the UTC broken-down time of unix_seconds, ESE style:
 * year = years since 1900 (u8, so 1900..2155; values outside are clamped),
 * month 1..12, day 1..31, filler1 = 1 (ESE's fTimeIsUTC bit, 0 ms),
 * filler2 = 0.  No errors, no locking. */
void jf_logtime_from_time(jf_logtime *lt, int64_t unix_seconds)
{
    const int64_t min_t = days_from_civil(1900, 1, 1) * 86400;
    const int64_t max_t = days_from_civil(2156, 1, 1) * 86400 - 1;
    if (unix_seconds < min_t)
        unix_seconds = min_t;
    if (unix_seconds > max_t)
        unix_seconds = max_t;
    int64_t days = unix_seconds / 86400, secs = unix_seconds % 86400;
    if (secs < 0) {
        secs += 86400;
        days -= 1;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    lt->sec = (uint8_t)(secs % 60);
    lt->min = (uint8_t)(secs / 60 % 60);
    lt->hour = (uint8_t)(secs / 3600);
    lt->day = (uint8_t)d;
    lt->mon = (uint8_t)m;
    lt->year = (uint8_t)(y - 1900);
    lt->filler1 = 1;
    lt->filler2 = 0;
}

/* Seconds since the epoch (UTC) of *lt; the fillers are ignored.  An
 * all-zero logtime (ESE's "no time") gives 0.  Out-of-range fields (month 0,
 * day 0) are normalised arithmetically, never rejected.  No errors. */
int64_t jf_logtime_to_time(const jf_logtime *lt)
{
    if (!lt->sec && !lt->min && !lt->hour && !lt->day && !lt->mon && !lt->year)
        return 0;
    unsigned m = lt->mon ? lt->mon : 1;
    if (m > 12)
        m = 12;
    unsigned d = lt->day ? lt->day : 1;
    int64_t days = days_from_civil(1900 + (int64_t)lt->year, m, d);
    return days * 86400 + (int64_t)lt->hour * 3600 + (int64_t)lt->min * 60 + lt->sec;
}

/* True if the two logtimes are byte-for-byte equal (ESE compares LOGTIMEs
 * with memcmp).  No errors. */
bool jf_logtime_eq(const jf_logtime *a, const jf_logtime *b)
{
    return a->sec == b->sec && a->min == b->min && a->hour == b->hour && a->day == b->day &&
           a->mon == b->mon && a->year == b->year && a->filler1 == b->filler1 &&
           a->filler2 == b->filler2;
}

/* True if two signatures are equal (random, creation time and all 16
 * computer-name bytes).  No errors. */
bool jf_sig_eq(const jf_sig *a, const jf_sig *b)
{
    return a->random == b->random && jf_logtime_eq(&a->create, &b->create) &&
           memcmp(a->computer, b->computer, sizeof a->computer) == 0;
}

/* A fresh signature: random from getrandom(2) (fallback: time ^ pid ^ the
 * address of a local), creation time now (UTC), host name truncated to 15
 * bytes and zero padded (empty if gethostname fails).  Never fails. */
void jf_sig_new(jf_sig *s)
{
    memset(s, 0, sizeof *s);
    uint32_t r = 0;
    ssize_t n;
    do {
        n = getrandom(&r, sizeof r, 0);
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof r) {
        struct timespec ts;
        if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
            ts.tv_sec = ts.tv_nsec = 0;
        r = (uint32_t)ts.tv_sec ^ (uint32_t)ts.tv_nsec ^ (uint32_t)getpid() << 16 ^
            (uint32_t)(uintptr_t)&ts;
    }
    s->random = r;
    jf_logtime_from_time(&s->create, (int64_t)time(NULL));
    char host[256];
    if (gethostname(host, sizeof host) == 0) {
        host[sizeof host - 1] = '\0';
        size_t len = strnlen(host, sizeof s->computer - 1);
        memcpy(s->computer, host, len);
    }
}

/* True if cb bytes at p are all zero.  Word-at-a-time.  No errors. */
bool jf_is_blank(const void *p, size_t cb)
{
    const uint8_t *b = p;
    size_t i = 0;
    uint64_t acc = 0;
    for (; i + 32 <= cb; i += 32) {
        uint64_t w[4];
        memcpy(w, b + i, sizeof w);
        acc |= w[0] | w[1] | w[2] | w[3];
        if (acc)
            return false;
    }
    for (; i < cb; i++)
        acc |= b[i];
    return acc == 0;
}

/* ================================================================ */
/* checksums                                                         */
/* ================================================================ */

/* XOR of the little-endian u32 words of p[0..cb); cb must be a multiple of
 * 4 (a trailing partial word is ignored).  Processes 32 bytes per
 * iteration with four independent 64-bit accumulators, then folds.  No
 * errors. */
uint32_t jf_xor32(const void *p, size_t cb)
{
    const uint8_t *b = p;
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    size_t i = 0;
    for (; i + 32 <= cb; i += 32) {
        uint64_t w[4];
        memcpy(w, b + i, sizeof w);
        a0 ^= w[0];
        a1 ^= w[1];
        a2 ^= w[2];
        a3 ^= w[3];
    }
    uint64_t a = a0 ^ a1 ^ a2 ^ a3;
    /* A native u64 holds two u32 words; on either byte order the XOR of
     * its two halves, byte-swapped on big-endian, is the LE word XOR. */
    uint32_t x = (uint32_t)a ^ (uint32_t)(a >> 32);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap32(x);
#endif
    for (; i + 4 <= cb; i += 4)
        x ^= jf_get32(b + i);
    return x;
}

/* Header-block checksum: JF_SEED ^ XOR of every LE u32 word after the
 * first.  cb >= 4 and a multiple of 4.  No errors. */
uint32_t jf_hdr_checksum(const void *blk, size_t cb)
{
    if (cb < 4)
        return JF_SEED;
    return JF_SEED ^ jf_xor32((const uint8_t *)blk + 4, cb - 4);
}

/* Store the header checksum at offset 0.  No errors. */
void jf_hdr_seal(void *blk, size_t cb)
{
    if (cb < 4)
        return;
    jf_put32(blk, jf_hdr_checksum(blk, cb));
}

/* True if the u32 at offset 0 matches the header checksum.  No errors. */
bool jf_hdr_ok(const void *blk, size_t cb)
{
    if (cb < 8)
        return false;
    return jf_get32(blk) == jf_hdr_checksum(blk, cb);
}

static bool page_size_ok(uint32_t cb);

/* ---- CRC-32C ----
 * Tables for the reflected Castagnoli polynomial 0x82F63B78, sliced by 4
 * (constant data, no state), generated by:
 *   tab[0][i] = i shifted right 8 times, XOR 0x82F63B78 after each shift
 *               that drops a 1 bit;
 *   tab[k][i] = (tab[k-1][i] >> 8) ^ tab[0][tab[k-1][i] & 0xFF], k = 1..3.
 * src/jet/tests/test_cksum.c checks both code paths against RFC 3720 vectors. */
static const uint32_t crc32c_tab[4][256] = {
    {
        0x00000000u, 0xF26B8303u, 0xE13B70F7u, 0x1350F3F4u, 0xC79A971Fu, 0x35F1141Cu, 0x26A1E7E8u,
        0xD4CA64EBu, 0x8AD958CFu, 0x78B2DBCCu, 0x6BE22838u, 0x9989AB3Bu, 0x4D43CFD0u, 0xBF284CD3u,
        0xAC78BF27u, 0x5E133C24u, 0x105EC76Fu, 0xE235446Cu, 0xF165B798u, 0x030E349Bu, 0xD7C45070u,
        0x25AFD373u, 0x36FF2087u, 0xC494A384u, 0x9A879FA0u, 0x68EC1CA3u, 0x7BBCEF57u, 0x89D76C54u,
        0x5D1D08BFu, 0xAF768BBCu, 0xBC267848u, 0x4E4DFB4Bu, 0x20BD8EDEu, 0xD2D60DDDu, 0xC186FE29u,
        0x33ED7D2Au, 0xE72719C1u, 0x154C9AC2u, 0x061C6936u, 0xF477EA35u, 0xAA64D611u, 0x580F5512u,
        0x4B5FA6E6u, 0xB93425E5u, 0x6DFE410Eu, 0x9F95C20Du, 0x8CC531F9u, 0x7EAEB2FAu, 0x30E349B1u,
        0xC288CAB2u, 0xD1D83946u, 0x23B3BA45u, 0xF779DEAEu, 0x05125DADu, 0x1642AE59u, 0xE4292D5Au,
        0xBA3A117Eu, 0x4851927Du, 0x5B016189u, 0xA96AE28Au, 0x7DA08661u, 0x8FCB0562u, 0x9C9BF696u,
        0x6EF07595u, 0x417B1DBCu, 0xB3109EBFu, 0xA0406D4Bu, 0x522BEE48u, 0x86E18AA3u, 0x748A09A0u,
        0x67DAFA54u, 0x95B17957u, 0xCBA24573u, 0x39C9C670u, 0x2A993584u, 0xD8F2B687u, 0x0C38D26Cu,
        0xFE53516Fu, 0xED03A29Bu, 0x1F682198u, 0x5125DAD3u, 0xA34E59D0u, 0xB01EAA24u, 0x42752927u,
        0x96BF4DCCu, 0x64D4CECFu, 0x77843D3Bu, 0x85EFBE38u, 0xDBFC821Cu, 0x2997011Fu, 0x3AC7F2EBu,
        0xC8AC71E8u, 0x1C661503u, 0xEE0D9600u, 0xFD5D65F4u, 0x0F36E6F7u, 0x61C69362u, 0x93AD1061u,
        0x80FDE395u, 0x72966096u, 0xA65C047Du, 0x5437877Eu, 0x4767748Au, 0xB50CF789u, 0xEB1FCBADu,
        0x197448AEu, 0x0A24BB5Au, 0xF84F3859u, 0x2C855CB2u, 0xDEEEDFB1u, 0xCDBE2C45u, 0x3FD5AF46u,
        0x7198540Du, 0x83F3D70Eu, 0x90A324FAu, 0x62C8A7F9u, 0xB602C312u, 0x44694011u, 0x5739B3E5u,
        0xA55230E6u, 0xFB410CC2u, 0x092A8FC1u, 0x1A7A7C35u, 0xE811FF36u, 0x3CDB9BDDu, 0xCEB018DEu,
        0xDDE0EB2Au, 0x2F8B6829u, 0x82F63B78u, 0x709DB87Bu, 0x63CD4B8Fu, 0x91A6C88Cu, 0x456CAC67u,
        0xB7072F64u, 0xA457DC90u, 0x563C5F93u, 0x082F63B7u, 0xFA44E0B4u, 0xE9141340u, 0x1B7F9043u,
        0xCFB5F4A8u, 0x3DDE77ABu, 0x2E8E845Fu, 0xDCE5075Cu, 0x92A8FC17u, 0x60C37F14u, 0x73938CE0u,
        0x81F80FE3u, 0x55326B08u, 0xA759E80Bu, 0xB4091BFFu, 0x466298FCu, 0x1871A4D8u, 0xEA1A27DBu,
        0xF94AD42Fu, 0x0B21572Cu, 0xDFEB33C7u, 0x2D80B0C4u, 0x3ED04330u, 0xCCBBC033u, 0xA24BB5A6u,
        0x502036A5u, 0x4370C551u, 0xB11B4652u, 0x65D122B9u, 0x97BAA1BAu, 0x84EA524Eu, 0x7681D14Du,
        0x2892ED69u, 0xDAF96E6Au, 0xC9A99D9Eu, 0x3BC21E9Du, 0xEF087A76u, 0x1D63F975u, 0x0E330A81u,
        0xFC588982u, 0xB21572C9u, 0x407EF1CAu, 0x532E023Eu, 0xA145813Du, 0x758FE5D6u, 0x87E466D5u,
        0x94B49521u, 0x66DF1622u, 0x38CC2A06u, 0xCAA7A905u, 0xD9F75AF1u, 0x2B9CD9F2u, 0xFF56BD19u,
        0x0D3D3E1Au, 0x1E6DCDEEu, 0xEC064EEDu, 0xC38D26C4u, 0x31E6A5C7u, 0x22B65633u, 0xD0DDD530u,
        0x0417B1DBu, 0xF67C32D8u, 0xE52CC12Cu, 0x1747422Fu, 0x49547E0Bu, 0xBB3FFD08u, 0xA86F0EFCu,
        0x5A048DFFu, 0x8ECEE914u, 0x7CA56A17u, 0x6FF599E3u, 0x9D9E1AE0u, 0xD3D3E1ABu, 0x21B862A8u,
        0x32E8915Cu, 0xC083125Fu, 0x144976B4u, 0xE622F5B7u, 0xF5720643u, 0x07198540u, 0x590AB964u,
        0xAB613A67u, 0xB831C993u, 0x4A5A4A90u, 0x9E902E7Bu, 0x6CFBAD78u, 0x7FAB5E8Cu, 0x8DC0DD8Fu,
        0xE330A81Au, 0x115B2B19u, 0x020BD8EDu, 0xF0605BEEu, 0x24AA3F05u, 0xD6C1BC06u, 0xC5914FF2u,
        0x37FACCF1u, 0x69E9F0D5u, 0x9B8273D6u, 0x88D28022u, 0x7AB90321u, 0xAE7367CAu, 0x5C18E4C9u,
        0x4F48173Du, 0xBD23943Eu, 0xF36E6F75u, 0x0105EC76u, 0x12551F82u, 0xE03E9C81u, 0x34F4F86Au,
        0xC69F7B69u, 0xD5CF889Du, 0x27A40B9Eu, 0x79B737BAu, 0x8BDCB4B9u, 0x988C474Du, 0x6AE7C44Eu,
        0xBE2DA0A5u, 0x4C4623A6u, 0x5F16D052u, 0xAD7D5351u,
    },
    {
        0x00000000u, 0x13A29877u, 0x274530EEu, 0x34E7A899u, 0x4E8A61DCu, 0x5D28F9ABu, 0x69CF5132u,
        0x7A6DC945u, 0x9D14C3B8u, 0x8EB65BCFu, 0xBA51F356u, 0xA9F36B21u, 0xD39EA264u, 0xC03C3A13u,
        0xF4DB928Au, 0xE7790AFDu, 0x3FC5F181u, 0x2C6769F6u, 0x1880C16Fu, 0x0B225918u, 0x714F905Du,
        0x62ED082Au, 0x560AA0B3u, 0x45A838C4u, 0xA2D13239u, 0xB173AA4Eu, 0x859402D7u, 0x96369AA0u,
        0xEC5B53E5u, 0xFFF9CB92u, 0xCB1E630Bu, 0xD8BCFB7Cu, 0x7F8BE302u, 0x6C297B75u, 0x58CED3ECu,
        0x4B6C4B9Bu, 0x310182DEu, 0x22A31AA9u, 0x1644B230u, 0x05E62A47u, 0xE29F20BAu, 0xF13DB8CDu,
        0xC5DA1054u, 0xD6788823u, 0xAC154166u, 0xBFB7D911u, 0x8B507188u, 0x98F2E9FFu, 0x404E1283u,
        0x53EC8AF4u, 0x670B226Du, 0x74A9BA1Au, 0x0EC4735Fu, 0x1D66EB28u, 0x298143B1u, 0x3A23DBC6u,
        0xDD5AD13Bu, 0xCEF8494Cu, 0xFA1FE1D5u, 0xE9BD79A2u, 0x93D0B0E7u, 0x80722890u, 0xB4958009u,
        0xA737187Eu, 0xFF17C604u, 0xECB55E73u, 0xD852F6EAu, 0xCBF06E9Du, 0xB19DA7D8u, 0xA23F3FAFu,
        0x96D89736u, 0x857A0F41u, 0x620305BCu, 0x71A19DCBu, 0x45463552u, 0x56E4AD25u, 0x2C896460u,
        0x3F2BFC17u, 0x0BCC548Eu, 0x186ECCF9u, 0xC0D23785u, 0xD370AFF2u, 0xE797076Bu, 0xF4359F1Cu,
        0x8E585659u, 0x9DFACE2Eu, 0xA91D66B7u, 0xBABFFEC0u, 0x5DC6F43Du, 0x4E646C4Au, 0x7A83C4D3u,
        0x69215CA4u, 0x134C95E1u, 0x00EE0D96u, 0x3409A50Fu, 0x27AB3D78u, 0x809C2506u, 0x933EBD71u,
        0xA7D915E8u, 0xB47B8D9Fu, 0xCE1644DAu, 0xDDB4DCADu, 0xE9537434u, 0xFAF1EC43u, 0x1D88E6BEu,
        0x0E2A7EC9u, 0x3ACDD650u, 0x296F4E27u, 0x53028762u, 0x40A01F15u, 0x7447B78Cu, 0x67E52FFBu,
        0xBF59D487u, 0xACFB4CF0u, 0x981CE469u, 0x8BBE7C1Eu, 0xF1D3B55Bu, 0xE2712D2Cu, 0xD69685B5u,
        0xC5341DC2u, 0x224D173Fu, 0x31EF8F48u, 0x050827D1u, 0x16AABFA6u, 0x6CC776E3u, 0x7F65EE94u,
        0x4B82460Du, 0x5820DE7Au, 0xFBC3FAF9u, 0xE861628Eu, 0xDC86CA17u, 0xCF245260u, 0xB5499B25u,
        0xA6EB0352u, 0x920CABCBu, 0x81AE33BCu, 0x66D73941u, 0x7575A136u, 0x419209AFu, 0x523091D8u,
        0x285D589Du, 0x3BFFC0EAu, 0x0F186873u, 0x1CBAF004u, 0xC4060B78u, 0xD7A4930Fu, 0xE3433B96u,
        0xF0E1A3E1u, 0x8A8C6AA4u, 0x992EF2D3u, 0xADC95A4Au, 0xBE6BC23Du, 0x5912C8C0u, 0x4AB050B7u,
        0x7E57F82Eu, 0x6DF56059u, 0x1798A91Cu, 0x043A316Bu, 0x30DD99F2u, 0x237F0185u, 0x844819FBu,
        0x97EA818Cu, 0xA30D2915u, 0xB0AFB162u, 0xCAC27827u, 0xD960E050u, 0xED8748C9u, 0xFE25D0BEu,
        0x195CDA43u, 0x0AFE4234u, 0x3E19EAADu, 0x2DBB72DAu, 0x57D6BB9Fu, 0x447423E8u, 0x70938B71u,
        0x63311306u, 0xBB8DE87Au, 0xA82F700Du, 0x9CC8D894u, 0x8F6A40E3u, 0xF50789A6u, 0xE6A511D1u,
        0xD242B948u, 0xC1E0213Fu, 0x26992BC2u, 0x353BB3B5u, 0x01DC1B2Cu, 0x127E835Bu, 0x68134A1Eu,
        0x7BB1D269u, 0x4F567AF0u, 0x5CF4E287u, 0x04D43CFDu, 0x1776A48Au, 0x23910C13u, 0x30339464u,
        0x4A5E5D21u, 0x59FCC556u, 0x6D1B6DCFu, 0x7EB9F5B8u, 0x99C0FF45u, 0x8A626732u, 0xBE85CFABu,
        0xAD2757DCu, 0xD74A9E99u, 0xC4E806EEu, 0xF00FAE77u, 0xE3AD3600u, 0x3B11CD7Cu, 0x28B3550Bu,
        0x1C54FD92u, 0x0FF665E5u, 0x759BACA0u, 0x663934D7u, 0x52DE9C4Eu, 0x417C0439u, 0xA6050EC4u,
        0xB5A796B3u, 0x81403E2Au, 0x92E2A65Du, 0xE88F6F18u, 0xFB2DF76Fu, 0xCFCA5FF6u, 0xDC68C781u,
        0x7B5FDFFFu, 0x68FD4788u, 0x5C1AEF11u, 0x4FB87766u, 0x35D5BE23u, 0x26772654u, 0x12908ECDu,
        0x013216BAu, 0xE64B1C47u, 0xF5E98430u, 0xC10E2CA9u, 0xD2ACB4DEu, 0xA8C17D9Bu, 0xBB63E5ECu,
        0x8F844D75u, 0x9C26D502u, 0x449A2E7Eu, 0x5738B609u, 0x63DF1E90u, 0x707D86E7u, 0x0A104FA2u,
        0x19B2D7D5u, 0x2D557F4Cu, 0x3EF7E73Bu, 0xD98EEDC6u, 0xCA2C75B1u, 0xFECBDD28u, 0xED69455Fu,
        0x97048C1Au, 0x84A6146Du, 0xB041BCF4u, 0xA3E32483u,
    },
    {
        0x00000000u, 0xA541927Eu, 0x4F6F520Du, 0xEA2EC073u, 0x9EDEA41Au, 0x3B9F3664u, 0xD1B1F617u,
        0x74F06469u, 0x38513EC5u, 0x9D10ACBBu, 0x773E6CC8u, 0xD27FFEB6u, 0xA68F9ADFu, 0x03CE08A1u,
        0xE9E0C8D2u, 0x4CA15AACu, 0x70A27D8Au, 0xD5E3EFF4u, 0x3FCD2F87u, 0x9A8CBDF9u, 0xEE7CD990u,
        0x4B3D4BEEu, 0xA1138B9Du, 0x045219E3u, 0x48F3434Fu, 0xEDB2D131u, 0x079C1142u, 0xA2DD833Cu,
        0xD62DE755u, 0x736C752Bu, 0x9942B558u, 0x3C032726u, 0xE144FB14u, 0x4405696Au, 0xAE2BA919u,
        0x0B6A3B67u, 0x7F9A5F0Eu, 0xDADBCD70u, 0x30F50D03u, 0x95B49F7Du, 0xD915C5D1u, 0x7C5457AFu,
        0x967A97DCu, 0x333B05A2u, 0x47CB61CBu, 0xE28AF3B5u, 0x08A433C6u, 0xADE5A1B8u, 0x91E6869Eu,
        0x34A714E0u, 0xDE89D493u, 0x7BC846EDu, 0x0F382284u, 0xAA79B0FAu, 0x40577089u, 0xE516E2F7u,
        0xA9B7B85Bu, 0x0CF62A25u, 0xE6D8EA56u, 0x43997828u, 0x37691C41u, 0x92288E3Fu, 0x78064E4Cu,
        0xDD47DC32u, 0xC76580D9u, 0x622412A7u, 0x880AD2D4u, 0x2D4B40AAu, 0x59BB24C3u, 0xFCFAB6BDu,
        0x16D476CEu, 0xB395E4B0u, 0xFF34BE1Cu, 0x5A752C62u, 0xB05BEC11u, 0x151A7E6Fu, 0x61EA1A06u,
        0xC4AB8878u, 0x2E85480Bu, 0x8BC4DA75u, 0xB7C7FD53u, 0x12866F2Du, 0xF8A8AF5Eu, 0x5DE93D20u,
        0x29195949u, 0x8C58CB37u, 0x66760B44u, 0xC337993Au, 0x8F96C396u, 0x2AD751E8u, 0xC0F9919Bu,
        0x65B803E5u, 0x1148678Cu, 0xB409F5F2u, 0x5E273581u, 0xFB66A7FFu, 0x26217BCDu, 0x8360E9B3u,
        0x694E29C0u, 0xCC0FBBBEu, 0xB8FFDFD7u, 0x1DBE4DA9u, 0xF7908DDAu, 0x52D11FA4u, 0x1E704508u,
        0xBB31D776u, 0x511F1705u, 0xF45E857Bu, 0x80AEE112u, 0x25EF736Cu, 0xCFC1B31Fu, 0x6A802161u,
        0x56830647u, 0xF3C29439u, 0x19EC544Au, 0xBCADC634u, 0xC85DA25Du, 0x6D1C3023u, 0x8732F050u,
        0x2273622Eu, 0x6ED23882u, 0xCB93AAFCu, 0x21BD6A8Fu, 0x84FCF8F1u, 0xF00C9C98u, 0x554D0EE6u,
        0xBF63CE95u, 0x1A225CEBu, 0x8B277743u, 0x2E66E53Du, 0xC448254Eu, 0x6109B730u, 0x15F9D359u,
        0xB0B84127u, 0x5A968154u, 0xFFD7132Au, 0xB3764986u, 0x1637DBF8u, 0xFC191B8Bu, 0x595889F5u,
        0x2DA8ED9Cu, 0x88E97FE2u, 0x62C7BF91u, 0xC7862DEFu, 0xFB850AC9u, 0x5EC498B7u, 0xB4EA58C4u,
        0x11ABCABAu, 0x655BAED3u, 0xC01A3CADu, 0x2A34FCDEu, 0x8F756EA0u, 0xC3D4340Cu, 0x6695A672u,
        0x8CBB6601u, 0x29FAF47Fu, 0x5D0A9016u, 0xF84B0268u, 0x1265C21Bu, 0xB7245065u, 0x6A638C57u,
        0xCF221E29u, 0x250CDE5Au, 0x804D4C24u, 0xF4BD284Du, 0x51FCBA33u, 0xBBD27A40u, 0x1E93E83Eu,
        0x5232B292u, 0xF77320ECu, 0x1D5DE09Fu, 0xB81C72E1u, 0xCCEC1688u, 0x69AD84F6u, 0x83834485u,
        0x26C2D6FBu, 0x1AC1F1DDu, 0xBF8063A3u, 0x55AEA3D0u, 0xF0EF31AEu, 0x841F55C7u, 0x215EC7B9u,
        0xCB7007CAu, 0x6E3195B4u, 0x2290CF18u, 0x87D15D66u, 0x6DFF9D15u, 0xC8BE0F6Bu, 0xBC4E6B02u,
        0x190FF97Cu, 0xF321390Fu, 0x5660AB71u, 0x4C42F79Au, 0xE90365E4u, 0x032DA597u, 0xA66C37E9u,
        0xD29C5380u, 0x77DDC1FEu, 0x9DF3018Du, 0x38B293F3u, 0x7413C95Fu, 0xD1525B21u, 0x3B7C9B52u,
        0x9E3D092Cu, 0xEACD6D45u, 0x4F8CFF3Bu, 0xA5A23F48u, 0x00E3AD36u, 0x3CE08A10u, 0x99A1186Eu,
        0x738FD81Du, 0xD6CE4A63u, 0xA23E2E0Au, 0x077FBC74u, 0xED517C07u, 0x4810EE79u, 0x04B1B4D5u,
        0xA1F026ABu, 0x4BDEE6D8u, 0xEE9F74A6u, 0x9A6F10CFu, 0x3F2E82B1u, 0xD50042C2u, 0x7041D0BCu,
        0xAD060C8Eu, 0x08479EF0u, 0xE2695E83u, 0x4728CCFDu, 0x33D8A894u, 0x96993AEAu, 0x7CB7FA99u,
        0xD9F668E7u, 0x9557324Bu, 0x3016A035u, 0xDA386046u, 0x7F79F238u, 0x0B899651u, 0xAEC8042Fu,
        0x44E6C45Cu, 0xE1A75622u, 0xDDA47104u, 0x78E5E37Au, 0x92CB2309u, 0x378AB177u, 0x437AD51Eu,
        0xE63B4760u, 0x0C158713u, 0xA954156Du, 0xE5F54FC1u, 0x40B4DDBFu, 0xAA9A1DCCu, 0x0FDB8FB2u,
        0x7B2BEBDBu, 0xDE6A79A5u, 0x3444B9D6u, 0x91052BA8u,
    },
    {
        0x00000000u, 0xDD45AAB8u, 0xBF672381u, 0x62228939u, 0x7B2231F3u, 0xA6679B4Bu, 0xC4451272u,
        0x1900B8CAu, 0xF64463E6u, 0x2B01C95Eu, 0x49234067u, 0x9466EADFu, 0x8D665215u, 0x5023F8ADu,
        0x32017194u, 0xEF44DB2Cu, 0xE964B13Du, 0x34211B85u, 0x560392BCu, 0x8B463804u, 0x924680CEu,
        0x4F032A76u, 0x2D21A34Fu, 0xF06409F7u, 0x1F20D2DBu, 0xC2657863u, 0xA047F15Au, 0x7D025BE2u,
        0x6402E328u, 0xB9474990u, 0xDB65C0A9u, 0x06206A11u, 0xD725148Bu, 0x0A60BE33u, 0x6842370Au,
        0xB5079DB2u, 0xAC072578u, 0x71428FC0u, 0x136006F9u, 0xCE25AC41u, 0x2161776Du, 0xFC24DDD5u,
        0x9E0654ECu, 0x4343FE54u, 0x5A43469Eu, 0x8706EC26u, 0xE524651Fu, 0x3861CFA7u, 0x3E41A5B6u,
        0xE3040F0Eu, 0x81268637u, 0x5C632C8Fu, 0x45639445u, 0x98263EFDu, 0xFA04B7C4u, 0x27411D7Cu,
        0xC805C650u, 0x15406CE8u, 0x7762E5D1u, 0xAA274F69u, 0xB327F7A3u, 0x6E625D1Bu, 0x0C40D422u,
        0xD1057E9Au, 0xABA65FE7u, 0x76E3F55Fu, 0x14C17C66u, 0xC984D6DEu, 0xD0846E14u, 0x0DC1C4ACu,
        0x6FE34D95u, 0xB2A6E72Du, 0x5DE23C01u, 0x80A796B9u, 0xE2851F80u, 0x3FC0B538u, 0x26C00DF2u,
        0xFB85A74Au, 0x99A72E73u, 0x44E284CBu, 0x42C2EEDAu, 0x9F874462u, 0xFDA5CD5Bu, 0x20E067E3u,
        0x39E0DF29u, 0xE4A57591u, 0x8687FCA8u, 0x5BC25610u, 0xB4868D3Cu, 0x69C32784u, 0x0BE1AEBDu,
        0xD6A40405u, 0xCFA4BCCFu, 0x12E11677u, 0x70C39F4Eu, 0xAD8635F6u, 0x7C834B6Cu, 0xA1C6E1D4u,
        0xC3E468EDu, 0x1EA1C255u, 0x07A17A9Fu, 0xDAE4D027u, 0xB8C6591Eu, 0x6583F3A6u, 0x8AC7288Au,
        0x57828232u, 0x35A00B0Bu, 0xE8E5A1B3u, 0xF1E51979u, 0x2CA0B3C1u, 0x4E823AF8u, 0x93C79040u,
        0x95E7FA51u, 0x48A250E9u, 0x2A80D9D0u, 0xF7C57368u, 0xEEC5CBA2u, 0x3380611Au, 0x51A2E823u,
        0x8CE7429Bu, 0x63A399B7u, 0xBEE6330Fu, 0xDCC4BA36u, 0x0181108Eu, 0x1881A844u, 0xC5C402FCu,
        0xA7E68BC5u, 0x7AA3217Du, 0x52A0C93Fu, 0x8FE56387u, 0xEDC7EABEu, 0x30824006u, 0x2982F8CCu,
        0xF4C75274u, 0x96E5DB4Du, 0x4BA071F5u, 0xA4E4AAD9u, 0x79A10061u, 0x1B838958u, 0xC6C623E0u,
        0xDFC69B2Au, 0x02833192u, 0x60A1B8ABu, 0xBDE41213u, 0xBBC47802u, 0x6681D2BAu, 0x04A35B83u,
        0xD9E6F13Bu, 0xC0E649F1u, 0x1DA3E349u, 0x7F816A70u, 0xA2C4C0C8u, 0x4D801BE4u, 0x90C5B15Cu,
        0xF2E73865u, 0x2FA292DDu, 0x36A22A17u, 0xEBE780AFu, 0x89C50996u, 0x5480A32Eu, 0x8585DDB4u,
        0x58C0770Cu, 0x3AE2FE35u, 0xE7A7548Du, 0xFEA7EC47u, 0x23E246FFu, 0x41C0CFC6u, 0x9C85657Eu,
        0x73C1BE52u, 0xAE8414EAu, 0xCCA69DD3u, 0x11E3376Bu, 0x08E38FA1u, 0xD5A62519u, 0xB784AC20u,
        0x6AC10698u, 0x6CE16C89u, 0xB1A4C631u, 0xD3864F08u, 0x0EC3E5B0u, 0x17C35D7Au, 0xCA86F7C2u,
        0xA8A47EFBu, 0x75E1D443u, 0x9AA50F6Fu, 0x47E0A5D7u, 0x25C22CEEu, 0xF8878656u, 0xE1873E9Cu,
        0x3CC29424u, 0x5EE01D1Du, 0x83A5B7A5u, 0xF90696D8u, 0x24433C60u, 0x4661B559u, 0x9B241FE1u,
        0x8224A72Bu, 0x5F610D93u, 0x3D4384AAu, 0xE0062E12u, 0x0F42F53Eu, 0xD2075F86u, 0xB025D6BFu,
        0x6D607C07u, 0x7460C4CDu, 0xA9256E75u, 0xCB07E74Cu, 0x16424DF4u, 0x106227E5u, 0xCD278D5Du,
        0xAF050464u, 0x7240AEDCu, 0x6B401616u, 0xB605BCAEu, 0xD4273597u, 0x09629F2Fu, 0xE6264403u,
        0x3B63EEBBu, 0x59416782u, 0x8404CD3Au, 0x9D0475F0u, 0x4041DF48u, 0x22635671u, 0xFF26FCC9u,
        0x2E238253u, 0xF36628EBu, 0x9144A1D2u, 0x4C010B6Au, 0x5501B3A0u, 0x88441918u, 0xEA669021u,
        0x37233A99u, 0xD867E1B5u, 0x05224B0Du, 0x6700C234u, 0xBA45688Cu, 0xA345D046u, 0x7E007AFEu,
        0x1C22F3C7u, 0xC167597Fu, 0xC747336Eu, 0x1A0299D6u, 0x782010EFu, 0xA565BA57u, 0xBC65029Du,
        0x6120A825u, 0x0302211Cu, 0xDE478BA4u, 0x31035088u, 0xEC46FA30u, 0x8E647309u, 0x5321D9B1u,
        0x4A21617Bu, 0x9764CBC3u, 0xF54642FAu, 0x2803E842u,
    },
};

/* One byte through the table.  No errors. */
static inline uint32_t crc_sw_byte(uint32_t crc, uint8_t b)
{
    return crc32c_tab[0][(crc ^ b) & 0xFF] ^ (crc >> 8);
}

/* Four bytes through the sliced table; v holds them little-endian (its low
 * byte is processed first).  No errors. */
static inline uint32_t crc_sw_word(uint32_t crc, uint32_t v)
{
    crc ^= v;
    return crc32c_tab[3][crc & 0xFF] ^ crc32c_tab[2][(crc >> 8) & 0xFF] ^
           crc32c_tab[1][(crc >> 16) & 0xFF] ^ crc32c_tab[0][crc >> 24];
}

/* Lane CRC registers (not yet inverted) of page[16..cb), table path. */
static void lanes_sw(const uint8_t *p, size_t cb, uint32_t c[JF_PG_LANES])
{
    for (size_t off = 16; off + 16 <= cb; off += 16)
        for (unsigned s = 0; s < JF_PG_LANES; s++)
            c[s] = crc_sw_word(c[s], jf_get32(p + off + 4 * s));
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <nmmintrin.h>
#define JF_HAVE_CRC_HW 1

/* Standard CRC-32C register update over p[0..cb) with SSE4.2.  Only called
 * when jf_crc_hw_available(). */
__attribute__((target("sse4.2"))) static uint32_t buf_hw(uint32_t crc, const uint8_t *p, size_t cb)
{
    size_t i = 0;
    for (; i + 4 <= cb; i += 4)
        crc = _mm_crc32_u32(crc, jf_get32(p + i));
    for (; i < cb; i++)
        crc = _mm_crc32_u8(crc, p[i]);
    return crc;
}

/* Lane registers with SSE4.2: four independent crc32 chains (one per lane),
 * so the instruction's latency is hidden.  Each 64-bit crc32 takes two
 * consecutive words of its lane (offsets off + 4s and off + 16 + 4s),
 * which is the lane's byte order; a last odd word goes through the 32-bit
 * form. */
__attribute__((target("sse4.2"))) static void lanes_hw(const uint8_t *p, size_t cb,
                                                       uint32_t c[JF_PG_LANES])
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "x86 is little-endian"
#endif
    const uint64_t lo = 0xFFFFFFFFu, hi = ~lo;
    uint64_t c0 = c[0], c1 = c[1], c2 = c[2], c3 = c[3];
    size_t off = 16;
    for (; off + 32 <= cb; off += 32) {
        uint64_t q[4]; /* q[0] = words 0,1 of the 32 bytes, q[2] = words 4,5 */
        memcpy(q, p + off, sizeof q);
        c0 = _mm_crc32_u64(c0, (q[0] & lo) | q[2] << 32);
        c1 = _mm_crc32_u64(c1, q[0] >> 32 | (q[2] & hi));
        c2 = _mm_crc32_u64(c2, (q[1] & lo) | q[3] << 32);
        c3 = _mm_crc32_u64(c3, q[1] >> 32 | (q[3] & hi));
    }
    if (off + 16 <= cb) {
        uint64_t q[2];
        memcpy(q, p + off, sizeof q);
        c0 = _mm_crc32_u32((uint32_t)c0, (uint32_t)q[0]);
        c1 = _mm_crc32_u32((uint32_t)c1, (uint32_t)(q[0] >> 32));
        c2 = _mm_crc32_u32((uint32_t)c2, (uint32_t)q[1]);
        c3 = _mm_crc32_u32((uint32_t)c3, (uint32_t)(q[1] >> 32));
    }
    c[0] = (uint32_t)c0;
    c[1] = (uint32_t)c1;
    c[2] = (uint32_t)c2;
    c[3] = (uint32_t)c3;
}
#endif

/* True if this build and CPU have the SSE4.2 crc32 instruction.  Asks the
 * CPU-feature data of the compiler runtime each time (no state of ours).
 * No errors. */
bool jf_crc_hw_available(void)
{
#ifdef JF_HAVE_CRC_HW
    return __builtin_cpu_supports("sse4.2");
#else
    return false;
#endif
}

/* Resolve impl to JF_CRC_SW or JF_CRC_HW; -1 if HW is asked for but
 * unavailable. */
static int crc_impl(int impl)
{
    bool hw = jf_crc_hw_available();
    if (impl == JF_CRC_HW)
        return hw ? JF_CRC_HW : -1;
    if (impl == JF_CRC_SW)
        return JF_CRC_SW;
    return hw ? JF_CRC_HW : JF_CRC_SW;
}

/* CRC-32C of p[0..cb) into *crc (see format.h).  false (and *crc
 * untouched) only when impl == JF_CRC_HW and the instruction is missing. */
bool jf_crc32c(int impl, const void *p, size_t cb, uint32_t *crc)
{
    const uint8_t *b = p;
    uint32_t c = 0xFFFFFFFFu;
    int which = crc_impl(impl);
    if (which < 0)
        return false;
#ifdef JF_HAVE_CRC_HW
    if (which == JF_CRC_HW) {
        *crc = ~buf_hw(c, b, cb);
        return true;
    }
#endif
    size_t i = 0;
    for (; i + 4 <= cb; i += 4)
        c = crc_sw_word(c, jf_get32(b + i));
    for (; i < cb; i++)
        c = crc_sw_byte(c, b[i]);
    *crc = ~c;
    return true;
}

/* Lane CRCs of a page (see format.h): lane s covers the words at offsets
 * 16 + 4s, 32 + 4s, ... in address order, each a standard CRC-32C.  cb
 * must be a multiple of 16 and >= 32 (callers check).  false only for an
 * unavailable JF_CRC_HW. */
bool jf_page_crc_lanes(int impl, const void *page, size_t cb, uint32_t out[JF_PG_LANES])
{
    uint32_t c[JF_PG_LANES] = { 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu };
    int which = crc_impl(impl);
    if (which < 0)
        return false;
#ifdef JF_HAVE_CRC_HW
    if (which == JF_CRC_HW)
        lanes_hw(page, cb, c);
    else
#endif
        lanes_sw(page, cb, c);
    for (unsigned s = 0; s < JF_PG_LANES; s++)
        out[s] = ~c[s];
    return true;
}

/* ---- page checksums ---- */

/* XOR-format page/segment checksum: (pgno << 32) | (JF_SEED ^ XOR of the
 * LE u32 words from offset 8 to the end).  cb >= 8.  No errors. */
uint64_t jf_page_checksum(const void *page, size_t cb, uint32_t pgno)
{
    uint32_t x = JF_SEED;
    if (cb > 8)
        x ^= jf_xor32((const uint8_t *)page + 8, cb - 8);
    return (uint64_t)pgno << 32 | x;
}

/* Store the XOR-format checksum for pgno at offset 0.  No errors. */
void jf_page_seal_xor(void *page, size_t cb, uint32_t pgno)
{
    if (cb < 8)
        return;
    jf_put64(page, jf_page_checksum(page, cb, pgno));
}

/* Seal in the CRC format (see format.h): page number and both marks first
 * (they are covered), then the lane CRCs.  No errors; does nothing for an
 * unsupported cb. */
void jf_page_seal(void *page, size_t cb, uint32_t pgno)
{
    uint8_t *b = page;
    uint32_t c[JF_PG_LANES];
    if (cb > UINT32_MAX || !page_size_ok((uint32_t)cb))
        return;
    jf_put32(b + JF_PG_PGNO, pgno);
    jf_put32(b + JF_PG_MARK1, JF_PG_MAGIC);
    jf_put32(b + JF_PG_MARK2, JF_PG_MAGIC);
    (void)jf_page_crc_lanes(JF_CRC_AUTO, b, cb, c); /* AUTO never fails */
    for (unsigned s = 0; s < JF_PG_LANES; s++)
        jf_put32(b + JF_PG_CRC + 4 * s, c[s]);
}

/* Format a page claims: blank (all zero), CRC (both marks JF_PG_MAGIC),
 * XOR (both marks zero, as every page written before the CRC format), bad
 * (anything else: one mark changed).  cb >= JF_PAGE_HDR.  No errors. */
int jf_page_format(const void *page, size_t cb)
{
    const uint8_t *b = page;
    if (cb < JF_PAGE_HDR)
        return JF_PGFMT_BAD;
    uint32_t m1 = jf_get32(b + JF_PG_MARK1), m2 = jf_get32(b + JF_PG_MARK2);
    if (m1 == JF_PG_MAGIC && m2 == JF_PG_MAGIC)
        return JF_PGFMT_CRC;
    if (m1 != 0 || m2 != 0)
        return JF_PGFMT_BAD;
    return jf_is_blank(b, cb) ? JF_PGFMT_BLANK : JF_PGFMT_XOR;
}

/* Verify a page for pgno in the format its marks name (see format.h).
 * Returns 0, JET_errReadPgnoVerifyFailure or JET_errReadVerifyFailure
 * (also for an unsupported cb).  No locking. */
long jf_page_verify(const void *page, size_t cb, uint32_t pgno)
{
    const uint8_t *b = page;
    if (cb > UINT32_MAX || !page_size_ok((uint32_t)cb))
        return JET_errReadVerifyFailure;
    switch (jf_page_format(b, cb)) {
    case JF_PGFMT_BLANK:
        return 0;
    case JF_PGFMT_CRC: {
        uint32_t c[JF_PG_LANES];
        (void)jf_page_crc_lanes(JF_CRC_AUTO, b, cb, c);
        for (unsigned s = 0; s < JF_PG_LANES; s++)
            if (jf_get32(b + JF_PG_CRC + 4 * s) != c[s])
                return JET_errReadVerifyFailure;
        return jf_get32(b + JF_PG_PGNO) == pgno ? 0 : JET_errReadPgnoVerifyFailure;
    }
    case JF_PGFMT_XOR: {
        uint64_t stored = jf_get64(b);
        uint64_t want = jf_page_checksum(b, cb, pgno);
        if (stored == want)
            return 0;
        if ((uint32_t)stored == (uint32_t)want)
            return JET_errReadPgnoVerifyFailure;
        return JET_errReadVerifyFailure;
    }
    default:
        return JET_errReadVerifyFailure;
    }
}

/* ================================================================ */
/* shared sub-structures                                             */
/* ================================================================ */

static void put_lgpos(uint8_t *p, jf_lgpos l)
{
    jf_put16(p, l.ib);
    jf_put16(p + 2, l.isec);
    jf_put32(p + 4, (uint32_t)l.gen);
}

static jf_lgpos get_lgpos(const uint8_t *p)
{
    jf_lgpos l;
    l.ib = jf_get16(p);
    l.isec = jf_get16(p + 2);
    l.gen = (int32_t)jf_get32(p + 4);
    return l;
}

static void put_logtime(uint8_t *p, const jf_logtime *t)
{
    p[0] = t->sec;
    p[1] = t->min;
    p[2] = t->hour;
    p[3] = t->day;
    p[4] = t->mon;
    p[5] = t->year;
    p[6] = t->filler1;
    p[7] = t->filler2;
}

static jf_logtime get_logtime(const uint8_t *p)
{
    jf_logtime t;
    t.sec = p[0];
    t.min = p[1];
    t.hour = p[2];
    t.day = p[3];
    t.mon = p[4];
    t.year = p[5];
    t.filler1 = p[6];
    t.filler2 = p[7];
    return t;
}

static void put_sig(uint8_t *p, const jf_sig *s)
{
    jf_put32(p, s->random);
    put_logtime(p + 4, &s->create);
    memcpy(p + 12, s->computer, 16);
}

static jf_sig get_sig(const uint8_t *p)
{
    jf_sig s;
    s.random = jf_get32(p);
    s.create = get_logtime(p + 4);
    memcpy(s.computer, p + 12, 16);
    return s;
}

static void put_bkinfo(uint8_t *p, const jf_bkinfo *b)
{
    put_lgpos(p, b->mark);
    put_logtime(p + 8, &b->time);
    jf_put32(p + 16, b->gen_low);
    jf_put32(p + 20, b->gen_high);
}

static jf_bkinfo get_bkinfo(const uint8_t *p)
{
    jf_bkinfo b;
    b.mark = get_lgpos(p);
    b.time = get_logtime(p + 8);
    b.gen_low = jf_get32(p + 16);
    b.gen_high = jf_get32(p + 20);
    return b;
}

/* True for 2, 4, 8, 16 and 32 KiB. */
static bool page_size_ok(uint32_t cb)
{
    return cb >= JF_MIN_PAGE && cb <= JF_MAX_PAGE && (cb & (cb - 1)) == 0;
}

/* ---- attach list: u8 count, then per database
 *      { u32 dbid; u16 len; len path bytes (no NUL) } ----
 * JF_ATTACH_OVERFLOW in the count byte marks a list that did not fit when
 * it was encoded; decoders reject it. */
#define JF_ATTACH_OVERFLOW 0xFF

/* Encode list into area[0..cb) (already zeroed).  If the list has more than
 * JF_MAX_DBS entries or does not fit, writes the overflow marker instead so
 * that the block fails to decode rather than silently losing a database.
 * No errors returned (format.h's encoders are void). */
static void attach_encode(uint8_t *area, size_t cb, const jf_attach_list *l)
{
    size_t off = 1;
    if (l->count > JF_MAX_DBS)
        goto overflow;
    for (uint32_t i = 0; i < l->count; i++) {
        size_t len = strnlen(l->db[i].path, JF_PATH_MAX - 1);
        if (off + 6 + len > cb)
            goto overflow;
        jf_put32(area + off, l->db[i].dbid);
        jf_put16(area + off + 4, (uint16_t)len);
        memcpy(area + off + 6, l->db[i].path, len);
        off += 6 + len;
    }
    area[0] = (uint8_t)l->count;
    return;
overflow:
    memset(area, 0, cb);
    area[0] = JF_ATTACH_OVERFLOW;
}

/* Decode an attach list from area[0..cb).  Returns 0, or -1 if the count
 * exceeds JF_MAX_DBS, an entry or its path overruns the area, a path is
 * empty, not shorter than JF_PATH_MAX or contains a NUL byte.  *l is
 * written in full (paths NUL-terminated, unused entries zero); callers
 * decode into a temporary. */
static int attach_decode(const uint8_t *area, size_t cb, jf_attach_list *l)
{
    memset(l, 0, sizeof *l);
    if (cb < 1)
        return -1;
    uint32_t count = area[0];
    if (count > JF_MAX_DBS)
        return -1;
    size_t off = 1;
    for (uint32_t i = 0; i < count; i++) {
        if (cb - off < 6)
            return -1;
        uint32_t dbid = jf_get32(area + off);
        size_t len = jf_get16(area + off + 4);
        off += 6;
        if (len == 0 || len >= JF_PATH_MAX || len > cb - off)
            return -1;
        if (memchr(area + off, 0, len) != NULL)
            return -1;
        l->db[i].dbid = dbid;
        memcpy(l->db[i].path, area + off, len);
        l->db[i].path[len] = '\0';
        off += len;
    }
    l->count = count;
    return 0;
}

/* ================================================================ */
/* database header                                                   */
/* ================================================================ */

/* Encode *h into blk[0..cb_page): zero fill, all fields at their DBFILEHDR
 * offsets, magic/version from h, attrib 0, filetype 1 @667, page size @236 =
 * cb_page (the block size argument; h->cb_page is not consulted), libjet
 * extension fields @1024, then the header checksum.  cb_page must be a
 * supported page size (caller's bug otherwise; the block is still sealed).
 * No errors. */
void jf_dbhdr_encode(const jf_dbhdr *h, void *blk, size_t cb_page)
{
    uint8_t *b = blk;
    memset(b, 0, cb_page);
    if (cb_page < DB_EXT_PGNO_LAST + 4)
        return;
    jf_put32(b + DB_MAGIC, h->magic);
    jf_put32(b + DB_VERSION, h->version);
    jf_put64(b + DB_DBTIME, h->dbtime_dirtied);
    put_sig(b + DB_SIGNDB, &h->sign_db);
    jf_put32(b + DB_DBSTATE, h->dbstate);
    put_lgpos(b + DB_LGPOS_CONS, h->lgpos_consistent);
    put_logtime(b + DB_TIME_CONS, &h->time_consistent);
    put_logtime(b + DB_TIME_ATTACH, &h->time_attach);
    put_lgpos(b + DB_LGPOS_ATTACH, h->lgpos_attach);
    put_logtime(b + DB_TIME_DETACH, &h->time_detach);
    put_lgpos(b + DB_LGPOS_DETACH, h->lgpos_detach);
    jf_put32(b + DB_DBID, h->dbid);
    put_sig(b + DB_SIGNLOG, &h->sign_log);
    put_bkinfo(b + DB_BK_FULL_PREV, &h->full_prev);
    put_bkinfo(b + DB_BK_INC_PREV, &h->inc_prev);
    put_bkinfo(b + DB_BK_FULL_CUR, &h->full_cur);
    jf_put32(b + DB_FLAGS, h->flags);
    jf_put32(b + DB_CBPAGE, (uint32_t)cb_page);
    jf_put32(b + DB_GEN_MIN_REQ, (uint32_t)h->gen_min_req);
    jf_put32(b + DB_GEN_MAX_REQ, (uint32_t)h->gen_max_req);
    put_bkinfo(b + DB_BK_SNAP_CUR, &h->snapshot_cur);
    put_logtime(b + DB_TIME_GENMAX_CREATE, &h->time_gen_max_create);
    jf_put32(b + DB_TYPE_FULL_PREV, h->type_full_prev);
    jf_put32(b + DB_TYPE_INC_PREV, h->type_inc_prev);
    jf_put32(b + DB_GEN_MAX_COMMITTED, (uint32_t)h->gen_max_committed);
    put_bkinfo(b + DB_BK_COPY_PREV, &h->copy_prev);
    put_bkinfo(b + DB_BK_DIFF_PREV, &h->diff_prev);
    jf_put32(b + DB_TYPE_COPY_PREV, h->type_copy_prev);
    jf_put32(b + DB_TYPE_DIFF_PREV, h->type_diff_prev);
    jf_put32(b + DB_GEN_MIN_CONS, (uint32_t)h->gen_min_consistent);
    jf_put32(b + OFF_FILETYPE, JF_FILETYPE_DB);
    jf_put32(b + DB_EXT_CB_RECORD, h->cb_record);
    jf_put32(b + DB_EXT_PGNO_LAST, h->pgno_last);
    jf_hdr_seal(b, cb_page);
}

/* Page size recorded at @236 of a raw header (0 there means 4096, as in
 * ESE); returns 0 if cb < 240 or the value is not 2/4/8/16/32 KiB.
 * No checksum check.  No errors. */
uint32_t jf_dbhdr_peek_page_size(const void *blk, size_t cb)
{
    if (cb < DB_CBPAGE + 4)
        return 0;
    uint32_t v = jf_get32((const uint8_t *)blk + DB_CBPAGE);
    if (v == 0)
        v = 4096;
    return page_size_ok(v) ? v : 0;
}

/* Decode and verify one header copy (blk has cb bytes, at least the page
 * size recorded in it).  Errors (JET_errDatabaseCorrupted, *h untouched):
 * implausible page size, cb < page size, bad checksum, wrong magic or
 * filetype.  The version is returned, not checked. */
long jf_dbhdr_decode(const void *blk, size_t cb, jf_dbhdr *h)
{
    const uint8_t *b = blk;
    uint32_t cb_page = jf_dbhdr_peek_page_size(blk, cb);
    if (cb_page == 0 || cb < cb_page)
        return JET_errDatabaseCorrupted;
    if (!jf_hdr_ok(b, cb_page))
        return JET_errDatabaseCorrupted;
    if (jf_get32(b + DB_MAGIC) != JF_DB_MAGIC || jf_get32(b + OFF_FILETYPE) != JF_FILETYPE_DB)
        return JET_errDatabaseCorrupted;
    jf_dbhdr t;
    memset(&t, 0, sizeof t);
    t.magic = jf_get32(b + DB_MAGIC);
    t.version = jf_get32(b + DB_VERSION);
    t.dbtime_dirtied = jf_get64(b + DB_DBTIME);
    t.sign_db = get_sig(b + DB_SIGNDB);
    t.dbstate = jf_get32(b + DB_DBSTATE);
    t.lgpos_consistent = get_lgpos(b + DB_LGPOS_CONS);
    t.time_consistent = get_logtime(b + DB_TIME_CONS);
    t.time_attach = get_logtime(b + DB_TIME_ATTACH);
    t.lgpos_attach = get_lgpos(b + DB_LGPOS_ATTACH);
    t.time_detach = get_logtime(b + DB_TIME_DETACH);
    t.lgpos_detach = get_lgpos(b + DB_LGPOS_DETACH);
    t.dbid = jf_get32(b + DB_DBID);
    t.sign_log = get_sig(b + DB_SIGNLOG);
    t.full_prev = get_bkinfo(b + DB_BK_FULL_PREV);
    t.inc_prev = get_bkinfo(b + DB_BK_INC_PREV);
    t.full_cur = get_bkinfo(b + DB_BK_FULL_CUR);
    t.flags = jf_get32(b + DB_FLAGS);
    t.cb_page = cb_page;
    t.gen_min_req = (int32_t)jf_get32(b + DB_GEN_MIN_REQ);
    t.gen_max_req = (int32_t)jf_get32(b + DB_GEN_MAX_REQ);
    t.snapshot_cur = get_bkinfo(b + DB_BK_SNAP_CUR);
    t.time_gen_max_create = get_logtime(b + DB_TIME_GENMAX_CREATE);
    t.type_full_prev = jf_get32(b + DB_TYPE_FULL_PREV);
    t.type_inc_prev = jf_get32(b + DB_TYPE_INC_PREV);
    t.gen_max_committed = (int32_t)jf_get32(b + DB_GEN_MAX_COMMITTED);
    t.copy_prev = get_bkinfo(b + DB_BK_COPY_PREV);
    t.diff_prev = get_bkinfo(b + DB_BK_DIFF_PREV);
    t.type_copy_prev = jf_get32(b + DB_TYPE_COPY_PREV);
    t.type_diff_prev = jf_get32(b + DB_TYPE_DIFF_PREV);
    t.gen_min_consistent = (int32_t)jf_get32(b + DB_GEN_MIN_CONS);
    t.cb_record = jf_get32(b + DB_EXT_CB_RECORD);
    t.pgno_last = jf_get32(b + DB_EXT_PGNO_LAST);
    *h = t;
    return 0;
}

/* ================================================================ */
/* trailer (PATCHHDR)                                                */
/* ================================================================ */

/* Encode *t into page[0..cb_page): zero fill (the 40-byte PGHDR stays
 * zero), fields at their PATCHHDR offsets, header checksum at 0.
 * No errors. */
void jf_trailer_encode(const jf_trailer *t, void *page, size_t cb_page)
{
    uint8_t *b = page;
    memset(b, 0, cb_page);
    if (cb_page < TR_TIME_MAX_REQ + 8)
        return;
    put_bkinfo(b + TR_BKINFO, &t->bkinfo);
    put_sig(b + TR_SIGNDB, &t->sign_db);
    put_sig(b + TR_SIGNLOG, &t->sign_log);
    jf_put32(b + TR_GEN_MIN_REQ, (uint32_t)t->gen_min_req);
    jf_put32(b + TR_GEN_MAX_REQ, (uint32_t)t->gen_max_req);
    jf_put32(b + TR_GEN_MAX_COMMITTED, (uint32_t)t->gen_max_committed);
    put_logtime(b + TR_TIME_MIN_REQ, &t->time_min_req);
    put_logtime(b + TR_TIME_MAX_REQ, &t->time_max_req);
    jf_hdr_seal(b, cb_page);
}

/* Decode a trailer page of cb_page bytes.  Errors (JET_errBadPatchPage, *t
 * untouched): unsupported cb_page, bad checksum (an all-zero page has a bad
 * checksum). */
long jf_trailer_decode(const void *page, size_t cb_page, jf_trailer *t)
{
    const uint8_t *b = page;
    if (cb_page > UINT32_MAX || !page_size_ok((uint32_t)cb_page) || !jf_hdr_ok(b, cb_page))
        return JET_errBadPatchPage;
    jf_trailer r;
    r.bkinfo = get_bkinfo(b + TR_BKINFO);
    r.sign_db = get_sig(b + TR_SIGNDB);
    r.sign_log = get_sig(b + TR_SIGNLOG);
    r.gen_min_req = (int32_t)jf_get32(b + TR_GEN_MIN_REQ);
    r.gen_max_req = (int32_t)jf_get32(b + TR_GEN_MAX_REQ);
    r.gen_max_committed = (int32_t)jf_get32(b + TR_GEN_MAX_COMMITTED);
    r.time_min_req = get_logtime(b + TR_TIME_MIN_REQ);
    r.time_max_req = get_logtime(b + TR_TIME_MAX_REQ);
    *t = r;
    return 0;
}

/* ================================================================ */
/* log file header                                                   */
/* ================================================================ */

/* Encode *h into blk[0..JF_LOG_HDR): zero fill, LGFILEHDR fields, filetype
 * 3 @667, attach list @671 (at most JF_ATTACH_MAX bytes; a list that does
 * not fit is encoded as the overflow marker, see attach_encode), header
 * checksum.  No errors. */
void jf_loghdr_encode(const jf_loghdr *h, void *blk)
{
    uint8_t *b = blk;
    memset(b, 0, JF_LOG_HDR);
    jf_put32(b + LH_GEN, (uint32_t)h->gen);
    jf_put16(b + LH_CBSEC, h->cb_sec);
    jf_put16(b + LH_CSEC_HEADER, h->csec_header);
    jf_put16(b + LH_CSEC_FILE, h->csec_file);
    jf_put16(b + LH_CBPAGE, h->cb_page_db);
    put_logtime(b + LH_TIME_CREATE, &h->time_create);
    put_logtime(b + LH_TIME_PREV, &h->time_prev_gen);
    put_sig(b + LH_SIGNLOG, &h->sign_log);
    put_lgpos(b + LH_LGPOS_CHK, h->lgpos_checkpoint);
    jf_put32(b + OFF_FILETYPE, JF_FILETYPE_LOG);
    attach_encode(b + LH_ATTACH, JF_ATTACH_MAX, &h->attach);
    jf_hdr_seal(b, JF_LOG_HDR);
}

/* Decode a log file header (first JF_LOG_HDR bytes of blk).  Errors
 * (JET_errLogFileCorrupt, *h untouched): cb < JF_LOG_HDR, bad checksum,
 * filetype != 3, cb_sec != 4096, csec_header != 1, csec_file < 2, gen not in
 * 1..JF_GEN_MAX, page size neither 0 nor 2..32 KiB, bad attach list. */
long jf_loghdr_decode(const void *blk, size_t cb, jf_loghdr *h)
{
    const uint8_t *b = blk;
    if (cb < JF_LOG_HDR || !jf_hdr_ok(b, JF_LOG_HDR))
        return JET_errLogFileCorrupt;
    if (jf_get32(b + OFF_FILETYPE) != JF_FILETYPE_LOG)
        return JET_errLogFileCorrupt;
    jf_loghdr t;
    t.gen = (int32_t)jf_get32(b + LH_GEN);
    t.cb_sec = jf_get16(b + LH_CBSEC);
    t.csec_header = jf_get16(b + LH_CSEC_HEADER);
    t.csec_file = jf_get16(b + LH_CSEC_FILE);
    t.cb_page_db = jf_get16(b + LH_CBPAGE);
    if (t.gen < 1 || (uint32_t)t.gen > JF_GEN_MAX || t.cb_sec != JF_SEGMENT || t.csec_header != 1 ||
        t.csec_file < 2 || (t.cb_page_db != 0 && !page_size_ok(t.cb_page_db)))
        return JET_errLogFileCorrupt;
    t.time_create = get_logtime(b + LH_TIME_CREATE);
    t.time_prev_gen = get_logtime(b + LH_TIME_PREV);
    t.sign_log = get_sig(b + LH_SIGNLOG);
    t.lgpos_checkpoint = get_lgpos(b + LH_LGPOS_CHK);
    if (attach_decode(b + LH_ATTACH, JF_ATTACH_MAX, &t.attach) < 0)
        return JET_errLogFileCorrupt;
    *h = t;
    return 0;
}

/* ================================================================ */
/* log segments                                                      */
/* ================================================================ */

/* Write the LGSEGHDR fields of *h into seg (JF_SEGMENT bytes; reserved
 * bytes 24..35 zeroed; payload untouched) and seal with the page checksum
 * using pgno = h->lgpos.isec.  No errors. */
void jf_seg_seal(void *seg, const jf_seghdr *h)
{
    uint8_t *b = seg;
    put_lgpos(b + SEG_LGPOS, h->lgpos);
    put_logtime(b + SEG_TIME, &h->time);
    memset(b + 24, 0, 12);
    jf_put32(b + SEG_FLAGS, h->flags);
    jf_page_seal_xor(b, JF_SEGMENT, h->lgpos.isec);
}

/* Verify a JF_SEGMENT-byte segment for index isec.  Returns 0 if blank
 * (*blank = true) or the checksum matches isec (*blank = false);
 * JET_errLogReadVerifyFailure otherwise (also for a checksum that is valid
 * for another index).  blank may be NULL. */
long jf_seg_verify(const void *seg, uint16_t isec, bool *blank)
{
    bool is_blank = jf_is_blank(seg, JF_SEGMENT);
    long rc = 0;
    if (!is_blank && jf_get64(seg) != jf_page_checksum(seg, JF_SEGMENT, isec))
        rc = JET_errLogReadVerifyFailure;
    if (blank)
        *blank = is_blank;
    return rc;
}

/* ================================================================ */
/* checkpoint                                                        */
/* ================================================================ */

/* Encode *c into blk[0..JF_CHK_BLOCK): zero fill, CHECKPOINT fields,
 * filetype 4 @667, attach list @679 up to the block end, header checksum.
 * No errors. */
void jf_chk_encode(const jf_chk *c, void *blk)
{
    uint8_t *b = blk;
    memset(b, 0, JF_CHK_BLOCK);
    put_lgpos(b + CK_LGPOS_FULL, c->lgpos_last_full_backup);
    put_lgpos(b + CK_LGPOS_CHK, c->lgpos_checkpoint);
    put_sig(b + CK_SIGNLOG, &c->sign_log);
    put_lgpos(b + CK_LGPOS_DBCONS, c->lgpos_db_consistency);
    jf_put32(b + OFF_FILETYPE, JF_FILETYPE_CHK);
    attach_encode(b + CK_ATTACH, JF_CHK_BLOCK - CK_ATTACH, &c->attach);
    jf_hdr_seal(b, JF_CHK_BLOCK);
}

/* Decode one checkpoint block.  Errors (JET_errCheckpointCorrupt, *c
 * untouched): cb < JF_CHK_BLOCK, bad checksum, filetype != 4, bad attach
 * list. */
long jf_chk_decode(const void *blk, size_t cb, jf_chk *c)
{
    const uint8_t *b = blk;
    if (cb < JF_CHK_BLOCK || !jf_hdr_ok(b, JF_CHK_BLOCK))
        return JET_errCheckpointCorrupt;
    if (jf_get32(b + OFF_FILETYPE) != JF_FILETYPE_CHK)
        return JET_errCheckpointCorrupt;
    jf_chk t;
    t.lgpos_last_full_backup = get_lgpos(b + CK_LGPOS_FULL);
    t.lgpos_checkpoint = get_lgpos(b + CK_LGPOS_CHK);
    t.sign_log = get_sig(b + CK_SIGNLOG);
    t.lgpos_db_consistency = get_lgpos(b + CK_LGPOS_DBCONS);
    if (attach_decode(b + CK_ATTACH, JF_CHK_BLOCK - CK_ATTACH, &t.attach) < 0)
        return JET_errCheckpointCorrupt;
    *c = t;
    return 0;
}

/* ================================================================ */
/* file names                                                        */
/* ================================================================ */

/* ".log" with JET_bitESE98FileNames, else ".jtx".  Static string. */
const char *jf_log_ext(unsigned legacy)
{
    return (legacy & JET_bitESE98FileNames) ? ".log" : ".jtx";
}

/* ".chk" with JET_bitESE98FileNames, else ".jcp".  Static string. */
const char *jf_chk_ext(unsigned legacy)
{
    return (legacy & JET_bitESE98FileNames) ? ".chk" : ".jcp";
}

/* Write "<a><b><c>" into buf if it fits with its NUL; returns the length or
 * -1 (buf untouched) if it does not fit or an argument is NULL. */
static int name3(char *buf, size_t cb, const char *a, const char *b, const char *c)
{
    if (!buf || !a || !b || !c)
        return -1;
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    size_t n = la + lb + lc;
    if (n >= cb || n > (size_t)INT32_MAX)
        return -1;
    memcpy(buf, a, la);
    memcpy(buf + la, b, lb);
    memcpy(buf + la + lb, c, lc);
    buf[n] = '\0';
    return (int)n;
}

/* "<base><GEN><ext>": GEN is uppercase hex, 5 digits when
 * JET_bitEightDotThreeSoftCompat is set and gen <= 0xFFFFF, else 8.  Any
 * u32 gen is formatted (validity is the caller's business).  Returns the
 * length or -1 (buf untouched) if it does not fit. */
int jf_log_name(char *buf, size_t cb, const char *base, uint32_t gen, unsigned legacy)
{
    char digits[16];
    int n;
    if ((legacy & JET_bitEightDotThreeSoftCompat) && gen <= 0xFFFFFu)
        n = snprintf(digits, sizeof digits, "%05X", (unsigned)gen);
    else
        n = snprintf(digits, sizeof digits, "%08X", (unsigned)gen);
    if (n < 0 || (size_t)n >= sizeof digits)
        return -1;
    return name3(buf, cb, base, digits, jf_log_ext(legacy));
}

/* "<base><ext>" (the current log, edb.log).  Length or -1. */
int jf_cur_log_name(char *buf, size_t cb, const char *base, unsigned legacy)
{
    return name3(buf, cb, base, "", jf_log_ext(legacy));
}

/* "<base>tmp<ext>" (the next log being prepared).  Length or -1. */
int jf_tmp_log_name(char *buf, size_t cb, const char *base, unsigned legacy)
{
    return name3(buf, cb, base, "tmp", jf_log_ext(legacy));
}

/* "<base><chkext>" (the checkpoint file).  Length or -1. */
int jf_chk_name(char *buf, size_t cb, const char *base, unsigned legacy)
{
    return name3(buf, cb, base, "", jf_chk_ext(legacy));
}

/* Value of a hex digit (either case), or -1. */
static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Parse an archived log file name (a bare name, no directory):
 * "<base><5 or 8 hex digits><ext>", base and ext case-insensitive, digits
 * either case; ext NULL accepts ".log" or ".jtx".  Returns 0 and *gen, or -1
 * (*gen untouched) for anything else, including edb.log, edbtmp.log, other
 * digit counts, gen 0 and gen > JF_GEN_MAX. */
int jf_log_parse(const char *name, const char *base, const char *ext, uint32_t *gen)
{
    if (!name || !base)
        return -1;
    size_t lb = strlen(base);
    if (strncasecmp(name, base, lb) != 0)
        return -1;
    const char *p = name + lb;
    uint32_t v = 0;
    size_t nd = 0;
    while (nd < 9 && hexval(p[nd]) >= 0) {
        if (nd < 8)
            v = v << 4 | (uint32_t)hexval(p[nd]);
        nd++;
    }
    if (nd != 5 && nd != 8)
        return -1;
    const char *rest = p + nd;
    if (ext) {
        if (strcasecmp(rest, ext) != 0)
            return -1;
    } else if (strcasecmp(rest, ".log") != 0 && strcasecmp(rest, ".jtx") != 0) {
        return -1;
    }
    if (v == 0 || v > JF_GEN_MAX)
        return -1;
    if (gen)
        *gen = v;
    return 0;
}
