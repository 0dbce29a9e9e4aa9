//  tly_id - accounts, secrets, object IDs and partitions.
#include "tly_id.h"

#include <assert.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char s_alphabet [] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
static const char s_account_prefix [] = "co_z";
static const char s_sealer_prefix [] = "sealerSecret_z";
static const char s_signer_prefix [] = "signerSecret_z";
#define S_BASE58_INPUT_MAX 64   //  longest byte string tally encodes

//  Works in limbs of base 58^5 and feeds the input three bytes at a time:
//  each step is a multiply-add on 64 bits, about 30x fewer than digit by digit
//  (IDs are formatted on the hot path of every buy).
#define S_LIMB_BASE 656356768ULL            //  58^5
int
tly_base58_encode (const uint8_t *data, size_t size, char *out, size_t out_size)
{
    assert (size <= S_BASE58_INPUT_MAX);
    size_t zeros = 0;
    while (zeros < size && data [zeros] == 0)
        zeros++;
    uint32_t limbs [S_BASE58_INPUT_MAX * 138 / 500 + 2];     //  little-endian, base 58^5
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
    char digits [S_BASE58_INPUT_MAX * 138 / 100 + 8];
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
static bool s_digit_table_ready = false;

static void
s_digit_table (void)
{
    //  Idempotent; racing threads write the same values.
    if (__atomic_load_n (&s_digit_table_ready, __ATOMIC_ACQUIRE))
        return;
    for (int c = 0; c < 256; c++)
        s_digit_of [c] = -1;
    for (int digit = 0; digit < 58; digit++)
        s_digit_of [(unsigned char) s_alphabet [digit]] = (int8_t) digit;
    __atomic_store_n (&s_digit_table_ready, true, __ATOMIC_RELEASE);
}

//  Like the encoder, works in wide steps: five base-58 digits (58^5 < 2^30)
//  at a time into little-endian 32-bit limbs of base 2^32.
int
tly_base58_decode (const char *text, uint8_t *out, size_t out_size)
{
    s_digit_table ();
    size_t text_size = strlen (text);
    if (text_size == 0 || text_size > S_BASE58_INPUT_MAX * 138 / 100 + 1)
        return -1;
    size_t zeros = 0;
    while (zeros < text_size && text [zeros] == '1')
        zeros++;
    uint32_t limbs [S_BASE58_INPUT_MAX / 4 + 4];
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
    for (size_t j = limb_count; j-- > 0; )
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

//  Decodes prefix + base58 of exactly `size` bytes.
static int
s_decode_exact (const char *text, size_t text_size, const char *prefix,
                uint8_t *out, size_t size)
{
    size_t prefix_size = strlen (prefix);
    if (text_size <= prefix_size || text_size >= TLY_SECRET_MAX
    ||  memcmp (text, prefix, prefix_size) != 0)
        return -1;
    char body [TLY_SECRET_MAX];
    memcpy (body, text + prefix_size, text_size - prefix_size);
    body [text_size - prefix_size] = 0;
    uint8_t bytes [S_BASE58_INPUT_MAX];
    if (tly_base58_decode (body, bytes, sizeof bytes) != (int) size)
        return -1;
    memcpy (out, bytes, size);
    return 0;
}

int
tly_account_generate (tly_account_t *account)
{
    if (sodium_init () < 0)
        return -1;
    crypto_sign_keypair (account->sign_pk, account->sign_sk);
    crypto_box_keypair (account->box_pk, account->box_sk);
    return 0;
}

void
tly_account_id (const uint8_t sign_pk [TLY_KEY_BYTES], char *out)
{
    memcpy (out, s_account_prefix, sizeof s_account_prefix);
    int rc = tly_base58_encode (sign_pk, TLY_KEY_BYTES, out + strlen (s_account_prefix),
                                TLY_ID_MAX - strlen (s_account_prefix));
    assert (rc > 0);
}

void
tly_account_secret (const tly_account_t *account, char *out)
{
    char sealer [TLY_ID_MAX], signer [TLY_ID_MAX];
    int rc = tly_base58_encode (account->box_sk, TLY_KEY_BYTES, sealer, sizeof sealer);
    assert (rc > 0);
    rc = tly_base58_encode (account->sign_sk, 32, signer, sizeof signer);   //  the seed
    assert (rc > 0);
    snprintf (out, TLY_SECRET_MAX, "%s%s/%s%s", s_sealer_prefix, sealer, s_signer_prefix, signer);
}

int
tly_account_id_parse (const char *text, uint8_t sign_pk [TLY_KEY_BYTES])
{
    if (!text)
        return -1;
    uint8_t key [TLY_KEY_BYTES];
    if (s_decode_exact (text, strlen (text), s_account_prefix, key, sizeof key) == -1)
        return -1;
    //  A point that is not on the curve can never verify a signature.
    if (crypto_core_ed25519_is_valid_point (key) != 1)
        return -1;
    memcpy (sign_pk, key, sizeof key);
    return 0;
}

int
tly_account_parse (const char *account_id, const char *secret,
                   tly_account_t *account, char *error, size_t error_size)
{
    if (sodium_init () < 0) {
        snprintf (error, error_size, "libsodium failed to initialise");
        return -1;
    }
    const char *slash = secret ? strchr (secret, '/') : NULL;
    if (!slash) {
        snprintf (error, error_size, "expected sealerSecret_z.../signerSecret_z...");
        return -1;
    }
    uint8_t seed [32];
    tly_account_t parsed;
    if (s_decode_exact (secret, (size_t) (slash - secret), s_sealer_prefix,
                        parsed.box_sk, sizeof parsed.box_sk) == -1) {
        snprintf (error, error_size, "sealer part is not sealerSecret_z + base58 of 32 bytes");
        return -1;
    }
    if (s_decode_exact (slash + 1, strlen (slash + 1), s_signer_prefix, seed, sizeof seed) == -1) {
        snprintf (error, error_size, "signer part is not signerSecret_z + base58 of 32 bytes");
        return -1;
    }
    crypto_sign_seed_keypair (parsed.sign_pk, parsed.sign_sk, seed);
    crypto_scalarmult_base (parsed.box_pk, parsed.box_sk);
    sodium_memzero (seed, sizeof seed);
    if (account_id) {
        uint8_t expected [TLY_KEY_BYTES];
        if (tly_account_id_parse (account_id, expected) == -1) {
            snprintf (error, error_size, "account ID is not co_z + base58 of an Ed25519 key");
            return -1;
        }
        if (memcmp (expected, parsed.sign_pk, TLY_KEY_BYTES) != 0) {
            snprintf (error, error_size, "secret does not belong to account %s", account_id);
            return -1;
        }
    }
    *account = parsed;
    return 0;
}

int
tly_account_from_env (const char *id_var, const char *secret_var,
                      const char *id_value, const char *secret_value,
                      tly_account_t *account, char *error, size_t error_size)
{
    const char *id = id_value ? id_value : getenv (id_var);
    const char *secret = secret_value ? secret_value : getenv (secret_var);
    if (!id || !*id) {
        snprintf (error, error_size, "%s is not set (expected co_z...)", id_var);
        return -1;
    }
    if (!secret || !*secret) {
        snprintf (error, error_size, "%s is not set (expected sealerSecret_z.../signerSecret_z...)",
                  secret_var);
        return -1;
    }
    uint8_t key [TLY_KEY_BYTES];
    if (tly_account_id_parse (id, key) == -1) {
        snprintf (error, error_size, "%s is malformed: not co_z + base58 of an Ed25519 key", id_var);
        return -1;
    }
    char reason [128];
    if (tly_account_parse (id, secret, account, reason, sizeof reason) == -1) {
        snprintf (error, error_size, "%s is malformed: %s", secret_var, reason);
        return -1;
    }
    return 0;
}

//  Finds "key": "value" in a small flat JSON object; value has no escapes.
static int
s_json_string (const char *json, const char *key, char *out, size_t out_size)
{
    char quoted [32];
    snprintf (quoted, sizeof quoted, "\"%s\"", key);
    const char *at = strstr (json, quoted);
    if (!at)
        return -1;
    at += strlen (quoted);
    while (*at == ' ' || *at == '\t' || *at == '\n' || *at == '\r')
        at++;
    if (*at++ != ':')
        return -1;
    while (*at == ' ' || *at == '\t' || *at == '\n' || *at == '\r')
        at++;
    if (*at++ != '"')
        return -1;
    const char *end = strchr (at, '"');
    if (!end || (size_t) (end - at) >= out_size)
        return -1;
    memcpy (out, at, (size_t) (end - at));
    out [end - at] = 0;
    return 0;
}

int
tly_account_from_file (const char *path, tly_account_t *account, char *error, size_t error_size)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        snprintf (error, error_size, "cannot read account file %s: %s", path, strerror (errno));
        return -1;
    }
    char json [4096];
    size_t size = fread (json, 1, sizeof json - 1, file);
    fclose (file);
    json [size] = 0;
    char id [TLY_ID_MAX], secret [TLY_SECRET_MAX];
    if (s_json_string (json, "account", id, sizeof id) == -1
    ||  s_json_string (json, "secret", secret, sizeof secret) == -1) {
        snprintf (error, error_size, "account file %s: expected {\"account\":\"co_z...\",\"secret\":\"...\"}",
                  path);
        return -1;
    }
    char reason [128];
    if (tly_account_parse (id, secret, account, reason, sizeof reason) == -1) {
        snprintf (error, error_size, "account file %s: %s", path, reason);
        return -1;
    }
    return 0;
}

uint32_t
tly_partition_of_id (const char *account_id, uint32_t partition_count)
{
    assert (account_id);
    assert (partition_count > 0 && partition_count <= TLY_PARTITIONS_MAX);
    uint8_t hash [32];
    crypto_generichash (hash, sizeof hash, (const unsigned char *) account_id, strlen (account_id),
                        NULL, 0);
    uint64_t value = 0;
    for (int i = 7; i >= 0; i--)
        value = (value << 8) | hash [i];
    return (uint32_t) (value % partition_count);
}

uint32_t
tly_partition_of (const uint8_t sign_pk [TLY_KEY_BYTES], uint32_t partition_count)
{
    char id [TLY_ID_MAX];
    tly_account_id (sign_pk, id);
    return tly_partition_of_id (id, partition_count);
}

void
tly_object_id (tly_object_kind_t kind, uint32_t partition, const uint8_t tail [16], char *out)
{
    assert (kind >= TLY_OBJ_BALANCE && kind <= TLY_OBJ_SERVICE);
    assert (partition < TLY_PARTITIONS_MAX);
    uint8_t raw [19];
    raw [0] = (uint8_t) kind;
    raw [1] = (uint8_t) (partition >> 8);
    raw [2] = (uint8_t) partition;
    memcpy (raw + 3, tail, 16);
    memcpy (out, s_account_prefix, sizeof s_account_prefix);
    int rc = tly_base58_encode (raw, sizeof raw, out + strlen (s_account_prefix),
                                TLY_ID_MAX - strlen (s_account_prefix));
    assert (rc > 0);
}

int
tly_object_id_parse (const char *text, tly_object_kind_t *kind, uint32_t *partition,
                     uint8_t tail [16])
{
    uint8_t raw [19];
    if (!text || s_decode_exact (text, strlen (text), s_account_prefix, raw, sizeof raw) == -1)
        return -1;
    if (raw [0] < TLY_OBJ_BALANCE || raw [0] > TLY_OBJ_SERVICE)
        return -1;
    if (kind)
        *kind = (tly_object_kind_t) raw [0];
    if (partition)
        *partition = (uint32_t) raw [1] << 8 | raw [2];
    if (tail)
        memcpy (tail, raw + 3, 16);
    return 0;
}

void
tly_derived_key (tly_object_kind_t kind, uint32_t partition, const char *label,
                 const uint8_t key_of [TLY_KEY_BYTES], const uint8_t *extra,
                 uint8_t out [TLY_OBJECT_KEY_BYTES])
{
    assert (kind >= TLY_OBJ_BALANCE && kind <= TLY_OBJ_SERVICE);
    assert (partition < TLY_PARTITIONS_MAX && label && key_of && out);
    crypto_generichash_state state;
    uint8_t hash [32];
    crypto_generichash_init (&state, NULL, 0, sizeof hash);
    crypto_generichash_update (&state, (const unsigned char *) label, strlen (label));
    crypto_generichash_update (&state, key_of, TLY_KEY_BYTES);
    if (extra)
        crypto_generichash_update (&state, extra, TLY_MESSAGE_ID_BYTES);
    crypto_generichash_final (&state, hash, sizeof hash);
    out [0] = (uint8_t) kind;
    out [1] = (uint8_t) (partition >> 8);
    out [2] = (uint8_t) partition;
    memcpy (out + 3, hash, TLY_OBJECT_KEY_BYTES - 3);
}

void
tly_object_id_of_key (const uint8_t key [TLY_OBJECT_KEY_BYTES], char *out)
{
    tly_object_id ((tly_object_kind_t) key [0], (uint32_t) key [1] << 8 | key [2], key + 3, out);
}

void
tly_user_object_id (tly_object_kind_t kind, const uint8_t user [TLY_KEY_BYTES],
                    uint32_t partition_count, char *out)
{
    const char *label = kind == TLY_OBJ_BALANCE ? TLY_LABEL_BALANCE
                      : kind == TLY_OBJ_ROOT ? TLY_LABEL_ROOT
                      : kind == TLY_OBJ_PURCHASE_LOG ? TLY_LABEL_PURCHASES
                      : kind == TLY_OBJ_GROUP ? TLY_LABEL_GROUP : NULL;
    assert (label);
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    tly_derived_key (kind, tly_partition_of (user, partition_count), label, user, NULL, key);
    tly_object_id_of_key (key, out);
}

void
tly_service_object_id (const uint8_t worker [TLY_KEY_BYTES], char *out)
{
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    tly_derived_key (TLY_OBJ_SERVICE, 0, TLY_LABEL_SERVICE, worker, NULL, key);
    tly_object_id_of_key (key, out);
}
