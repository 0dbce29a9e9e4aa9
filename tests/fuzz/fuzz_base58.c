//  fuzz_base58 - libFuzzer target: tly_base58 (every ID and secret tally
//  reads is prefix + base58) against a plain digit-by-digit reference.
//
//  The input is used twice: as text to decode, and as bytes to encode.
//  - decode takes exactly the texts of alphabet characters (at most
//    TLY_BASE58_CHARS (TLY_BASE58_INPUT_MAX) of them) whose value fits
//    out_size bytes, and gives the reference's bytes; a smaller out_size
//    refuses exactly the texts whose bytes do not fit;
//  - base58 maps byte strings to texts one to one (leading '1's are leading
//    zero bytes), so encode (decode (text)) == text whenever decode accepts;
//  - encode (bytes) is the reference's text, fits TLY_BASE58_CHARS, refuses
//    an out_size one byte short, and decodes back to bytes;
//  - tly_base58_decode_prefixed agrees with decode behind its prefix.
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tly_base58.h"

static const char s_alphabet [] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
#define S_TEXT_MAX  TLY_BASE58_CHARS (TLY_BASE58_INPUT_MAX)
//  Room for any decode: every character a '1' is one zero byte.
#define S_BYTES_MAX (S_TEXT_MAX + 8)

//  The reference decoder: value = value * 58 + digit, on big-endian bytes.
//  Returns the byte count, or -1 for a character outside the alphabet.
static int
s_reference_decode (const char *text, size_t size, uint8_t *out)
{
    size_t zeros = 0;
    while (zeros < size && text [zeros] == '1')
        zeros++;
    uint8_t number [S_BYTES_MAX];  //  big-endian, right-aligned
    memset (number, 0, sizeof number);
    for (size_t i = zeros; i < size; i++) {
        const char *at = memchr (s_alphabet, text [i], 58);
        if (!at)
            return -1;
        unsigned carry = (unsigned) (at - s_alphabet);
        for (size_t j = sizeof number; j-- > 0;) {
            carry += 58u * number [j];
            number [j] = (uint8_t) carry;
            carry >>= 8;
        }
        assert (carry == 0);
    }
    size_t first = 0;
    while (first < sizeof number && number [first] == 0)
        first++;
    size_t length = sizeof number - first;
    memset (out, 0, zeros);
    memcpy (out + zeros, number + first, length);
    return (int) (zeros + length);
}

//  The reference encoder: repeated division by 58. Returns the length.
static size_t
s_reference_encode (const uint8_t *data, size_t size, char *out)
{
    size_t zeros = 0;
    while (zeros < size && data [zeros] == 0)
        zeros++;
    uint8_t number [TLY_BASE58_INPUT_MAX];
    size_t length = size - zeros;
    memcpy (number, data + zeros, length);
    char digits [S_TEXT_MAX];
    size_t count = 0;
    for (;;) {
        bool zero = true;
        unsigned remainder = 0;
        for (size_t j = 0; j < length; j++) {
            unsigned value = remainder * 256 + number [j];
            number [j] = (uint8_t) (value / 58);
            remainder = value % 58;
            zero = zero && number [j] == 0;
        }
        if (length == 0)
            break;
        assert (count < sizeof digits);
        digits [count++] = s_alphabet [remainder];
        if (zero)
            break;
    }
    memset (out, '1', zeros);
    for (size_t j = 0; j < count; j++)
        out [zeros + j] = digits [count - 1 - j];
    out [zeros + count] = 0;
    return zeros + count;
}

static void
s_decode (const uint8_t *data, size_t size)
{
    char text [S_TEXT_MAX + 2];
    size_t text_size = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy (text, data, text_size);
    text [text_size] = 0;
    size_t length = strlen (text);  //  the decoder reads up to the first NUL

    uint8_t decoded [S_BYTES_MAX], expected [S_BYTES_MAX];
    int got = tly_base58_decode (text, decoded, sizeof decoded);
    int want = length == 0 || length > S_TEXT_MAX ? -1
                                                  : s_reference_decode (text, length, expected);
    assert (got == want);
    if (got == -1)
        return;
    assert (memcmp (decoded, expected, (size_t) got) == 0);
    //  Too small a buffer refuses exactly what does not fit.
    uint8_t small [S_BYTES_MAX];
    for (size_t out_size = 0; out_size <= (size_t) got; out_size++)
        assert ((tly_base58_decode (text, small, out_size) == -1) == (out_size < (size_t) got));
    //  One to one: encoding what decode gave is the text again.
    if (got <= TLY_BASE58_INPUT_MAX) {
        char again [S_TEXT_MAX + 1];
        int encoded = tly_base58_encode (decoded, (size_t) got, again, sizeof again);
        assert (encoded == (int) length && strcmp (again, text) == 0);
        //  Behind a prefix, as account and object IDs are.
        char prefixed [sizeof TLY_ID_PREFIX + S_TEXT_MAX];
        size_t prefixed_size = (size_t) snprintf (prefixed, sizeof prefixed, "%s%s", TLY_ID_PREFIX,
                                                  text);
        uint8_t bytes [TLY_BASE58_INPUT_MAX];
        assert (
            tly_base58_decode_prefixed (prefixed, prefixed_size, TLY_ID_PREFIX, bytes, (size_t) got)
            == 0);
        assert (memcmp (bytes, decoded, (size_t) got) == 0);
        if (got > 0)
            assert (tly_base58_decode_prefixed (prefixed, prefixed_size, TLY_ID_PREFIX, bytes,
                                                (size_t) got - 1)
                    == -1);
        prefixed [0] ^= 0x20;  //  "Co_z" is not the prefix
        assert (
            tly_base58_decode_prefixed (prefixed, prefixed_size, TLY_ID_PREFIX, bytes, (size_t) got)
            == -1);
    }
}

static void
s_encode (const uint8_t *data, size_t size)
{
    if (size > TLY_BASE58_INPUT_MAX)
        size = TLY_BASE58_INPUT_MAX;
    char text [S_TEXT_MAX + 1], expected [S_TEXT_MAX + 1];
    int length = tly_base58_encode (data, size, text, sizeof text);
    size_t want = s_reference_encode (data, size, expected);
    assert (length == (int) want && strcmp (text, expected) == 0);
    assert ((size_t) length <= TLY_BASE58_CHARS (size));
    //  Exactly length + 1 bytes are needed: one fewer is refused.
    char tight [S_TEXT_MAX + 1];
    assert (tly_base58_encode (data, size, tight, (size_t) length + 1) == length);
    assert (tly_base58_encode (data, size, tight, (size_t) length) == -1);
    if (length == 0)
        return;  //  no bytes: the empty text, which decode refuses
    uint8_t decoded [S_BYTES_MAX];
    assert (tly_base58_decode (text, decoded, sizeof decoded) == (int) size);
    assert (memcmp (decoded, data, size) == 0);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_decode (data, size);
    s_encode (data, size);
    return 0;
}
