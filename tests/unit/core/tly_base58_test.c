//  tly_base58_test - known vectors, leading zeros and round trips of every length.
#include "tly_base58.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

void
tly_base58_test (bool verbose)
{
    if (verbose)
        printf (" * tly_base58: ");
    assert (sodium_init () >= 0);

    //  Base58 known vectors (Bitcoin alphabet), leading zeros and round trips.
    char text [128];
    uint8_t bytes [64];
    assert (tly_base58_encode ((const uint8_t *) "hello world", 11, text, sizeof text) == 15);
    assert (strcmp (text, "StV1DL6CwTryKyV") == 0);
    assert (tly_base58_decode ("StV1DL6CwTryKyV", bytes, sizeof bytes) == 11);
    assert (memcmp (bytes, "hello world", 11) == 0);
    assert (tly_base58_decode ("7YXq9G", bytes, sizeof bytes) == 4);
    assert (bytes [0] == 0xff && bytes [3] == 0xff);
    const uint8_t zeros [] = { 0, 0, 1 };
    tly_base58_encode (zeros, 3, text, sizeof text);
    assert (strcmp (text, "112") == 0);
    assert (tly_base58_decode ("112", bytes, sizeof bytes) == 3);
    assert (memcmp (bytes, zeros, 3) == 0);
    assert (tly_base58_decode ("0OIl", bytes, sizeof bytes) == -1);
    assert (tly_base58_decode ("", bytes, sizeof bytes) == -1);
    assert (tly_base58_encode ((const uint8_t *) "hello world", 11, text, 10) == -1);
    //  Every length with leading and inner zeros round-trips.
    for (size_t length = 1; length <= 64; length++) {
        uint8_t data [64];
        randombytes_buf (data, length);
        data [0] = length % 4 == 0 ? 0 : data [0];
        data [length / 2] = 0;
        assert (tly_base58_encode (data, length, text, sizeof text) > 0);
        assert (tly_base58_decode (text, bytes, sizeof bytes) == (int) length);
        assert (memcmp (bytes, data, length) == 0);
    }
    const uint8_t all_zero [4] = { 0 };
    assert (tly_base58_encode (all_zero, 4, text, sizeof text) == 4 && strcmp (text, "1111") == 0);
    const uint8_t big [4] = { 0xff, 0xff, 0xff, 0xff };
    tly_base58_encode (big, 4, text, sizeof text);
    assert (strcmp (text, "7YXq9G") == 0);
    for (int round = 0; round < 200; round++) {
        uint8_t data [32];
        randombytes_buf (data, sizeof data);
        data [0] = round % 3 == 0 ? 0 : data [0];
        tly_base58_encode (data, sizeof data, text, sizeof text);
        assert (tly_base58_decode (text, bytes, sizeof bytes) == 32);
        assert (memcmp (bytes, data, 32) == 0);
    }

    //  Prefixed text decodes only to exactly the size asked for.
    uint8_t key [4];
    assert (tly_base58_decode_prefixed ("co_z7YXq9G", 10, "co_z", key, sizeof key) == 0);
    assert (key [0] == 0xff && key [3] == 0xff);
    assert (tly_base58_decode_prefixed ("co_z7YXq9G", 10, "co_x", key, sizeof key) == -1);
    assert (tly_base58_decode_prefixed ("co_z7YXq9G", 10, "co_z", key, 3) == -1);
    assert (tly_base58_decode_prefixed ("co_z7YXq9G", 4, "co_z", key, sizeof key) == -1);
    if (verbose)
        printf ("OK\n");
}
