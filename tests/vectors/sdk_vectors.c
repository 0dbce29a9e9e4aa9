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

#include "sdk_vectors.h"
#include "tly_sign.h"

const uint32_t vec_counts [VEC_COUNTS] = { 256, 16, 7 };

vec_account_t vec_accounts [VEC_ACCOUNTS] = {
    { .name = "alice", .seed_first = 0x01, .sealer_first = 0x41 },
    { .name = "bob", .seed_first = 0xa0, .sealer_first = 0x10 },
    { .name = "worker", .seed_first = 0x00, .sealer_first = 0xff },
};

void
vec_hex (FILE *out, const uint8_t *data, size_t size)
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
s_account_make (vec_account_t *self)
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
s_print_account (FILE *out, const vec_account_t *self, bool last)
{
    uint8_t seed [TLY_SEED_BYTES], sealer [TLY_KEY_BYTES];
    s_fill (seed, sizeof seed, self->seed_first);
    s_fill (sealer, sizeof sealer, self->sealer_first);
    char secret [TLY_SECRET_MAX];
    tly_account_secret (&self->account, secret);
    fprintf (out, "    {\n      \"name\": \"%s\",\n      \"seed_hex\": \"", self->name);
    vec_hex (out, seed, sizeof seed);
    fprintf (out, "\",\n      \"sealer_secret_hex\": \"");
    vec_hex (out, sealer, sizeof sealer);
    fprintf (out, "\",\n      \"account\": \"%s\",\n      \"secret\": \"%s\",\n", self->id, secret);
    fprintf (out, "      \"public_key_hex\": \"");
    vec_hex (out, self->account.sign_pk, TLY_KEY_BYTES);
    fprintf (out, "\",\n      \"sealer_public_hex\": \"");
    vec_hex (out, self->account.box_pk, TLY_KEY_BYTES);
    fprintf (out, "\",\n");
    char service [TLY_ID_MAX], catalog [TLY_ID_MAX];
    tly_service_id (self->account.sign_pk, service);
    tly_catalog_id (self->account.sign_pk, catalog);
    fprintf (out, "      \"service_id\": \"%s\",\n      \"catalog_id\": \"%s\",\n", service,
             catalog);
    fprintf (out, "      \"by_partition_count\": [\n");
    for (size_t i = 0; i < VEC_COUNTS; i++) {
        char balance [TLY_ID_MAX], root [TLY_ID_MAX], purchases [TLY_ID_MAX];
        tly_balance_id (self->account.sign_pk, vec_counts [i], balance);
        tly_root_id (self->account.sign_pk, vec_counts [i], root);
        tly_purchases_id (self->account.sign_pk, vec_counts [i], purchases);
        fprintf (out,
                 "        {\"partition_count\": %" PRIu32 ", \"partition\": %" PRIu32
                 ", \"balance_id\": \"%s\", \"root_id\": \"%s\", \"purchases_id\": \"%s\"}%s\n",
                 vec_counts [i], tly_partition_of (self->account.sign_pk, vec_counts [i]), balance,
                 root, purchases, i + 1 < VEC_COUNTS ? "," : "");
    }
    fprintf (out, "      ]\n    }%s\n", last ? "" : ",");
}

void
vec_message_id (uint8_t id [TLY_MESSAGE_ID_BYTES], int64_t time_ms, uint8_t first)
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
        vec_message_id (id, times [i], (uint8_t) (0x30 + i));
        fprintf (out, "    {\"time_ms\": %" PRId64 ", \"random_hex\": \"", times [i]);
        vec_hex (out, id + TLY_MESSAGE_ID_TIME_BYTES,
                 TLY_MESSAGE_ID_BYTES - TLY_MESSAGE_ID_TIME_BYTES);
        fprintf (out, "\", \"id_hex\": \"");
        vec_hex (out, id, sizeof id);
        fprintf (out, "\", \"id_time_ms\": %" PRId64 "}%s\n", tly_message_id_time (id),
                 i + 1 < count ? "," : "");
    }
    fprintf (out, "  ],\n");
}

static void
s_print_purchase_ids (FILE *out)
{
    fprintf (out, "  \"purchase_ids\": [\n");
    const vec_account_t *users [] = { VEC_ALICE, VEC_BOB };
    for (size_t i = 0; i < 2; i++)
        for (size_t j = 0; j < VEC_COUNTS; j++) {
            uint8_t id [TLY_MESSAGE_ID_BYTES], key [TLY_OBJECT_KEY_BYTES];
            vec_message_id (id, 1767225600123 + (int64_t) j, (uint8_t) (0x70 + i));
            tly_purchase_key (tly_partition_of (users [i]->account.sign_pk, vec_counts [j]),
                              users [i]->account.sign_pk, id, key);
            char purchase [TLY_ID_MAX];
            tly_object_id_of_key (key, purchase);
            fprintf (out, "    {\"account\": \"%s\", \"message_id_hex\": \"", users [i]->id);
            vec_hex (out, id, sizeof id);
            fprintf (out, "\", \"partition_count\": %" PRIu32 ", \"purchase_id\": \"%s\"}%s\n",
                     vec_counts [j], purchase, i == 1 && j + 1 == VEC_COUNTS ? "" : ",");
        }
    fprintf (out, "  ],\n");
}

static void
s_msg_create (tly_msg_t *msg, int64_t initial, int64_t time_ms, uint8_t first)
{
    memset (msg, 0, sizeof *msg);
    msg->kind = TLY_MSG_CREATE_ACCOUNT;
    msg->initial_balance = initial;
    vec_message_id (msg->id, time_ms, first);
}

static void
s_msg_buy (tly_msg_t *msg, const char *item, int64_t amount, int64_t time_ms, uint8_t first)
{
    memset (msg, 0, sizeof *msg);
    msg->kind = TLY_MSG_BUY;
    assert (strlen (item) <= TLY_MSG_ITEM_CAP);
    strcpy (msg->item_id, item);
    msg->amount = amount;
    vec_message_id (msg->id, time_ms, first);
}

//  An order message's fields after its ID: its type, the order's ID (but
//  for createOrder), the items (createOrder, editOrder), the error (failOrder).
static void
s_print_order_msg (FILE *out, const tly_msg_t *msg)
{
    static const char *types [] = { "createOrder", "editOrder", "submitOrder", "completeOrder",
                                    "failOrder" };
    fprintf (out, "\", \"type\": \"%s\"", types [msg->kind - TLY_MSG_CREATE_ORDER]);
    if (msg->kind != TLY_MSG_CREATE_ORDER)
        fprintf (out, ", \"order_id\": \"%s\"", msg->order_id);
    if (msg->kind == TLY_MSG_CREATE_ORDER || msg->kind == TLY_MSG_EDIT_ORDER) {
        fprintf (out, ", \"items\": [");
        for (size_t i = 0; i < msg->item_count; i++)
            fprintf (out, "%s{\"item_id\": \"%s\", \"amount\": \"%" PRId64 "\"}", i ? ", " : "",
                     msg->items [i].item_id, msg->items [i].amount);
        fprintf (out, "]");
    }
    if (msg->kind == TLY_MSG_FAIL_ORDER)
        fprintf (out, ", \"error\": \"%s\"", msg->note);
    fprintf (out, "}");
}

static void
s_print_msg (FILE *out, const tly_msg_t *msg, bool last)
{
    fprintf (out, "        {\"id_hex\": \"");
    vec_hex (out, msg->id, TLY_MESSAGE_ID_BYTES);
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
    else if (msg->kind >= TLY_MSG_CREATE_ORDER && msg->kind <= TLY_MSG_FAIL_ORDER)
        s_print_order_msg (out, msg);
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
s_print_envelope (FILE *out, const vec_envelope_t *self, bool last)
{
    uint8_t *sealed;
    size_t sealed_size;
    int rc = tly_codec_seal (&self->sender->account, VEC_WORKER->account.sign_pk, self->msgs,
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
             VEC_WORKER->id, self->timestamp_ms);
    fprintf (out, "      \"request_id\": \"%" PRIu64 "\",\n      \"messages\": [\n",
             self->request_id);
    for (size_t i = 0; i < self->count; i++)
        s_print_msg (out, &self->msgs [i], i + 1 == self->count);
    fprintf (out, "      ],\n      \"envelope_hex\": \"");
    vec_hex (out, parts->envelope.data, parts->envelope.len);
    fprintf (out, "\",\n      \"signature_hex\": \"");
    vec_hex (out, parts->signature.data, parts->signature.len);
    fprintf (out, "\",\n      \"signed_envelope_hex\": \"");
    vec_hex (out, sealed, sealed_size);
    fprintf (out, "\",\n      \"request_hex\": \"");
    vec_hex (out, request, request_size);
    fprintf (out, "\"\n    }%s\n", last ? "" : ",");
    free (request);
    tally__signed_envelope__free_unpacked (parts, NULL);
    free (sealed);
}

static void
s_print_envelopes (FILE *out)
{
    const int64_t now = 1767225600000;
    vec_envelope_t envelopes [11] = {
        { .name = "createAccount",
          .sender = VEC_ALICE,
          .timestamp_ms = now,
          .request_id = 1,
          .count = 1 },
        { .name = "buy",
          .sender = VEC_ALICE,
          .timestamp_ms = now + 1000,
          .request_id = 2,
          .count = 1 },
        { .name = "batch",
          .sender = VEC_BOB,
          .timestamp_ms = now + 2000,
          .request_id = UINT64_MAX,
          .count = 4 },
        { .name = "zero values",
          .sender = VEC_BOB,
          .timestamp_ms = 0,
          .request_id = 300,
          .count = 2 },
        { .name = "credit and debit",
          .sender = VEC_WORKER,
          .timestamp_ms = now + 3000,
          .request_id = 400,
          .count = 4 },
        { .name = "largest reference and note",
          .sender = VEC_WORKER,
          .timestamp_ms = now + 4000,
          .request_id = 401,
          .count = 1 },
        { .name = "admins and prices",
          .sender = VEC_WORKER,
          .timestamp_ms = now + 5000,
          .request_id = 500,
          .count = 4 },
        { .name = "buy at the catalog price",
          .sender = VEC_ALICE,
          .timestamp_ms = now + 6000,
          .request_id = 501,
          .count = 1 },
        { .name = "refunds",
          .sender = VEC_WORKER,
          .timestamp_ms = now + 7000,
          .request_id = 600,
          .count = 2 },
        { .name = "orders",
          .sender = VEC_ALICE,
          .timestamp_ms = now + 8000,
          .request_id = 700,
          .count = 3 },
        { .name = "order ends",
          .sender = VEC_WORKER,
          .timestamp_ms = now + 9000,
          .request_id = 701,
          .count = 3 },
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
    vec_money_messages (envelopes, now);
    vec_order_messages (envelopes, now);
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
    tly_balance_id (VEC_ALICE->account.sign_pk, TLY_PARTITIONS_DEFAULT, balance);
    tly_service_id (VEC_WORKER->account.sign_pk, service);
    const struct {
        const vec_account_t *reader;
        const char *object_id;
        uint64_t request_id;
        int64_t timestamp_ms;
    } subscribes [] = {
        { VEC_ALICE, balance, 7, 1767225605000 },
        { VEC_BOB, service, 12345678901234567890ULL, 1767225606000 },
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
        vec_hex (out, request, size);
        fprintf (out, "\"}%s\n", i + 1 < count ? "," : "");
        free (request);
    }
    fprintf (out, "  ],\n");
}

//  The worker's signature over state, checked by the C SDK's own decoding
//  (tly_object_decode), which must take it as expected_id; then its bytes
//  and the signature, ending the object's JSON.
void
vec_print_signed (FILE *out, const Tally__ObjectState *state, const char *expected_id, bool last)
{
    size_t size = tally__object_state__get_packed_size (state);
    uint8_t *bytes = malloc (size);
    assert (bytes);
    tally__object_state__pack (state, bytes);
    uint8_t signature [TLY_SIGNATURE_BYTES];
    tly_sign_domain (TLY_DOMAIN_OBJECT, VEC_WORKER->account.sign_sk, bytes, size, signature);

    Tally__SignedObject signed_object = TALLY__SIGNED_OBJECT__INIT;
    signed_object.state.data = bytes;
    signed_object.state.len = size;
    signed_object.signature.data = signature;
    signed_object.signature.len = sizeof signature;
    tly_object_t object;
    tly_error_t error;
    int rc = tly_object_decode (&signed_object, VEC_WORKER->account.sign_pk, expected_id, &object,
                                &error);
    assert (rc == 0 && object.version == state->version);
    tly_object_clear (&object);

    fprintf (out, "     \"state_hex\": \"");
    vec_hex (out, bytes, size);
    fprintf (out, "\",\n     \"signature_hex\": \"");
    vec_hex (out, signature, sizeof signature);
    fprintf (out, "\"}%s\n", last ? "" : ",");
    free (bytes);
}

//  A user's group of the worker as owner and the user as reader.
void
vec_print_group (FILE *out, const char *label, const vec_account_t *user, Tally__Group *group,
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
    group->owner.data = VEC_WORKER->account.sign_pk;
    group->owner.len = TLY_KEY_BYTES;
    group->n_members = 1;
    fprintf (out,
             "     \"group\": {\"id\": \"%s\", \"owner\": \"%s\", \"members\": [{\"account\": "
             "\"%s\", \"role\": \"reader\"}]},\n",
             group_id, VEC_WORKER->id, user->id);
}

//  The object of object_id at version, updated at updated_ms, in its
//  group of one member (vec_print_group fills them in).
void
vec_object_init (vec_object_t *self, const char *object_id, uint64_t version, int64_t updated_ms)
{
    self->value = (Tally__ObjectValue) TALLY__OBJECT_VALUE__INIT;
    self->member = (Tally__GroupMember) TALLY__GROUP_MEMBER__INIT;
    self->members [0] = &self->member;
    self->group = (Tally__Group) TALLY__GROUP__INIT;
    self->group.members = self->members;
    self->state = (Tally__ObjectState) TALLY__OBJECT_STATE__INIT;
    self->state.object_id = (char *) object_id;
    self->state.version = version;
    self->state.updated_ms = updated_ms;
    self->state.value = &self->value;
    self->state.group = &self->group;
}

void
vec_print_object_head (FILE *out, const char *kind, const Tally__ObjectState *state)
{
    fprintf (out,
             "    {\"worker\": \"%s\", \"object_id\": \"%s\", \"kind\": \"%s\", \"version\": "
             "%" PRIu64 ", \"updated_ms\": %" PRId64 ",\n",
             VEC_WORKER->id, state->object_id, kind, state->version, state->updated_ms);
}

//  alice's UserBalance at version 3 as the worker signs it, with its group.
static void
s_print_balance_object (FILE *out)
{
    char balance_id [TLY_ID_MAX], group_id [TLY_ID_MAX];
    tly_balance_id (VEC_ALICE->account.sign_pk, TLY_PARTITIONS_DEFAULT, balance_id);
    Tally__UserBalance balance = TALLY__USER_BALANCE__INIT;
    balance.id = balance_id;
    balance.user_id = VEC_ALICE->id;
    balance.balance = 75;
    balance.last_updated = 1767225601000;
    vec_object_t object;
    vec_object_init (&object, balance_id, 3, 1767225601000);
    object.value.kind_case = TALLY__OBJECT_VALUE__KIND_BALANCE;
    object.value.balance = &balance;
    vec_print_object_head (out, "BALANCE", &object.state);
    fprintf (out,
             "     \"balance\": {\"id\": \"%s\", \"user_id\": \"%s\", \"balance\": 75, "
             "\"last_updated\": 1767225601000},\n",
             balance_id, VEC_ALICE->id);
    vec_print_group (out, TLY_LABEL_BALANCE_GROUP, VEC_ALICE, &object.group, &object.member,
                     group_id);
    vec_print_signed (out, &object.state, balance_id, false);
}
static void
s_print_objects (FILE *out)
{
    fprintf (out, "  \"objects\": [\n");
    s_print_balance_object (out);
    vec_print_history_objects (out);
    vec_print_catalog_object (out);
    vec_print_purchase_object (out);
    fprintf (out, "  ]\n");
}

static void
s_print (FILE *out)
{
    for (size_t i = 0; i < VEC_ACCOUNTS; i++)
        s_account_make (&vec_accounts [i]);
    fprintf (out, "{\n  \"about\": \"tally's client test vectors, made by the C SDK "
                  "(tests/vectors/sdk_vectors.c); test keys only\",\n");
    fprintf (out, "  \"accounts\": [\n");
    for (size_t i = 0; i < VEC_ACCOUNTS; i++)
        s_print_account (out, &vec_accounts [i], i + 1 == VEC_ACCOUNTS);
    fprintf (out, "  ],\n");
    s_print_message_ids (out);
    s_print_purchase_ids (out);
    vec_print_adjustment_ids (out);
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
