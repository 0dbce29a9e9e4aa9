//  tly_base58 - base58 encoding and decoding in wide limbs.
#include "tly_base58.h"

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

static const char s_alphabet [] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

//  Works in limbs of base 58^5 and feeds the input three bytes at a time:
//  each step is a multiply-add on 64 bits, about 30x fewer than digit by digit
//  (IDs are formatted on the hot path of every buy).
#define S_LIMB_BASE 656356768ULL  //  58^5
int
tly_base58_encode (const uint8_t *data, size_t size, char *out, size_t out_size)
{
    assert (size <= TLY_BASE58_INPUT_MAX);
    size_t zeros = 0;
    while (zeros < size && data [zeros] == 0)
        zeros++;
    uint32_t limbs [TLY_BASE58_INPUT_MAX * 138 / 500 + 2];  //  little-endian, base 58^5
    size_t limb_count = 0;
    size_t i = zeros;
    while (i < size) {
        //  Take up to three bytes: value = value * 256^k + chunk.
        unsigned take = size - i >= 3 ? 3 : (unsigned) (size - i);
        uint64_t chunk = 0;
        for (unsigned k = 0; k < take; k++)
            chunk = (chunk << 8) | data [i + k];
        i += take;
        uint64_t carry = chunk;
        for (size_t j = 0; j < limb_count; j++) {
            uint64_t x = ((uint64_t) limbs [j] << (8 * take)) + carry;
            limbs [j] = (uint32_t) (x % S_LIMB_BASE);
            carry = x / S_LIMB_BASE;
        }
        while (carry) {
            assert (limb_count < sizeof limbs / sizeof limbs [0]);
            limbs [limb_count++] = (uint32_t) (carry % S_LIMB_BASE);
            carry /= S_LIMB_BASE;
        }
    }
    //  Expand limbs to base-58 digits, least significant first.
    char digits [TLY_BASE58_INPUT_MAX * 138 / 100 + 8];
    size_t length = 0;
    for (size_t j = 0; j < limb_count; j++) {
        uint32_t limb = limbs [j];
        for (int k = 0; k < 5; k++) {
            digits [length++] = s_alphabet [limb % 58];
            limb /= 58;
        }
    }
    //  The top limb's leading zero digits are not part of the number.
    while (length > 0 && digits [length - 1] == '1')
        length--;
    if (zeros + length + 1 > out_size)
        return -1;
    size_t pos = 0;
    for (size_t j = 0; j < zeros; j++)
        out [pos++] = '1';
    for (size_t j = 0; j < length; j++)
        out [pos++] = digits [length - 1 - j];
    out [pos] = 0;
    return (int) pos;
}

//  Digit values by character, -1 for characters outside the alphabet.
static int8_t s_digit_of [256];
static pthread_once_t s_digit_table_once = PTHREAD_ONCE_INIT;

static void
s_digit_table_fill (void)
{
    for (int c = 0; c < 256; c++)
        s_digit_of [c] = -1;
    for (int digit = 0; digit < 58; digit++)
        s_digit_of [(unsigned char) s_alphabet [digit]] = (int8_t) digit;
}

//  Filled once, before any thread reads it. (Filled by whichever thread
//  came first, the table was briefly all -1 again when a second thread
//  started filling it, and a decode in a third then refused a valid ID:
//  chaos_fixed's client threads, making their senders at once, met it.)
static void
s_digit_table (void)
{
    int rc = pthread_once (&s_digit_table_once, s_digit_table_fill);
    assert (rc == 0);
}

//  Like the encoder, works in wide steps: five base-58 digits (58^5 < 2^30)
//  at a time into little-endian 32-bit limbs of base 2^32.
int
tly_base58_decode (const char *text, uint8_t *out, size_t out_size)
{
    s_digit_table ();
    size_t text_size = strlen (text);
    if (text_size == 0 || text_size > TLY_BASE58_CHARS (TLY_BASE58_INPUT_MAX))
        return -1;
    size_t zeros = 0;
    while (zeros < text_size && text [zeros] == '1')
        zeros++;
    uint32_t limbs [TLY_BASE58_INPUT_MAX / 4 + 4];
    size_t limb_count = 0;
    size_t i = zeros;
    while (i < text_size) {
        unsigned take = text_size - i >= 5 ? 5 : (unsigned) (text_size - i);
        uint64_t chunk = 0, scale = 1;
        for (unsigned k = 0; k < take; k++) {
            int digit = s_digit_of [(unsigned char) text [i + k]];
            if (digit < 0)
                return -1;
            chunk = chunk * 58 + (uint64_t) digit;
            scale *= 58;
        }
        i += take;
        uint64_t carry = chunk;
        for (size_t j = 0; j < limb_count; j++) {
            uint64_t x = (uint64_t) limbs [j] * scale + carry;
            limbs [j] = (uint32_t) x;
            carry = x >> 32;
        }
        while (carry) {
            if (limb_count == sizeof limbs / sizeof limbs [0])
                return -1;
            limbs [limb_count++] = (uint32_t) carry;
            carry >>= 32;
        }
    }
    //  Big-endian bytes of the number, without leading zero bytes.
    uint8_t bytes [sizeof limbs];
    size_t length = 0;
    for (size_t j = limb_count; j-- > 0;)
        for (int shift = 24; shift >= 0; shift -= 8) {
            uint8_t byte = (uint8_t) (limbs [j] >> shift);
            if (length == 0 && byte == 0)
                continue;
            bytes [length++] = byte;
        }
    if (zeros + length > out_size)
        return -1;
    memset (out, 0, zeros);
    memcpy (out + zeros, bytes, length);
    return (int) (zeros + length);
}

int
tly_base58_decode_prefixed (const char *text, size_t text_size, const char *prefix, uint8_t *out,
                            size_t size)
{
    assert (size <= TLY_BASE58_INPUT_MAX);
    size_t prefix_size = strlen (prefix);
    char body [TLY_BASE58_CHARS (TLY_BASE58_INPUT_MAX) + 1];
    if (text_size <= prefix_size || text_size - prefix_size >= sizeof body
        || memcmp (text, prefix, prefix_size) != 0)
        return -1;
    memcpy (body, text + prefix_size, text_size - prefix_size);
    body [text_size - prefix_size] = 0;
    uint8_t bytes [TLY_BASE58_INPUT_MAX];
    if (tly_base58_decode (body, bytes, sizeof bytes) != (int) size)
        return -1;
    memcpy (out, bytes, size);
    return 0;
}
