/* Exact float text for the history bulk path (included by hisbuf.pyx).
 *
 * hx_format_double writes what Python's repr(float) writes, byte for byte; hx_parse_decimal
 * reads a plain decimal text to the double Python's float() gives.  Both take a fast exact
 * path and leave every case they cannot decide with certainty to CPython's own conversion
 * (PyOS_double_to_string here, float() in the caller), so the results are CPython's.
 *
 * The fast paths scale by powers of ten held as 128-bit fixed-point numbers: for k in
 * [HX_POW_MIN, HX_POW_MAX], 10^k = (P_k + f) * 2^hx_pow_exp[k] with P_k = hi * 2^64 + lo in
 * [2^127, 2^128) and 0 <= f < 1 (P_k truncated; exact for 0 <= k <= 55).  The including module
 * fills the table at import from exact Python integers (hx_set_power, then hx_powers_ready);
 * until then, or without unsigned __int128, everything takes the CPython path.
 *
 * Formatting (finite v = m * 2^e, m in (2^52, 2^53)): X = v * 10^k with k chosen so that
 * 10^16 <= X < 10^17 is computed as a fixed-point number (56 fraction bits, error < 2 units),
 * and so is half an ulp of v on the same scale.  The shortest text repr gives is the
 * correctly rounded X to 15 significant digits when that rounds back to v (no two 15-digit
 * decimals fit in one ulp), else the correctly rounded 16-digit one when it does (the closest
 * of the 16-digit candidates), else the 17-digit one; an exact tie between two candidates goes
 * to the even one, as in repr.  A decision within HX_MARGIN units of an inexact rounding tie or
 * of the round-trip limit, a power of two (its lower neighbour is nearer), a
 * subnormal and anything outside the table go to PyOS_double_to_string.  Integers below 2^53
 * are written directly.
 *
 * Parsing (text w * 10^q, w < 10^19): Clinger's fast path when w <= 2^53 and |q| <= 22 (one
 * correctly rounded IEEE operation on exact operands); otherwise w * 10^q to 128 bits, rounded
 * to 53 bits when the discarded part (error < 2 units) is clear of the halfway point, and
 * left to the caller when it is not, or when the result is subnormal or overflows.
 */
#ifndef HX_FLOATTEXT_H
#define HX_FLOATTEXT_H

#include <Python.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define HX_POW_MIN (-350)
#define HX_POW_MAX 350

#if defined(__SIZEOF_INT128__)
#define HX_INT128 1
typedef unsigned __int128 hx_u128;
#else
#define HX_INT128 0
#endif

static uint64_t hx_pow_hi[HX_POW_MAX - HX_POW_MIN + 1];
static uint64_t hx_pow_lo[HX_POW_MAX - HX_POW_MIN + 1];
static int hx_pow_exp[HX_POW_MAX - HX_POW_MIN + 1];
static int hx_pow_ready = 0;

/* Table entry of 10^k (hi, lo: P_k; exp: its binary exponent). */
static void hx_set_power(int k, uint64_t hi, uint64_t lo, int exp)
{
    hx_pow_hi[k - HX_POW_MIN] = hi;
    hx_pow_lo[k - HX_POW_MIN] = lo;
    hx_pow_exp[k - HX_POW_MIN] = exp;
}

/* The table is complete: the fast paths may use it. */
static void hx_powers_ready(void) { hx_pow_ready = HX_INT128; }

/* Decimal digits of u into out (at least 20 bytes); their count. */
static inline int hx_write_u64(char *out, uint64_t u)
{
    static const char PAIRS[201] = "00010203040506070809101112131415161718192021222324"
                                   "25262728293031323334353637383940414243444546474849"
                                   "50515253545556575859606162636465666768697071727374"
                                   "75767778798081828384858687888990919293949596979899";
    char tmp[20];
    int i = 20, n;
    while (u >= 100) {
        i -= 2;
        memcpy(tmp + i, PAIRS + 2 * (u % 100), 2);
        u /= 100;
    }
    if (u >= 10) {
        i -= 2;
        memcpy(tmp + i, PAIRS + 2 * u, 2);
    } else {
        tmp[--i] = (char)('0' + u);
    }
    n = 20 - i;
    memcpy(out, tmp + i, n);
    return n;
}

/* repr(v) by CPython itself; its length, -1 with MemoryError set.  Callable with or without
 * the GIL (it takes the GIL for the call). */
static int hx_format_slow(char *out, double v)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    char *text = PyOS_double_to_string(v, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    int n = -1;
    if (text != NULL) {
        n = (int)strlen(text);
        memcpy(out, text, n);
        PyMem_Free(text);
    }
    PyGILState_Release(gil);
    return n;
}

#if HX_INT128
#define HX_MARGIN 64 /* units of 2^-56 of X: both error bounds (2 units each) and then some */
#define HX_FRAC 56

/* Rounding of X to the digit of weight `unit` (in 2^-56 units of X), where `rem` is the part of
 * X below that digit: 1 when the rounded value is within half an ulp (`half`) of v, 0 when no
 * value with that last digit is, -1 when too close to call; *up tells whether it rounds up.
 * `odd`: whether the digit rounded off from is odd when X is exact, -1 when it may not be. */
static inline int hx_round_trips(uint64_t rem, uint64_t unit, uint64_t half, int odd, int *up)
{
    uint64_t mid = unit / 2, dist = rem < mid ? rem : unit - rem;
    if (dist > half + HX_MARGIN)
        return 0;
    if (rem + HX_MARGIN > mid && rem < mid + HX_MARGIN) {
        if (rem != mid || odd < 0) /* not known to be an exact tie */
            return -1;
        *up = odd; /* both neighbours as near: the even one, as repr */
        return dist + HX_MARGIN < half ? 1 : -1;
    }
    *up = rem > mid;
    return dist + HX_MARGIN < half ? 1 : -1;
}

/* The shortest digits of a normal, non-integral-or-large, positive double with biased exponent
 * be and fraction bits frac (not 0), laid out as repr does, into out; their length, or 0 when
 * the decision is not certain. */
static int hx_format_shortest(char *out, int be, uint64_t frac)
{
    static const uint64_t E16 = 10000000000000000ULL, E17 = 100000000000000000ULL;
    uint64_t m = frac | (1ULL << 52), hi, lo, ip, fp, half, q;
    int e = be - 1075, e2 = be - 1023, lg, k, sh, digits, decpt, nd, up = 0, i, r, n = 0, exact;
    hx_u128 low, top, x;
    char d[20];
    /* floor(e2 * log10(2)), exact for |e2| < 1100 */
    lg = e2 >= 0 ? (e2 * 78913) >> 18 : -((-e2 * 78913 + (1 << 18) - 1) >> 18);
    k = 16 - lg;
    if (k < HX_POW_MIN || k > HX_POW_MAX)
        return 0;
    hi = hx_pow_hi[k - HX_POW_MIN];
    lo = hx_pow_lo[k - HX_POW_MIN];
    sh = -(e + hx_pow_exp[k - HX_POW_MIN] + HX_FRAC);
    if (sh < 64 || sh > 120)
        return 0;
    low = (hx_u128)m * lo;
    top = (hx_u128)m * hi + (low >> 64); /* m * P_k / 2^64 */
    x = top >> (sh - 64);                 /* X * 2^56 */
    /* X is exact when P_k is and no bit of m * P_k was shifted out */
    exact = k >= 0 && k <= 55 && (uint64_t)low == 0 && (top & (((hx_u128)1 << (sh - 64)) - 1)) == 0;
    half = (uint64_t)((((hx_u128)hi << 64) | lo) >> (sh + 1));
    ip = (uint64_t)(x >> HX_FRAC);
    fp = (uint64_t)x & ((1ULL << HX_FRAC) - 1);
    if (ip >= E17) { /* v >= 10^(lg + 1): one digit less of scale */
        exact = exact && (((ip % 10) << HX_FRAC) | fp) % 10 == 0;
        fp = (((ip % 10) << HX_FRAC) | fp) / 10;
        ip /= 10;
        half /= 10;
        k -= 1;
    }
    if (ip < E16 || ip >= E17)
        return 0;
    /* 15 digits, else 16, else 17 (constant divisors: multiplications) */
    digits = 15;
    r = hx_round_trips(((ip % 100) << HX_FRAC) | fp, 100ULL << HX_FRAC, half,
                       exact ? (int)(ip / 100 % 2) : -1, &up);
    q = ip / 100;
    if (r == 0) {
        digits = 16;
        r = hx_round_trips(((ip % 10) << HX_FRAC) | fp, 10ULL << HX_FRAC, half,
                           exact ? (int)(ip / 10 % 2) : -1, &up);
        q = ip / 10;
    }
    if (r == 0) {
        digits = 17;
        r = hx_round_trips(fp, 1ULL << HX_FRAC, half, exact ? (int)(ip % 2) : -1, &up);
        q = ip;
    }
    if (r != 1)
        return 0;
    q += up;
    if (q == (digits == 15 ? E16 / 10 : digits == 16 ? E16 : E17)) { /* rounded up to 10^digits */
        q /= 10;
        k -= 1;
    }
    while (q % 10000 == 0) /* no trailing zeros */
        q /= 10000;
    while (q % 10 == 0)
        q /= 10;
    decpt = 17 - k; /* X = v * 10^k has 17 integer digits: v = 0.d1d2... * 10^decpt */
    nd = hx_write_u64(d, q);
    if (decpt <= -4 || decpt > 16) { /* d.ddde+XX */
        int x10 = decpt - 1;
        out[n++] = d[0];
        if (nd > 1) {
            out[n++] = '.';
            memcpy(out + n, d + 1, nd - 1);
            n += nd - 1;
        }
        out[n++] = 'e';
        out[n++] = x10 < 0 ? '-' : '+';
        if (x10 < 0)
            x10 = -x10;
        if (x10 < 10)
            out[n++] = '0';
        n += hx_write_u64(out + n, (uint64_t)x10);
    } else if (decpt <= 0) { /* 0.000ddd */
        out[n++] = '0';
        out[n++] = '.';
        for (i = 0; i < -decpt; i++)
            out[n++] = '0';
        memcpy(out + n, d, nd);
        n += nd;
    } else if (decpt >= nd) { /* ddd000.0 */
        memcpy(out, d, nd);
        n = nd;
        for (i = nd; i < decpt; i++)
            out[n++] = '0';
        out[n++] = '.';
        out[n++] = '0';
    } else { /* ddd.ddd */
        memcpy(out, d, decpt);
        out[decpt] = '.';
        memcpy(out + decpt + 1, d + decpt, nd - decpt);
        n = nd + 1;
    }
    return n;
}
#endif

/* repr(v) for any double but NaN into out (at least 32 bytes); its length, -1 with an
 * exception set.  Callable without the GIL. */
static int hx_format_double(char *out, double v)
{
    uint64_t bits, frac;
    int be, n = 0;
    double a = fabs(v);
    memcpy(&bits, &v, 8);
    frac = bits & ((1ULL << 52) - 1);
    be = (int)((bits >> 52) & 0x7FF);
    if (bits >> 63)
        out[n++] = '-';
    if (be == 0x7FF) {
        memcpy(out + n, "inf", 3);
        return n + 3;
    }
    if (a < 9007199254740992.0 && a == (double)(uint64_t)a) { /* integers below 2^53 */
        n += hx_write_u64(out + n, (uint64_t)a);
        out[n++] = '.';
        out[n++] = '0';
        return n;
    }
#if HX_INT128
    if (hx_pow_ready && be != 0 && frac != 0) {
        int k = hx_format_shortest(out + n, be, frac);
        if (k > 0)
            return n + k;
    }
#endif
    return hx_format_slow(out, v);
}

/* float() of p[0:n] into *out when the text is -?D*(.D*)?([eE][+-]?D+)? with at least one
 * mantissa digit, at most 19 significant ones, and the value is decided exactly: 1; otherwise 0
 * (the caller asks float()). */
static int hx_parse_decimal(const char *p, Py_ssize_t n, double *out)
{
    static const double P10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char *s = p, *end = p + n, *sig, *frac;
    uint64_t w = 0;
    int neg = 0, q = 0, x = 0, xneg = 0;
    Py_ssize_t nd, mantissa;
    if (s < end && *s == '-') {
        neg = 1;
        s++;
    }
    mantissa = end - s;
    while (s < end && *s == '0') /* leading zeros */
        s++;
    sig = s;
    while (s < end && (unsigned)(*s - '0') < 10)
        w = w * 10 + (uint64_t)(*s++ - '0');
    nd = s - sig;
    if (s < end && *s == '.') {
        frac = ++s;
        if (nd == 0)
            while (s < end && *s == '0')
                s++;
        sig = s;
        while (s < end && (unsigned)(*s - '0') < 10)
            w = w * 10 + (uint64_t)(*s++ - '0');
        nd += s - sig;
        q = -(int)(s - frac);
        mantissa -= 1; /* the point is no digit */
    }
    mantissa -= end - s;
    if (mantissa == 0 || nd > 19) /* no digit; or w may have overflowed */
        return 0;
    if (s < end && (*s == 'e' || *s == 'E')) {
        const char *digits;
        s++;
        if (s < end && (*s == '+' || *s == '-'))
            xneg = *s++ == '-';
        digits = s;
        for (; s < end && (unsigned)(*s - '0') < 10; s++)
            if (x < 100000)
                x = x * 10 + (*s - '0');
        if (s == digits || x >= 100000)
            return 0;
        q += xneg ? -x : x;
    }
    if (s != end)
        return 0;
    if (w == 0) {
        *out = neg ? -0.0 : 0.0;
        return 1;
    }
#if FLT_EVAL_METHOD == 0
    if (w <= (1ULL << 53) && q >= -22 && q <= 22) { /* Clinger: both operands exact */
        double v = (double)w;
        v = q >= 0 ? v * P10[q] : v / P10[-q];
        *out = neg ? -v : v;
        return 1;
    }
#endif
#if HX_INT128
    if (hx_pow_ready && q >= HX_POW_MIN && q <= HX_POW_MAX) {
        int lz = __builtin_clzll(w), s, be;
        uint64_t ws = w << lz, hi = hx_pow_hi[q - HX_POW_MIN], lo = hx_pow_lo[q - HX_POW_MIN];
        uint64_t mant, bits;
        hx_u128 top = (hx_u128)ws * hi + (((hx_u128)ws * lo) >> 64); /* in [2^126, 2^128) */
        hx_u128 rem, mid;
        s = (int)(top >> 127) + 74; /* keep 53 bits */
        mant = (uint64_t)(top >> s);
        rem = top & (((hx_u128)1 << s) - 1);
        mid = (hx_u128)1 << (s - 1);
        if (rem + 2 > mid && rem <= mid) /* the exact rest lies in [rem, rem + 2) */
            return 0;
        mant += rem > mid;
        be = s + 64 + hx_pow_exp[q - HX_POW_MIN] - lz + 1075;
        if (be < 1)
            return 0;
        if (mant == (1ULL << 53)) {
            mant >>= 1;
            be++;
        }
        if (be > 2046)
            return 0;
        bits = ((uint64_t)neg << 63) | ((uint64_t)be << 52) | (mant & ((1ULL << 52) - 1));
        memcpy(out, &bits, 8);
        return 1;
    }
#endif
    return 0;
}

#endif
