//  sdk_vectors - the shared test vectors of tally's clients: what the C SDK
//  makes from fixed inputs (seeds, timestamps, message IDs, request IDs),
//  written as JSON (tests/vectors/sdk.json). The TypeScript client's test
//  (clients/ts/test/vectors.test.ts) makes the same values from the same
//  inputs and must get the same bytes; this program's check mode proves that
//  the C SDK still makes the file's values.
//
//  Usage: sdk_vectors                 print the vectors
//         sdk_vectors --check FILE    exit 0 when FILE holds exactly them
//
//  Every value comes from the SDK and lib/ themselves (the codec libtally's
//  sender seals with, tly_account, tly_object_id, tly_partition, tly_sign):
//  nothing here re-implements a rule.
#include <assert.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally.h"
#include "tly_codec.h"
#include "tly_message_id.h"
#include "tly_object.h"
#include "tly_sign.h"

//  The partition counts each account's IDs are given for.
static const uint32_t s_counts [] = { 256, 16, 7 };
#define S_COUNTS (sizeof s_counts / sizeof s_counts [0])

//  One account of the vectors: its keys from fixed bytes (test keys only).
typedef struct {
    const char *name;
    uint8_t seed_first;    //  the Ed25519 seed is first, first + 1, ...
    uint8_t sealer_first;  //  the X25519 secret likewise
    tly_account_t account;
    char id [TLY_ID_MAX];
} s_account_t;

static s_account_t s_accounts [] = {
    { .name = "alice", .seed_first = 0x01, .sealer_first = 0x41 },
    { .name = "bob", .seed_first = 0xa0, .sealer_first = 0x10 },
    { .name = "worker", .seed_first = 0x00, .sealer_first = 0xff },
};
#define S_ALICE  (&s_accounts [0])
#define S_BOB    (&s_accounts [1])
#define S_WORKER (&s_accounts [2])

static void
s_hex (FILE *out, const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < size; i++)
        fprintf (out, "%02x", data [i]);
}

static void
s_fill (uint8_t *out, size_t size, uint8_t first)
{
    for (size_t i = 0; i < size; i++)
        out [i] = (uint8_t) (first + i);
}

//  The account of fixed keys, through the secret text the CLI writes.
static void
s_account_make (s_account_t *self)
{
    uint8_t seed [TLY_SEED_BYTES], sealer [TLY_KEY_BYTES];
    s_fill (seed, sizeof seed, self->seed_first);
    s_fill (sealer, sizeof sealer, self->sealer_first);
    char seed_text [TLY_ID_MAX], sealer_text [TLY_ID_MAX];
    int rc = tly_base58_encode (seed, sizeof seed, seed_text, sizeof seed_text);
    assert (rc > 0);
    rc = tly_base58_encode (sealer, sizeof sealer, sealer_text, sizeof sealer_text);
    assert (rc > 0);
    char secret [TLY_SECRET_MAX], error [128];
    snprintf (secret, sizeof secret, "%s%s/%s%s", TLY_SEALER_PREFIX, sealer_text, TLY_SIGNER_PREFIX,
              seed_text);
    rc = tly_account_parse (NULL, secret, &self->account, error, sizeof error);
    assert (rc == 0);
    tly_account_id (self->account.sign_pk, self->id);
}

static void
s_print_account (FILE *out, const s_account_t *self, bool last)
{
    uint8_t seed [TLY_SEED_BYTES], sealer [TLY_KEY_BYTES];
    s_fill (seed, sizeof seed, self->seed_first);
    s_fill (sealer, sizeof sealer, self->sealer_first);
    char secret [TLY_SECRET_MAX];
    tly_account_secret (&self->account, secret);
    fprintf (out, "    {\n      \"name\": \"%s\",\n      \"seed_hex\": \"", self->name);
    s_hex (out, seed, sizeof seed);
    fprintf (out, "\",\n      \"sealer_secret_hex\": \"");
    s_hex (out, sealer, sizeof sealer);
    fprintf (out, "\",\n      \"account\": \"%s\",\n      \"secret\": \"%s\",\n", self->id, secret);
    fprintf (out, "      \"public_key_hex\": \"");
    s_hex (out, self->account.sign_pk, TLY_KEY_BYTES);
    fprintf (out, "\",\n      \"sealer_public_hex\": \"");
    s_hex (out, self->account.box_pk, TLY_KEY_BYTES);
    fprintf (out, "\",\n");
    char service [TLY_ID_MAX], catalog [TLY_ID_MAX];
    tly_service_id (self->account.sign_pk, service);
    tly_catalog_id (self->account.sign_pk, catalog);
    fprintf (out, "      \"service_id\": \"%s\",\n      \"catalog_id\": \"%s\",\n", service,
             catalog);
    fprintf (out, "      \"by_partition_count\": [\n");
    for (size_t i = 0; i < S_COUNTS; i++) {
        char balance [TLY_ID_MAX], root [TLY_ID_MAX], purchases [TLY_ID_MAX];
        tly_balance_id (self->account.sign_pk, s_counts [i], balance);
        tly_root_id (self->account.sign_pk, s_counts [i], root);
        tly_purchases_id (self->account.sign_pk, s_counts [i], purchases);
        fprintf (out,
                 "        {\"partition_count\": %" PRIu32 ", \"partition\": %" PRIu32
                 ", \"balance_id\": \"%s\", \"root_id\": \"%s\", \"purchases_id\": \"%s\"}%s\n",
                 s_counts [i], tly_partition_of (self->account.sign_pk, s_counts [i]), balance,
                 root, purchases, i + 1 < S_COUNTS ? "," : "");
    }
    fprintf (out, "      ]\n    }%s\n", last ? "" : ",");
}

//  A message ID of time_ms whose random part is first, first + 1, ...
static void
s_message_id (uint8_t id [TLY_MESSAGE_ID_BYTES], int64_t time_ms, uint8_t first)
{
    s_fill (id + TLY_MESSAGE_ID_TIME_BYTES, TLY_MESSAGE_ID_BYTES - TLY_MESSAGE_ID_TIME_BYTES,
            first);
    tly_message_id_stamp (id, time_ms);
}

static void
s_print_message_ids (FILE *out)
{
    const int64_t times [] = {
        1767225600000, 0, -5, 1, TLY_MESSAGE_ID_TIME_MAX, TLY_MESSAGE_ID_TIME_MAX + 1
    };
    const size_t count = sizeof times / sizeof times [0];
    fprintf (out, "  \"message_ids\": [\n");
    for (size_t i = 0; i < count; i++) {
        uint8_t id [TLY_MESSAGE_ID_BYTES];
        s_message_id (id, times [i], (uint8_t) (0x30 + i));
        fprintf (out, "    {\"time_ms\": %" PRId64 ", \"random_hex\": \"", times [i]);
        s_hex (out, id + TLY_MESSAGE_ID_TIME_BYTES,
               TLY_MESSAGE_ID_BYTES - TLY_MESSAGE_ID_TIME_BYTES);
        fprintf (out, "\", \"id_hex\": \"");
        s_hex (out, id, sizeof id);
        fprintf (out, "\", \"id_time_ms\": %" PRId64 "}%s\n", tly_message_id_time (id),
                 i + 1 < count ? "," : "");
    }
    fprintf (out, "  ],\n");
}

static void
s_print_purchase_ids (FILE *out)
{
    fprintf (out, "  \"purchase_ids\": [\n");
    const s_account_t *users [] = { S_ALICE, S_BOB };
    for (size_t i = 0; i < 2; i++)
        for (size_t j = 0; j < S_COUNTS; j++) {
            uint8_t id [TLY_MESSAGE_ID_BYTES], key [TLY_OBJECT_KEY_BYTES];
            s_message_id (id, 1767225600123 + (int64_t) j, (uint8_t) (0x70 + i));
            tly_purchase_key (tly_partition_of (users [i]->account.sign_pk, s_counts [j]),
                              users [i]->account.sign_pk, id, key);
            char purchase [TLY_ID_MAX];
            tly_object_id_of_key (key, purchase);
            fprintf (out, "    {\"account\": \"%s\", \"message_id_hex\": \"", users [i]->id);
            s_hex (out, id, sizeof id);
            fprintf (out, "\", \"partition_count\": %" PRIu32 ", \"purchase_id\": \"%s\"}%s\n",
                     s_counts [j], purchase, i == 1 && j + 1 == S_COUNTS ? "" : ",");
        }
    fprintf (out, "  ],\n");
}

//  A reference of the largest size: 128 bytes.
#define S_REFERENCE_128                                                        \
    "ref-128-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" \
    "0123456789abcdef0123456789abcdef0123456789abcdef01234567"

//  The references the adjustment IDs are given for: ASCII, UTF-8, one byte,
//  the largest.
static const char *s_references [] = { "pay-1",
                                       "r\xc3\xa9"
                                       "f-\xe2\x82\xac-\xf0\x9f\x8d\xb0",
                                       "x", S_REFERENCE_128 };
#define S_REFERENCES (sizeof s_references / sizeof s_references [0])

static void
s_print_adjustment_ids (FILE *out)
{
    assert (strlen (S_REFERENCE_128) == TLY_REFERENCE_MAX);
    fprintf (out, "  \"adjustment_ids\": [\n");
    const s_account_t *users [] = { S_ALICE, S_BOB };
    for (size_t i = 0; i < 2; i++)
        for (size_t j = 0; j < S_COUNTS; j++)
            for (size_t k = 0; k < S_REFERENCES; k++) {
                uint8_t key [TLY_OBJECT_KEY_BYTES];
                tly_adjustment_key (tly_partition_of (users [i]->account.sign_pk, s_counts [j]),
                                    users [i]->account.sign_pk, s_references [k], key);
                char adjustment [TLY_ID_MAX];
                tly_object_id_of_key (key, adjustment);
                fprintf (out,
                         "    {\"account\": \"%s\", \"reference\": \"%s\", \"partition_count\": "
                         "%" PRIu32 ", \"adjustment_id\": \"%s\"}%s\n",
                         users [i]->id, s_references [k], s_counts [j], adjustment,
                         i == 1 && j + 1 == S_COUNTS && k + 1 == S_REFERENCES ? "" : ",");
            }
    fprintf (out, "  ],\n");
}

//  One envelope of the vectors: its messages are made here, with IDs of
//  fixed time and random part.
typedef struct {
    const char *name;
    const s_account_t *sender;
    int64_t timestamp_ms;
    uint64_t request_id;
    size_t count;
    tly_msg_t msgs [4];
} s_envelope_t;

static void
s_msg_create (tly_msg_t *msg, int64_t initial, int64_t time_ms, uint8_t first)
{
    memset (msg, 0, sizeof *msg);
    msg->kind = TLY_MSG_CREATE_ACCOUNT;
    msg->initial_balance = initial;
    s_message_id (msg->id, time_ms, first);
}

static void
s_msg_buy (tly_msg_t *msg, const char *item, int64_t amount, int64_t time_ms, uint8_t first)
{
    memset (msg, 0, sizeof *msg);
    msg->kind = TLY_MSG_BUY;
    assert (strlen (item) <= TLY_MSG_ITEM_CAP);
    strcpy (msg->item_id, item);
    msg->amount = amount;
    s_message_id (msg->id, time_ms, first);
}

//  A credit or debit through the SDK's own constructor (which checks it as
//  the TypeScript client must), then given its fixed ID.
static void
s_msg_adjust (tly_msg_t *msg, tly_msg_kind_t kind, const s_account_t *user, int64_t amount,
              const char *reference, const char *note, int64_t time_ms, uint8_t first)
{
    tly_error_t error;
    int rc = kind == TLY_MSG_CREDIT
                 ? tly_msg_credit (msg, user->id, amount, reference, note, &error)
                 : tly_msg_debit (msg, user->id, amount, reference, note, &error);
    assert (rc == 0);
    s_message_id (msg->id, time_ms, first);
}

//  A configuration message through the SDK's own constructor, then given
//  its fixed ID.
static void
s_msg_admin (tly_msg_t *msg, tly_msg_kind_t kind, const s_account_t *account, int64_t time_ms,
             uint8_t first)
{
    int rc = kind == TLY_MSG_ADD_ADMIN ? tly_msg_add_admin (msg, account->id, NULL)
                                       : tly_msg_remove_admin (msg, account->id, NULL);
    assert (rc == 0);
    s_message_id (msg->id, time_ms, first);
}

static void
s_msg_price (tly_msg_t *msg, const char *item, int64_t price, bool active, int64_t time_ms,
             uint8_t first)
{
    int rc = tly_msg_set_price (msg, item, price, active, NULL);
    assert (rc == 0);
    s_message_id (msg->id, time_ms, first);
}

//  alice's purchase made by the message of time_ms and random part first,
//  in a cluster of TLY_PARTITIONS_DEFAULT partitions: its ID into id.
static void
s_alice_purchase (int64_t time_ms, uint8_t first, char *id)
{
    uint8_t message_id [TLY_MESSAGE_ID_BYTES], key [TLY_OBJECT_KEY_BYTES];
    s_message_id (message_id, time_ms, first);
    tly_purchase_key (tly_partition_of (S_ALICE->account.sign_pk, TLY_PARTITIONS_DEFAULT),
                      S_ALICE->account.sign_pk, message_id, key);
    tly_object_id_of_key (key, id);
}

//  A refund through the SDK's own constructor, then given its fixed ID.
static void
s_msg_refund (tly_msg_t *msg, const char *purchase_id, const char *reason, int64_t time_ms,
              uint8_t first)
{
    tly_error_t error;
    int rc = tly_msg_refund (msg, purchase_id, reason, &error);
    assert (rc == 0);
    s_message_id (msg->id, time_ms, first);
}

static void
s_print_msg (FILE *out, const tly_msg_t *msg, bool last)
{
    fprintf (out, "        {\"id_hex\": \"");
    s_hex (out, msg->id, TLY_MESSAGE_ID_BYTES);
    if (msg->kind == TLY_MSG_CREATE_ACCOUNT)
        fprintf (out, "\", \"type\": \"createAccount\", \"initial_balance\": \"%" PRId64 "\"}",
                 msg->initial_balance);
    else if (msg->kind == TLY_MSG_BUY)
        fprintf (out, "\", \"type\": \"buy\", \"item_id\": \"%s\", \"amount\": \"%" PRId64 "\"}",
                 msg->item_id, msg->amount);
    else if (msg->kind == TLY_MSG_ADD_ADMIN || msg->kind == TLY_MSG_REMOVE_ADMIN) {
        char account [TLY_ID_MAX];
        tly_account_id (msg->user, account);
        fprintf (out, "\", \"type\": \"%s\", \"account\": \"%s\"}",
                 msg->kind == TLY_MSG_ADD_ADMIN ? "addAdmin" : "removeAdmin", account);
    } else if (msg->kind == TLY_MSG_SET_PRICE)
        fprintf (out,
                 "\", \"type\": \"setPrice\", \"item_id\": \"%s\", \"price\": \"%" PRId64
                 "\", \"active\": %s}",
                 msg->item_id, msg->price, msg->active ? "true" : "false");
    else if (msg->kind == TLY_MSG_REFUND)
        fprintf (out, "\", \"type\": \"refund\", \"purchase_id\": \"%s\", \"reason\": \"%s\"}",
                 msg->purchase_id, msg->note);
    else {
        char user [TLY_ID_MAX];
        tly_account_id (msg->user, user);
        fprintf (out,
                 "\", \"type\": \"%s\", \"user\": \"%s\", \"amount\": \"%" PRId64
                 "\", \"reference\": \"%s\", \"note\": \"%s\"}",
                 msg->kind == TLY_MSG_CREDIT ? "credit" : "debit", user, msg->amount,
                 msg->reference, msg->note);
    }
    fprintf (out, "%s\n", last ? "" : ",");
}

static void
s_print_envelope (FILE *out, const s_envelope_t *self, bool last)
{
    uint8_t *sealed;
    size_t sealed_size;
    int rc = tly_codec_seal (&self->sender->account, S_WORKER->account.sign_pk, self->msgs,
                             self->count, self->timestamp_ms, &sealed, &sealed_size);
    assert (rc == 0);
    Tally__SignedEnvelope *parts = tally__signed_envelope__unpack (NULL, sealed_size, sealed);
    assert (parts);
    assert (tly_verify_envelope (self->sender->account.sign_pk, parts->envelope.data,
                                 parts->envelope.len, parts->signature.data, parts->signature.len));
    size_t request_size;
    uint8_t *request = tly_codec_wrap_send (self->request_id, sealed, sealed_size, &request_size);

    fprintf (out, "    {\n      \"name\": \"%s\",\n      \"sender\": \"%s\",\n", self->name,
             self->sender->id);
    fprintf (out, "      \"inbox\": \"%s\",\n      \"timestamp_ms\": \"%" PRId64 "\",\n",
             S_WORKER->id, self->timestamp_ms);
    fprintf (out, "      \"request_id\": \"%" PRIu64 "\",\n      \"messages\": [\n",
             self->request_id);
    for (size_t i = 0; i < self->count; i++)
        s_print_msg (out, &self->msgs [i], i + 1 == self->count);
    fprintf (out, "      ],\n      \"envelope_hex\": \"");
    s_hex (out, parts->envelope.data, parts->envelope.len);
    fprintf (out, "\",\n      \"signature_hex\": \"");
    s_hex (out, parts->signature.data, parts->signature.len);
    fprintf (out, "\",\n      \"signed_envelope_hex\": \"");
    s_hex (out, sealed, sealed_size);
    fprintf (out, "\",\n      \"request_hex\": \"");
    s_hex (out, request, request_size);
    fprintf (out, "\"\n    }%s\n", last ? "" : ",");
    free (request);
    tally__signed_envelope__free_unpacked (parts, NULL);
    free (sealed);
}

static void
s_print_envelopes (FILE *out)
{
    const int64_t now = 1767225600000;
    s_envelope_t envelopes [9] = {
        { .name = "createAccount",
          .sender = S_ALICE,
          .timestamp_ms = now,
          .request_id = 1,
          .count = 1 },
        { .name = "buy",
          .sender = S_ALICE,
          .timestamp_ms = now + 1000,
          .request_id = 2,
          .count = 1 },
        { .name = "batch",
          .sender = S_BOB,
          .timestamp_ms = now + 2000,
          .request_id = UINT64_MAX,
          .count = 4 },
        { .name = "zero values",
          .sender = S_BOB,
          .timestamp_ms = 0,
          .request_id = 300,
          .count = 2 },
        { .name = "credit and debit",
          .sender = S_WORKER,
          .timestamp_ms = now + 3000,
          .request_id = 400,
          .count = 4 },
        { .name = "largest reference and note",
          .sender = S_WORKER,
          .timestamp_ms = now + 4000,
          .request_id = 401,
          .count = 1 },
        { .name = "admins and prices",
          .sender = S_WORKER,
          .timestamp_ms = now + 5000,
          .request_id = 500,
          .count = 4 },
        { .name = "buy at the catalog price",
          .sender = S_ALICE,
          .timestamp_ms = now + 6000,
          .request_id = 501,
          .count = 1 },
        { .name = "refunds",
          .sender = S_WORKER,
          .timestamp_ms = now + 7000,
          .request_id = 600,
          .count = 2 },
    };
    s_msg_create (&envelopes [0].msgs [0], 100, now - 3, 0x11);
    s_msg_buy (&envelopes [1].msgs [0], "item-123", 25, now + 999, 0x22);
    s_msg_create (&envelopes [2].msgs [0], 0, now + 1990, 0x33);
    s_msg_buy (&envelopes [2].msgs [1], "caf\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x8d\xb0", 1, now + 1991,
               0x44);
    s_msg_buy (&envelopes [2].msgs [2], "negative", -1, now + 1992, 0x55);
    s_msg_buy (&envelopes [2].msgs [3], "largest", INT64_MAX, now + 1993, 0x66);
    s_msg_create (&envelopes [3].msgs [0], INT64_MIN, 0, 0x00);
    s_msg_buy (&envelopes [3].msgs [1], "", 0, 0, 0x00);
    //  The worker's credits and debits: ASCII, the largest amount (2^53 - 1)
    //  with a UTF-8 reference and note, no note, and a user of another
    //  partition (the gateway refuses such an envelope: here only its bytes)
    s_msg_adjust (&envelopes [4].msgs [0], TLY_MSG_CREDIT, S_ALICE, 500, "pay-1", "Welcome bonus",
                  now + 2990, 0x77);
    s_msg_adjust (&envelopes [4].msgs [1], TLY_MSG_CREDIT, S_ALICE, TLY_BALANCE_MAX,
                  "r\xc3\xa9"
                  "f-\xe2\x82\xac-\xf0\x9f\x8d\xb0",
                  "caf\xc3\xa9 \xe2\x98\x95 d\xc3\xa9j\xc3\xa0 vu", now + 2991, 0x88);
    s_msg_adjust (&envelopes [4].msgs [2], TLY_MSG_DEBIT, S_ALICE, 30, "refund-7", NULL, now + 2992,
                  0x99);
    s_msg_adjust (&envelopes [4].msgs [3], TLY_MSG_DEBIT, S_BOB, 1, "x", "", now + 2993, 0xaa);
    char note [TLY_NOTE_MAX + 1];
    memset (note, 'n', TLY_NOTE_MAX);
    note [TLY_NOTE_MAX] = 0;
    s_msg_adjust (&envelopes [5].msgs [0], TLY_MSG_CREDIT, S_BOB, 1, S_REFERENCE_128, note,
                  now + 3990, 0xbb);
    //  The worker's configuration messages: bob made an admin, a price on
    //  sale, the largest price (2^53 - 1) off sale for a UTF-8 item, bob
    //  removed; and alice's buy without an amount (0: the catalog price).
    s_msg_admin (&envelopes [6].msgs [0], TLY_MSG_ADD_ADMIN, S_BOB, now + 4990, 0xc1);
    s_msg_price (&envelopes [6].msgs [1], "item-123", 25, true, now + 4991, 0xc2);
    s_msg_price (&envelopes [6].msgs [2], "caf\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x8d\xb0",
                 TLY_BALANCE_MAX, false, now + 4992, 0xc3);
    s_msg_admin (&envelopes [6].msgs [3], TLY_MSG_REMOVE_ADMIN, S_BOB, now + 4993, 0xc4);
    int rc = tly_msg_buy (&envelopes [7].msgs [0], "item-123", 0);
    assert (rc == 0);
    s_message_id (envelopes [7].msgs [0].id, now + 5990, 0xc5);
    //  The worker's refunds of alice's two buys (one partition): with a
    //  UTF-8 reason, and with none.
    char bought [2][TLY_ID_MAX];
    s_alice_purchase (now + 999, 0x22, bought [0]);
    s_alice_purchase (now + 5990, 0xc5, bought [1]);
    s_msg_refund (&envelopes [8].msgs [0], bought [0],
                  "Not delivered \xe2\x80\x94 caf\xc3\xa9 froid", now + 6990, 0xd1);
    s_msg_refund (&envelopes [8].msgs [1], bought [1], NULL, now + 6991, 0xd2);
    const size_t count = sizeof envelopes / sizeof envelopes [0];
    fprintf (out, "  \"envelopes\": [\n");
    for (size_t i = 0; i < count; i++)
        s_print_envelope (out, &envelopes [i], i + 1 == count);
    fprintf (out, "  ],\n");
}

static void
s_print_subscribes (FILE *out)
{
    char balance [TLY_ID_MAX], service [TLY_ID_MAX];
    tly_balance_id (S_ALICE->account.sign_pk, TLY_PARTITIONS_DEFAULT, balance);
    tly_service_id (S_WORKER->account.sign_pk, service);
    const struct {
        const s_account_t *reader;
        const char *object_id;
        uint64_t request_id;
        int64_t timestamp_ms;
    } subscribes [] = {
        { S_ALICE, balance, 7, 1767225605000 },
        { S_BOB, service, 12345678901234567890ULL, 1767225606000 },
    };
    const size_t count = sizeof subscribes / sizeof subscribes [0];
    fprintf (out, "  \"subscribes\": [\n");
    for (size_t i = 0; i < count; i++) {
        size_t size;
        uint8_t *request = tly_codec_subscribe (&subscribes [i].reader->account,
                                                subscribes [i].request_id, subscribes [i].object_id,
                                                subscribes [i].timestamp_ms, &size);
        fprintf (out,
                 "    {\"reader\": \"%s\", \"object_id\": \"%s\", \"request_id\": \"%" PRIu64
                 "\", \"timestamp_ms\": \"%" PRId64 "\",\n     \"request_hex\": \"",
                 subscribes [i].reader->id, subscribes [i].object_id, subscribes [i].request_id,
                 subscribes [i].timestamp_ms);
        s_hex (out, request, size);
        fprintf (out, "\"}%s\n", i + 1 < count ? "," : "");
        free (request);
    }
    fprintf (out, "  ],\n");
}

//  The worker's signature over state, checked by the C SDK's own decoding
//  (tly_object_decode), which must take it as expected_id; then its bytes
//  and the signature, ending the object's JSON.
static void
s_print_signed (FILE *out, const Tally__ObjectState *state, const char *expected_id, bool last)
{
    size_t size = tally__object_state__get_packed_size (state);
    uint8_t *bytes = malloc (size);
    assert (bytes);
    tally__object_state__pack (state, bytes);
    uint8_t signature [TLY_SIGNATURE_BYTES];
    tly_sign_domain (TLY_DOMAIN_OBJECT, S_WORKER->account.sign_sk, bytes, size, signature);

    Tally__SignedObject signed_object = TALLY__SIGNED_OBJECT__INIT;
    signed_object.state.data = bytes;
    signed_object.state.len = size;
    signed_object.signature.data = signature;
    signed_object.signature.len = sizeof signature;
    tly_object_t object;
    tly_error_t error;
    int rc = tly_object_decode (&signed_object, S_WORKER->account.sign_pk, expected_id, &object,
                                &error);
    assert (rc == 0 && object.version == state->version);
    tly_object_clear (&object);

    fprintf (out, "     \"state_hex\": \"");
    s_hex (out, bytes, size);
    fprintf (out, "\",\n     \"signature_hex\": \"");
    s_hex (out, signature, sizeof signature);
    fprintf (out, "\"}%s\n", last ? "" : ",");
    free (bytes);
}

//  A user's group of the worker as owner and the user as reader.
static void
s_print_group (FILE *out, const char *label, const s_account_t *user, Tally__Group *group,
               Tally__GroupMember *member, char *group_id)
{
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    tly_derived_key (TLY_OBJ_GROUP,
                     tly_partition_of (user->account.sign_pk, TLY_PARTITIONS_DEFAULT), label,
                     user->account.sign_pk, NULL, key);
    tly_object_id_of_key (key, group_id);
    member->account.data = (uint8_t *) user->account.sign_pk;
    member->account.len = TLY_KEY_BYTES;
    member->role = TALLY__ROLE__READER;
    group->id = group_id;
    group->owner.data = S_WORKER->account.sign_pk;
    group->owner.len = TLY_KEY_BYTES;
    group->n_members = 1;
    fprintf (out,
             "     \"group\": {\"id\": \"%s\", \"owner\": \"%s\", \"members\": [{\"account\": "
             "\"%s\", \"role\": \"reader\"}]},\n",
             group_id, S_WORKER->id, user->id);
}

//  alice's UserBalance at version 3 as the worker signs it, with its group.
static void
s_print_balance_object (FILE *out)
{
    char balance_id [TLY_ID_MAX], group_id [TLY_ID_MAX];
    tly_balance_id (S_ALICE->account.sign_pk, TLY_PARTITIONS_DEFAULT, balance_id);
    Tally__UserBalance balance = TALLY__USER_BALANCE__INIT;
    balance.id = balance_id;
    balance.user_id = S_ALICE->id;
    balance.balance = 75;
    balance.last_updated = 1767225601000;
    Tally__ObjectValue value = TALLY__OBJECT_VALUE__INIT;
    value.kind_case = TALLY__OBJECT_VALUE__KIND_BALANCE;
    value.balance = &balance;
    Tally__GroupMember member = TALLY__GROUP_MEMBER__INIT;
    Tally__GroupMember *members [] = { &member };
    Tally__Group group = TALLY__GROUP__INIT;
    group.members = members;
    Tally__ObjectState state = TALLY__OBJECT_STATE__INIT;
    state.object_id = balance_id;
    state.version = 3;
    state.updated_ms = 1767225601000;
    state.value = &value;
    state.group = &group;

    fprintf (out,
             "    {\"worker\": \"%s\", \"object_id\": \"%s\", \"kind\": "
             "\"BALANCE\", \"version\": 3, \"updated_ms\": 1767225601000,\n",
             S_WORKER->id, balance_id);
    fprintf (out,
             "     \"balance\": {\"id\": \"%s\", \"user_id\": \"%s\", \"balance\": 75, "
             "\"last_updated\": 1767225601000},\n",
             balance_id, S_ALICE->id);
    s_print_group (out, TLY_LABEL_BALANCE_GROUP, S_ALICE, &group, &member, group_id);
    s_print_signed (out, &state, balance_id, false);
}

//  An AdjustmentRecord of alice's, its ID from the user and the reference.
static void
s_adjustment (Tally__AdjustmentRecord *record, char *id, int64_t amount, const char *reference,
              const char *note, int64_t timestamp, int64_t balance_after)
{
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    tly_adjustment_key (tly_partition_of (S_ALICE->account.sign_pk, TLY_PARTITIONS_DEFAULT),
                        S_ALICE->account.sign_pk, reference, key);
    tly_object_id_of_key (key, id);
    record->id = id;
    record->user_id = (char *) S_ALICE->id;
    record->amount = amount;
    record->reference = (char *) reference;
    record->note = (char *) note;
    record->timestamp = timestamp;
    record->balance_after = balance_after;
    record->by = (char *) S_WORKER->id;
}

static void
s_print_adjustment_json (FILE *out, const Tally__AdjustmentRecord *record)
{
    fprintf (out,
             "{\"id\": \"%s\", \"user_id\": \"%s\", \"amount\": %" PRId64
             ", \"reference\": \"%s\", \"note\": \"%s\", \"timestamp\": %" PRId64
             ", \"balance_after\": %" PRId64 ", \"by\": \"%s\"}",
             record->id, record->user_id, record->amount, record->reference, record->note,
             record->timestamp, record->balance_after, record->by);
}

//  alice's PurchaseLog at version 4: created with 100, a buy of 25, a
//  credit of 500 with a note and a debit of 30 (a UTF-8 reference, no
//  note); and
//  the credit's own AdjustmentRecord (version 1), both in her purchases
//  group.
static void
s_print_history_objects (FILE *out)
{
    char log_id [TLY_ID_MAX], group_id [TLY_ID_MAX], purchase_id [TLY_ID_MAX];
    char credit_id [TLY_ID_MAX], debit_id [TLY_ID_MAX];
    tly_purchases_id (S_ALICE->account.sign_pk, TLY_PARTITIONS_DEFAULT, log_id);
    uint8_t message_id [TLY_MESSAGE_ID_BYTES], key [TLY_OBJECT_KEY_BYTES];
    s_message_id (message_id, 1767225601000, 0x22);
    tly_purchase_key (tly_partition_of (S_ALICE->account.sign_pk, TLY_PARTITIONS_DEFAULT),
                      S_ALICE->account.sign_pk, message_id, key);
    tly_object_id_of_key (key, purchase_id);

    Tally__PurchaseRecord purchase = TALLY__PURCHASE_RECORD__INIT;
    purchase.id = purchase_id;
    purchase.user_id = (char *) S_ALICE->id;
    purchase.item_id = "item-123";
    purchase.amount = 25;
    purchase.timestamp = 1767225601000;
    purchase.balance_after = 75;
    Tally__AdjustmentRecord credit = TALLY__ADJUSTMENT_RECORD__INIT;
    Tally__AdjustmentRecord debit = TALLY__ADJUSTMENT_RECORD__INIT;
    s_adjustment (&credit, credit_id, 500, "pay-1", "Welcome bonus", 1767225603000, 575);
    s_adjustment (&debit, debit_id, -30,
                  "r\xc3\xa9"
                  "f-\xe2\x82\xac-\xf0\x9f\x8d\xb0",
                  "", 1767225604000, 545);
    Tally__PurchaseRecord *records [] = { &purchase };
    Tally__AdjustmentRecord *adjustments [] = { &credit, &debit };
    Tally__PurchaseLog log = TALLY__PURCHASE_LOG__INIT;
    log.id = log_id;
    log.user_id = (char *) S_ALICE->id;
    log.count = 3;
    log.n_records = 1;
    log.records = records;
    log.n_adjustments = 2;
    log.adjustments = adjustments;
    Tally__ObjectValue value = TALLY__OBJECT_VALUE__INIT;
    value.kind_case = TALLY__OBJECT_VALUE__KIND_PURCHASES;
    value.purchases = &log;
    Tally__GroupMember member = TALLY__GROUP_MEMBER__INIT;
    Tally__GroupMember *members [] = { &member };
    Tally__Group group = TALLY__GROUP__INIT;
    group.members = members;
    Tally__ObjectState state = TALLY__OBJECT_STATE__INIT;
    state.object_id = log_id;
    state.version = 4;
    state.updated_ms = 1767225604000;
    state.value = &value;
    state.group = &group;

    fprintf (out,
             "    {\"worker\": \"%s\", \"object_id\": \"%s\", \"kind\": "
             "\"PURCHASE_LOG\", \"version\": 4, \"updated_ms\": 1767225604000,\n",
             S_WORKER->id, log_id);
    fprintf (
        out,
        "     \"purchases\": {\"id\": \"%s\", \"user_id\": \"%s\", \"count\": 3,\n"
        "       \"records\": [{\"id\": \"%s\", \"user_id\": \"%s\", \"item_id\": \"item-123\", "
        "\"amount\": 25, \"timestamp\": 1767225601000, \"balance_after\": 75}],\n"
        "       \"adjustments\": [",
        log_id, S_ALICE->id, purchase_id, S_ALICE->id);
    s_print_adjustment_json (out, &credit);
    fprintf (out, ",\n         ");
    s_print_adjustment_json (out, &debit);
    fprintf (out, "]},\n");
    s_print_group (out, TLY_LABEL_GROUP, S_ALICE, &group, &member, group_id);
    s_print_signed (out, &state, log_id, false);

    //  the credit's own record
    Tally__ObjectValue record_value = TALLY__OBJECT_VALUE__INIT;
    record_value.kind_case = TALLY__OBJECT_VALUE__KIND_ADJUSTMENT;
    record_value.adjustment = &credit;
    Tally__ObjectState record_state = TALLY__OBJECT_STATE__INIT;
    record_state.object_id = credit_id;
    record_state.version = 1;
    record_state.updated_ms = 1767225603000;
    record_state.value = &record_value;
    record_state.group = &group;
    fprintf (
        out,
        "    {\"worker\": \"%s\", \"object_id\": \"%s\", \"kind\": "
        "\"ADJUSTMENT\", \"version\": 1, \"updated_ms\": 1767225603000,\n     \"adjustment\": ",
        S_WORKER->id, credit_id);
    s_print_adjustment_json (out, &credit);
    fprintf (out, ",\n");
    s_print_group (out, TLY_LABEL_GROUP, S_ALICE, &group, &member, group_id);
    s_print_signed (out, &record_state, credit_id, false);
}

//  The worker's Catalog of configuration version 4 (so its version is 5,
//  docs/protocol.md): a UTF-8 item at the largest price, off sale, and
//  item-123 at 25, ascending by item ID bytes. Readable by everyone: no
//  group.
static void
s_print_catalog_object (FILE *out)
{
    char catalog_id [TLY_ID_MAX];
    tly_catalog_id (S_WORKER->account.sign_pk, catalog_id);
    Tally__CatalogItem items [2] = { TALLY__CATALOG_ITEM__INIT, TALLY__CATALOG_ITEM__INIT };
    items [0].item_id = "caf\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x8d\xb0";
    items [0].price = TLY_BALANCE_MAX;
    items [0].active = false;
    items [1].item_id = "item-123";
    items [1].price = 25;
    items [1].active = true;
    Tally__CatalogItem *list [] = { &items [0], &items [1] };
    Tally__Catalog catalog = TALLY__CATALOG__INIT;
    catalog.id = catalog_id;
    catalog.config_version = 4;
    catalog.n_items = 2;
    catalog.items = list;
    Tally__ObjectValue value = TALLY__OBJECT_VALUE__INIT;
    value.kind_case = TALLY__OBJECT_VALUE__KIND_CATALOG;
    value.catalog = &catalog;
    Tally__ObjectState state = TALLY__OBJECT_STATE__INIT;
    state.object_id = catalog_id;
    state.version = 5;
    state.updated_ms = 1767225605000;
    state.value = &value;
    fprintf (out,
             "    {\"worker\": \"%s\", \"object_id\": \"%s\", \"kind\": \"CATALOG\", "
             "\"version\": 5, \"updated_ms\": 1767225605000,\n",
             S_WORKER->id, catalog_id);
    fprintf (out, "     \"catalog\": {\"id\": \"%s\", \"config_version\": 4, \"items\": [",
             catalog_id);
    for (size_t i = 0; i < 2; i++)
        fprintf (out, "%s{\"item_id\": \"%s\", \"price\": %" PRId64 ", \"active\": %s}",
                 i ? ", " : "", items [i].item_id, items [i].price,
                 items [i].active ? "true" : "false");
    fprintf (out, "]},\n");
    s_print_signed (out, &state, catalog_id, false);
}

//  alice's purchase of the "buy" envelope (item-123 for 25, leaving 75),
//  refunded: its version 2, naming the refund's AdjustmentRecord (its ID
//  from alice and the reference "refund:" + the purchase's ID) and when,
//  and the partition record that made it; in her purchases group.
static void
s_print_purchase_object (FILE *out)
{
    char purchase_id [TLY_ID_MAX], refund_id [TLY_ID_MAX], group_id [TLY_ID_MAX];
    char reference [TLY_REFERENCE_MAX + 1];
    s_alice_purchase (1767225600999, 0x22, purchase_id);
    tly_refund_reference (purchase_id, reference);
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    tly_adjustment_key (tly_partition_of (S_ALICE->account.sign_pk, TLY_PARTITIONS_DEFAULT),
                        S_ALICE->account.sign_pk, reference, key);
    tly_object_id_of_key (key, refund_id);
    Tally__PurchaseRecord purchase = TALLY__PURCHASE_RECORD__INIT;
    purchase.id = purchase_id;
    purchase.user_id = (char *) S_ALICE->id;
    purchase.item_id = "item-123";
    purchase.amount = 25;
    purchase.timestamp = 1767225601000;
    purchase.balance_after = 75;
    purchase.partition_seq = 2;
    purchase.refund_id = refund_id;
    purchase.refunded_at = 1767225607000;
    Tally__ObjectValue value = TALLY__OBJECT_VALUE__INIT;
    value.kind_case = TALLY__OBJECT_VALUE__KIND_PURCHASE;
    value.purchase = &purchase;
    Tally__GroupMember member = TALLY__GROUP_MEMBER__INIT;
    Tally__GroupMember *members [] = { &member };
    Tally__Group group = TALLY__GROUP__INIT;
    group.members = members;
    Tally__ObjectState state = TALLY__OBJECT_STATE__INIT;
    state.object_id = purchase_id;
    state.version = 2;
    state.updated_ms = 1767225607000;
    state.value = &value;
    state.group = &group;
    fprintf (out,
             "    {\"worker\": \"%s\", \"object_id\": \"%s\", \"kind\": \"PURCHASE\", "
             "\"version\": 2, \"updated_ms\": 1767225607000,\n",
             S_WORKER->id, purchase_id);
    fprintf (out,
             "     \"purchase\": {\"id\": \"%s\", \"user_id\": \"%s\", \"item_id\": \"item-123\", "
             "\"amount\": 25, \"timestamp\": 1767225601000, \"balance_after\": 75, "
             "\"partition_seq\": 2,\n       \"refund_id\": \"%s\", \"refunded_at\": "
             "1767225607000},\n",
             purchase_id, S_ALICE->id, refund_id);
    s_print_group (out, TLY_LABEL_GROUP, S_ALICE, &group, &member, group_id);
    s_print_signed (out, &state, purchase_id, true);
}

static void
s_print_objects (FILE *out)
{
    fprintf (out, "  \"objects\": [\n");
    s_print_balance_object (out);
    s_print_history_objects (out);
    s_print_catalog_object (out);
    s_print_purchase_object (out);
    fprintf (out, "  ]\n");
}

static void
s_print (FILE *out)
{
    for (size_t i = 0; i < sizeof s_accounts / sizeof s_accounts [0]; i++)
        s_account_make (&s_accounts [i]);
    fprintf (out, "{\n  \"about\": \"tally's client test vectors, made by the C SDK "
                  "(tests/vectors/sdk_vectors.c); test keys only\",\n");
    fprintf (out, "  \"accounts\": [\n");
    for (size_t i = 0; i < sizeof s_accounts / sizeof s_accounts [0]; i++)
        s_print_account (out, &s_accounts [i], i + 1 == sizeof s_accounts / sizeof s_accounts [0]);
    fprintf (out, "  ],\n");
    s_print_message_ids (out);
    s_print_purchase_ids (out);
    s_print_adjustment_ids (out);
    s_print_envelopes (out);
    s_print_subscribes (out);
    s_print_objects (out);
    fprintf (out, "}\n");
}

//  Compares the vectors made now with the file, line by line; says where
//  they part.
static int
s_check (const char *path)
{
    char *made = NULL;
    size_t made_size = 0;
    FILE *memory = open_memstream (&made, &made_size);
    assert (memory);
    s_print (memory);
    fclose (memory);
    FILE *file = fopen (path, "r");
    if (!file) {
        fprintf (stderr, "sdk_vectors: cannot read %s\n", path);
        free (made);
        return 1;
    }
    char *kept = malloc (made_size + 2);
    assert (kept);
    size_t kept_size = fread (kept, 1, made_size + 1, file);
    fclose (file);
    int status = 0;
    if (kept_size != made_size || memcmp (kept, made, made_size) != 0) {
        size_t at = 0, line = 1;
        while (at < made_size && at < kept_size && made [at] == kept [at])
            if (made [at++] == '\n')
                line++;
        fprintf (stderr,
                 "sdk_vectors: the C SDK no longer makes %s: they part at line %zu (byte %zu);"
                 " if the change is meant, remake the file with `sdk_vectors > %s` and"
                 " the TypeScript client must follow\n",
                 path, line, at, path);
        status = 1;
    } else
        printf ("sdk_vectors: %s holds what the C SDK makes (%zu bytes)\n", path, made_size);
    free (kept);
    free (made);
    return status;
}

int
main (int argc, char **argv)
{
    if (sodium_init () < 0)
        return 1;
    if (argc == 3 && strcmp (argv [1], "--check") == 0)
        return s_check (argv [2]);
    if (argc != 1) {
        fprintf (stderr, "usage: sdk_vectors [--check FILE]\n");
        return 2;
    }
    s_print (stdout);
    return 0;
}
