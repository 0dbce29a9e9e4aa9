//  fuzz_support - the test accounts and chunked inputs (see fuzz_support.h).
#include "fuzz_support.h"

#include <assert.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

//  Each account's keys come from BLAKE2b-256 of its label: the same keys in
//  every build, on every machine.
static const char *s_labels [FUZZ_ACCOUNTS] = { "tally fuzz worker", "tally fuzz client a",
                                                "tally fuzz client b", "tally fuzz client c",
                                                "tally fuzz client d" };
static tly_account_t s_accounts [FUZZ_ACCOUNTS];
static bool s_made = false;

static void
s_make (void)
{
    if (s_made)
        return;
    int rc = sodium_init ();
    assert (rc >= 0);
    for (int i = 0; i < FUZZ_ACCOUNTS; i++) {
        uint8_t seed [TLY_SEED_BYTES];
        crypto_generichash (seed, sizeof seed, (const uint8_t *) s_labels [i],
                            strlen (s_labels [i]), (const uint8_t *) "sign", 4);
        tly_account_t *account = &s_accounts [i];
        crypto_sign_seed_keypair (account->sign_pk, account->sign_sk, seed);
        crypto_generichash (account->box_sk, sizeof account->box_sk, (const uint8_t *) s_labels [i],
                            strlen (s_labels [i]), (const uint8_t *) "box", 3);
        crypto_scalarmult_base (account->box_pk, account->box_sk);
    }
    s_made = true;
}

const tly_account_t *
fuzz_account (fuzz_account_t which)
{
    assert (which >= 0 && which < FUZZ_ACCOUNTS);
    s_make ();
    return &s_accounts [which];
}

const tly_account_t *
fuzz_account_of (const uint8_t sign_pk [TLY_KEY_BYTES])
{
    s_make ();
    for (int i = 0; i < FUZZ_ACCOUNTS; i++)
        if (memcmp (s_accounts [i].sign_pk, sign_pk, TLY_KEY_BYTES) == 0)
            return &s_accounts [i];
    return NULL;
}

bool
fuzz_chunk_next (fuzz_input_t *input, fuzz_chunk_t *chunk)
{
    assert (input && chunk);
    if (input->end - input->at < 3)
        return false;
    chunk->tag = input->at [0];
    size_t size = (size_t) input->at [1] | (size_t) input->at [2] << 8;
    input->at += 3;
    size_t left = (size_t) (input->end - input->at);
    chunk->size = size < left ? size : left;
    chunk->data = input->at;
    input->at += chunk->size;
    return true;
}

int
fuzz_chunk_write (FILE *file, uint8_t tag, const uint8_t *data, size_t size)
{
    assert (file && size <= FUZZ_CHUNK_MAX);
    uint8_t head [3] = { tag, (uint8_t) size, (uint8_t) (size >> 8) };
    if (fwrite (head, 1, sizeof head, file) != sizeof head
        || (size && fwrite (data, 1, size, file) != size))
        return -1;
    return 0;
}

void
fuzz_set_bytes (ProtobufCBinaryData *field, const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc (size ? size : 1);
    assert (copy);
    if (size)
        memcpy (copy, data, size);
    free (field->data);
    field->data = copy;
    field->len = size;
}

void
fuzz_sign_into (ProtobufCBinaryData *field, tly_domain_t domain, const tly_account_t *account,
                const uint8_t *bytes, size_t size)
{
    uint8_t signature [TLY_SIGNATURE_BYTES];
    tly_sign_domain (domain, account->sign_sk, bytes, size, signature);
    fuzz_set_bytes (field, signature, sizeof signature);
}

uint8_t *
fuzz_pack (const ProtobufCMessage *message, size_t *size_p)
{
    size_t size = protobuf_c_message_get_packed_size (message);
    uint8_t *bytes = malloc (size ? size : 1);
    assert (bytes);
    size_t packed = protobuf_c_message_pack (message, bytes);
    assert (packed == size);
    *size_p = size;
    return bytes;
}

bool
fuzz_terminated (const char *text, size_t size)
{
    return memchr (text, 0, size) != NULL;
}
