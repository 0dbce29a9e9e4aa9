//  make_corpus_traffic - `fuzz_corpus traffic`: talks to the gateway as the
//  test clients and the test worker (accounts, buys taken and refused,
//  subscriptions, status, pings, a junk frame; the configuration: prices,
//  an admin added and removed; buys at the catalog price, at a stale one
//  and of an item off sale; refunds; orders, make_corpus_orders.c; then
//  enough buys for the journal to roll) and writes what it sent
//  (client_frame, wire) and what came back (sdk_reply, sdk_watcher, wire). Apart from the audit writer's seeds
//  (make_corpus_audit.c): this is the client's side of the wire.
#include "make_corpus.h"

#include <assert.h>
#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally.h"
#include "tly_codec.h"
#include "tly_journal.h"
#include "tly_validate.h"
#include "tly_wire.h"

#define S_REPLIES_MAX 8192
#define S_QUIET_MS    1000
#define S_BULK_SENDS  80
#define S_BULK_BATCH  8
#define S_CHUNKS_MAX  8
#define S_SUBS        5  //  client A's subscriptions
#define S_WATCHED     4  //  those fuzz_sdk_watcher can pick

//  ---------------------------------------------------------------- traffic

typedef struct {
    uint8_t *bytes;
    size_t size;
    uint64_t request_id;
    Tally__PushKind push;
} s_reply_t;

struct corpus_traffic {
    zsock_t *dealer;
    const char *journal_dir;
    uint32_t partitions;
    uint8_t worker [TLY_KEY_BYTES];
    uint64_t next_id;
    s_reply_t replies [S_REPLIES_MAX];
    size_t reply_count;
};

//  Takes one frame when one comes before deadline (monotonic ms).
static bool
s_take (corpus_traffic_t *self, int64_t deadline)
{
    zpoller_t *poller = zpoller_new (self->dealer, NULL);
    int64_t left = deadline - tly_mono_ms ();
    void *which = zpoller_wait (poller, left > 0 ? (int) left : 0);
    zpoller_destroy (&poller);
    if (!which)
        return false;
    zframe_t *frame = zframe_recv (self->dealer);
    assert (frame);
    Tally__ClientReply *reply = tally__client_reply__unpack (NULL, zframe_size (frame),
                                                             zframe_data (frame));
    assert (reply && self->reply_count < S_REPLIES_MAX);
    s_reply_t *kept = &self->replies [self->reply_count++];
    kept->size = zframe_size (frame);
    kept->bytes = malloc (kept->size ? kept->size : 1);
    assert (kept->bytes);
    memcpy (kept->bytes, zframe_data (frame), kept->size);
    kept->request_id = reply->request_id;
    kept->push = reply->push;
    tally__client_reply__free_unpacked (reply, NULL);
    zframe_destroy (&frame);
    return true;
}

//  Sends request (seeds of client_frame and wire named name; NULL: none)
//  and takes frames until its answer. Returns the answer's index.
static size_t
s_exchange (corpus_traffic_t *self, const char *name, const uint8_t *request, size_t size,
            uint64_t request_id)
{
    if (name) {
        corpus_seed ("fuzz_client_frame", name, request, size);
        corpus_wire_seed (CORPUS_WIRE_REQUEST, name, request, size);
    }
    int rc = zmq_send (zsock_resolve (self->dealer), request, size, 0);
    assert (rc == (int) size);
    int64_t deadline = tly_mono_ms () + CORPUS_WAIT_MS;
    while (s_take (self, deadline)) {
        const s_reply_t *last = &self->replies [self->reply_count - 1];
        if (last->push == TALLY__PUSH_KIND__NOT_PUSHED
            && (last->request_id == request_id || last->request_id == 0))
            return self->reply_count - 1;
    }
    fprintf (stderr, "fuzz_corpus: no answer to %s within %d ms\n", name ? name : "a send",
             CORPUS_WAIT_MS);
    exit (1);
}

static uint8_t *
s_request (Tally__ClientRequest *request, size_t *size)
{
    zframe_t *frame = tly_wire_pack (&request->base);
    *size = zframe_size (frame);
    uint8_t *bytes = malloc (*size);
    assert (bytes);
    memcpy (bytes, zframe_data (frame), *size);
    zframe_destroy (&frame);
    return bytes;
}

//  A send of msgs from account; its answer's index.
static size_t
s_send (corpus_traffic_t *self, const char *name, fuzz_account_t who, const tly_msg_t *msgs,
        size_t n, bool spoil)
{
    uint8_t *sealed;
    size_t sealed_size;
    int rc = tly_codec_seal (fuzz_account (who), self->worker, msgs, n, tly_now_ms (), &sealed,
                             &sealed_size);
    assert (rc == 0);
    if (spoil)
        sealed [sealed_size - 1] ^= 1;  //  the signature's last byte
    else if (name) {
        corpus_wire_seed (CORPUS_WIRE_SIGNED, name, sealed, sealed_size);
        Tally__SignedEnvelope *envelope = tally__signed_envelope__unpack (NULL, sealed_size,
                                                                          sealed);
        corpus_wire_seed (CORPUS_WIRE_ENV, name, envelope->envelope.data, envelope->envelope.len);
        tally__signed_envelope__free_unpacked (envelope, NULL);
    }
    uint64_t id = ++self->next_id;
    size_t size;
    uint8_t *request = tly_codec_wrap_send (id, sealed, sealed_size, &size);
    size_t answer = s_exchange (self, name, request, size, id);
    free (request);
    free (sealed);
    return answer;
}

size_t
corpus_send (corpus_traffic_t *self, const char *name, fuzz_account_t who, const tly_msg_t *msgs,
             size_t n)
{
    return s_send (self, name, who, msgs, n, false);
}

Tally__ClientReply *
corpus_reply (corpus_traffic_t *self, size_t index)
{
    assert (index < self->reply_count);
    const s_reply_t *kept = &self->replies [index];
    Tally__ClientReply *reply = tally__client_reply__unpack (NULL, kept->size, kept->bytes);
    assert (reply);
    return reply;
}

static size_t
s_buy (corpus_traffic_t *self, const char *name, fuzz_account_t who, const char *item,
       int64_t amount)
{
    tly_msg_t msg;
    int rc = tly_msg_buy (&msg, item, amount);
    assert (rc == 0);
    return s_send (self, name, who, &msg, 1, false);
}

static size_t
s_body (corpus_traffic_t *self, const char *name, Tally__ClientRequest *request)
{
    request->request_id = ++self->next_id;
    size_t size;
    uint8_t *bytes = s_request (request, &size);
    size_t answer = s_exchange (self, name, bytes, size, request->request_id);
    free (bytes);
    return answer;
}

uint64_t
corpus_subscribe (corpus_traffic_t *self, const char *name, fuzz_account_t who,
                  const char *object_id, size_t *answer)
{
    uint64_t id = ++self->next_id;
    size_t size;
    uint8_t *request = tly_codec_subscribe (fuzz_account (who), id, object_id, tly_now_ms (),
                                            &size);
    *answer = s_exchange (self, name, request, size, id);
    free (request);
    return id;
}

static tly_journal_step_t
s_last_checkpoint (uint64_t seq, const uint8_t *bytes, size_t size, void *arg)
{
    (void) bytes, (void) size;
    *(uint64_t *) arg = seq;
    return TLY_JOURNAL_NEXT;
}

//  Waits until the journal's head is signed by a checkpoint (the writer signs
//  within a second of an append), so that the journal's first records come
//  with checkpoints among them.
static void
s_wait_signed (corpus_traffic_t *self)
{
    int64_t deadline = tly_mono_ms () + CORPUS_WAIT_MS;
    for (;;) {
        tly_journal_t *journal = tly_journal_new_reader (self->journal_dir);
        assert (journal);
        tly_journal_head_t head;
        tly_journal_head (journal, &head);
        uint64_t signed_seq = 0;
        int rc = tly_journal_each_checkpoint (journal, s_last_checkpoint, &signed_seq);
        assert (rc == 0);
        tly_journal_destroy (&journal);
        if (signed_seq == head.seq)
            return;
        if (tly_mono_ms () > deadline) {
            fprintf (stderr, "fuzz_corpus: the journal head %" PRIu64 " is not signed\n", head.seq);
            exit (1);
        }
        zclock_sleep (50);
    }
}

void
corpus_reply_seed (corpus_traffic_t *self, size_t index, const char *name)
{
    const s_reply_t *reply = &self->replies [index];
    corpus_seed ("fuzz_sdk_reply", name, reply->bytes, reply->size);
    corpus_wire_seed (CORPUS_WIRE_REPLY, name, reply->bytes, reply->size);
}

//  The version of the object a reply carries (0: none).
static uint64_t
s_version (const s_reply_t *kept)
{
    Tally__ClientReply *reply = tally__client_reply__unpack (NULL, kept->size, kept->bytes);
    assert (reply);
    uint64_t version = 0;
    if (reply->object) {
        Tally__ObjectState *state = tally__object_state__unpack (NULL, reply->object->state.len,
                                                                 reply->object->state.data);
        version = state ? state->version : 0;
        tally__object_state__free_unpacked (state, NULL);
    }
    tally__client_reply__free_unpacked (reply, NULL);
    return version;
}

//  One subscription as a watcher saw it: the answer and what was pushed,
//  waiting for the answer (fuzz_sdk_watcher's setup bit 0 clear), and the
//  pushes alone, live at the answer's version; object is the target's
//  index of it (-1: one it cannot pick, no watcher seeds). The first push is
//  a seed of sdk_reply, the object at its last version one of wire.
static void
s_watcher_seeds (corpus_traffic_t *self, uint64_t request_id, size_t answer, int object,
                 const char *name)
{
    char seed_name [64];
    corpus_chunks_t seed;
    size_t chunks = 0;
    if (object >= 0) {
        corpus_chunks_open (&seed, (uint8_t) (object << 1));
        for (size_t i = answer; i < self->reply_count && chunks < S_CHUNKS_MAX; i++)
            if (self->replies [i].request_id == request_id) {
                corpus_chunks_add (&seed, 2, self->replies [i].bytes, self->replies [i].size);
                chunks++;
            }
        snprintf (seed_name, sizeof seed_name, "%s-subscribe", name);
        corpus_chunks_close (&seed, "fuzz_sdk_watcher", seed_name);
    }

    uint64_t version = s_version (&self->replies [answer]);
    bool live = object >= 0 && version >= 1 && version <= 16;
    if (live)
        corpus_chunks_open (&seed, (uint8_t) (1 | object << 1 | (version - 1) << 4));
    size_t last = answer;
    chunks = 0;
    for (size_t i = answer + 1; i < self->reply_count; i++)
        if (self->replies [i].request_id == request_id) {
            if (live && chunks < S_CHUNKS_MAX)
                corpus_chunks_add (&seed, 2, self->replies [i].bytes, self->replies [i].size);
            if (chunks++ == 0) {
                snprintf (seed_name, sizeof seed_name, "%s-update", name);
                corpus_reply_seed (self, i, seed_name);
            }
            if (s_version (&self->replies [i]) > 0)
                last = i;
        }
    snprintf (seed_name, sizeof seed_name, "%s-live", name);
    if (live && chunks > 0)
        corpus_chunks_close (&seed, "fuzz_sdk_watcher", seed_name);
    else if (live) {
        fclose (seed.file);
        free (seed.bytes);
    }

    //  The object itself, at its last version, for fuzz_wire.
    const s_reply_t *kept = &self->replies [last];
    Tally__ClientReply *reply = tally__client_reply__unpack (NULL, kept->size, kept->bytes);
    if (reply->object) {
        size_t size;
        uint8_t *bytes = fuzz_pack (&reply->object->base, &size);
        corpus_wire_seed (CORPUS_WIRE_OBJECT, name, bytes, size);
        free (bytes);
        corpus_wire_seed (CORPUS_WIRE_STATE, name, reply->object->state.data,
                          reply->object->state.len);
    }
    tally__client_reply__free_unpacked (reply, NULL);
}

//  Stops the run unless every result of the answer at index has outcome
//  (an error: of code), so that each seed is what its name says. Copies the
//  first result's purchase or order ID into id when it is not NULL.
void
corpus_expect (corpus_traffic_t *self, size_t index, const char *name,
               Tally__MessageResult__OutcomeCase outcome, Tally__ErrorCode code, char *id)
{
    const s_reply_t *kept = &self->replies [index];
    Tally__ClientReply *reply = tally__client_reply__unpack (NULL, kept->size, kept->bytes);
    assert (reply);
    bool as_named = reply->n_results > 0;
    for (size_t i = 0; i < reply->n_results; i++) {
        const Tally__MessageResult *result = reply->results [i];
        if (result->outcome_case != outcome
            || (outcome == TALLY__MESSAGE_RESULT__OUTCOME_ERROR && result->error->code != code))
            as_named = false;
    }
    if (!as_named) {
        const Tally__Error *error = reply->error;
        for (size_t i = 0; i < reply->n_results && !error; i++)
            if (reply->results [i]->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ERROR)
                error = reply->results [i]->error;
        fprintf (stderr, "fuzz_corpus: %s was not answered as its seeds say (%s)\n", name,
                 error ? tly_error_name (error->code) : "another outcome");
        exit (1);
    }
    if (id && outcome == TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE)
        snprintf (id, TLY_ID_MAX, "%s", reply->results [0]->purchase->id);
    else if (id) {
        assert (outcome == TALLY__MESSAGE_RESULT__OUTCOME_ORDER);
        snprintf (id, TLY_ID_MAX, "%s", reply->results [0]->order->id);
    }
    tally__client_reply__free_unpacked (reply, NULL);
}

//  A send whose answer is a seed of sdk_reply and must be as expected.
void
corpus_step (corpus_traffic_t *self, const char *name, fuzz_account_t who, const tly_msg_t *msgs,
             size_t n, Tally__MessageResult__OutcomeCase outcome, Tally__ErrorCode code, char *id)
{
    size_t answer = s_send (self, name, who, msgs, n, false);
    corpus_reply_seed (self, answer, name);
    corpus_expect (self, answer, name, outcome, code, id);
}

//  The configuration and refunds (docs/protocol.md, "Admins and the
//  catalog" and "Refunds"): the worker prices two new items, adds client B
//  as an admin, who prices a third and credits client A, and removes it;
//  the worker changes a price and takes an item off sale. Client B buys at
//  the catalog price and follows its purchase; client A buys at the old
//  price and the item off sale; the worker refunds client B's purchase,
//  then again; client A tries to. Client A's subscription to the Catalog
//  (made before) sees each change. Returns the purchase's subscription.
static uint64_t
s_catalog (corpus_traffic_t *self, size_t *purchase_answer)
{
    const Tally__MessageResult__OutcomeCase config = TALLY__MESSAGE_RESULT__OUTCOME_CONFIG;
    const Tally__MessageResult__OutcomeCase adjustment = TALLY__MESSAGE_RESULT__OUTCOME_ADJUSTMENT;
    const Tally__MessageResult__OutcomeCase refused = TALLY__MESSAGE_RESULT__OUTCOME_ERROR;
    char admin [TLY_ID_MAX], user [TLY_ID_MAX], purchase [TLY_ID_MAX];
    tly_account_id (fuzz_account (FUZZ_CLIENT_B)->sign_pk, admin);
    tly_account_id (fuzz_account (FUZZ_CLIENT_A)->sign_pk, user);
    tly_msg_t msgs [2];
    int rc = tly_msg_set_price (&msgs [0], "tea", 5, true, NULL);
    rc |= tly_msg_set_price (&msgs [1], "gum", 3, true, NULL);
    assert (rc == 0);
    corpus_step (self, "set-price-new", FUZZ_WORKER, msgs, 2, config, 0, NULL);
    rc = tly_msg_add_admin (&msgs [0], admin, NULL);
    assert (rc == 0);
    corpus_step (self, "add-admin", FUZZ_WORKER, msgs, 1, config, 0, NULL);
    rc = tly_msg_set_price (&msgs [0], "cake", 4, true, NULL);
    assert (rc == 0);
    corpus_step (self, "admin-set-price", FUZZ_CLIENT_B, msgs, 1, config, 0, NULL);
    rc = tly_msg_credit (&msgs [0], user, 25, "corpus-credit-1", "A credit by an admin", NULL);
    assert (rc == 0);
    corpus_step (self, "admin-credit", FUZZ_CLIENT_B, msgs, 1, adjustment, 0, NULL);
    rc = tly_msg_remove_admin (&msgs [0], admin, NULL);
    assert (rc == 0);
    corpus_step (self, "remove-admin", FUZZ_WORKER, msgs, 1, config, 0, NULL);
    rc = tly_msg_set_price (&msgs [0], "tea", 6, true, NULL);
    rc |= tly_msg_set_price (&msgs [1], "gum", 3, false, NULL);
    assert (rc == 0);
    corpus_step (self, "set-price-change", FUZZ_WORKER, msgs, 2, config, 0, NULL);

    rc = tly_msg_buy (&msgs [0], "tea", 0);
    assert (rc == 0);
    corpus_step (self, "buy-catalog", FUZZ_CLIENT_B, msgs, 1,
                 TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE, 0, purchase);
    uint64_t sub = corpus_subscribe (self, "subscribe-purchase", FUZZ_CLIENT_B, purchase,
                                     purchase_answer);
    corpus_reply_seed (self, *purchase_answer, "subscribe-purchase");
    rc = tly_msg_buy (&msgs [0], "tea", 5);
    assert (rc == 0);
    corpus_step (self, "buy-stale-price", FUZZ_CLIENT_A, msgs, 1, refused,
                 TALLY__ERROR_CODE__PRICE_MISMATCH, NULL);
    rc = tly_msg_buy (&msgs [0], "gum", 0);
    assert (rc == 0);
    corpus_step (self, "buy-off-sale", FUZZ_CLIENT_A, msgs, 1, refused,
                 TALLY__ERROR_CODE__UNKNOWN_ITEM, NULL);

    rc = tly_msg_refund (&msgs [0], purchase, "A refund by the worker", NULL);
    assert (rc == 0);
    corpus_step (self, "refund", FUZZ_WORKER, msgs, 1, adjustment, 0, NULL);
    rc = tly_msg_refund (&msgs [0], purchase, NULL, NULL);
    assert (rc == 0);
    corpus_step (self, "refund-again", FUZZ_WORKER, msgs, 1, refused,
                 TALLY__ERROR_CODE__ALREADY_REFUNDED, NULL);
    rc = tly_msg_refund (&msgs [0], purchase, NULL, NULL);
    assert (rc == 0);
    corpus_step (self, "refund-by-user", FUZZ_CLIENT_A, msgs, 1, refused,
                 TALLY__ERROR_CODE__PERMISSION_DENIED, NULL);
    return sub;
}

int
corpus_traffic (const char *gateway, const char *journal_dir, uint32_t partitions)
{
    corpus_traffic_t *self = calloc (1, sizeof *self);
    assert (self);
    self->dealer = zsock_new_dealer (gateway);
    if (!self->dealer) {
        fprintf (stderr, "fuzz_corpus: cannot connect to %s\n", gateway);
        return 1;
    }
    self->journal_dir = journal_dir;
    self->partitions = partitions;
    memcpy (self->worker, fuzz_account (FUZZ_WORKER)->sign_pk, TLY_KEY_BYTES);
    self->next_id = 1000;

    Tally__StatusRequest status = TALLY__STATUS_REQUEST__INIT;
    Tally__ClientRequest request = TALLY__CLIENT_REQUEST__INIT;
    request.body_case = TALLY__CLIENT_REQUEST__BODY_STATUS;
    request.status = &status;
    corpus_reply_seed (self, s_body (self, "status", &request), "status");
    tly_msg_t msgs [S_BULK_BATCH];
    tly_msg_create_account (&msgs [0], 1000);
    corpus_reply_seed (self, s_send (self, "create-a", FUZZ_CLIENT_A, msgs, 1, false), "create-a");
    tly_msg_create_account (&msgs [0], 50);
    corpus_reply_seed (self, s_send (self, "create-b", FUZZ_CLIENT_B, msgs, 1, false), "create-b");
    s_wait_signed (self);

    //  Client A follows its own objects, the worker's service info and the
    //  catalog (the first four as fuzz_sdk_watcher numbers them).
    const uint8_t *client = fuzz_account (FUZZ_CLIENT_A)->sign_pk;
    const char *names [S_SUBS] = { "balance", "purchases", "root", "service", "catalog" };
    char ids [S_SUBS][TLY_ID_MAX];
    tly_balance_id (client, partitions, ids [0]);
    tly_purchases_id (client, partitions, ids [1]);
    tly_root_id (client, partitions, ids [2]);
    tly_service_id (self->worker, ids [3]);
    tly_catalog_id (self->worker, ids [4]);
    uint64_t subs [S_SUBS];
    size_t answers [S_SUBS];
    for (int i = 0; i < S_SUBS; i++) {
        char name [64];
        snprintf (name, sizeof name, "subscribe-%s", names [i]);
        subs [i] = corpus_subscribe (self, name, FUZZ_CLIENT_A, ids [i], &answers [i]);
        corpus_reply_seed (self, answers [i], name);
    }
    char other [TLY_ID_MAX];
    size_t answer;
    tly_balance_id (fuzz_account (FUZZ_CLIENT_B)->sign_pk, partitions, other);
    corpus_subscribe (self, "subscribe-other", FUZZ_CLIENT_A, other, &answer);
    corpus_reply_seed (self, answer, "subscribe-other");

    corpus_reply_seed (self, s_buy (self, "buy", FUZZ_CLIENT_A, "apple", 5), "buy");
    tly_msg_buy (&msgs [0], "pear", 2);
    tly_msg_buy (&msgs [1], "fig", 3);
    tly_msg_buy (&msgs [2], "plum", 4);
    corpus_reply_seed (self, s_send (self, "buy-3", FUZZ_CLIENT_A, msgs, 3, false), "buy-3");
    corpus_reply_seed (self, s_buy (self, "buy-too-much", FUZZ_CLIENT_A, "car", 1000000),
                       "buy-too-much");
    corpus_reply_seed (self, s_buy (self, "buy-zero", FUZZ_CLIENT_A, "air", 0), "buy-zero");
    corpus_reply_seed (self, s_buy (self, "buy-no-item", FUZZ_CLIENT_A, "", 1), "buy-no-item");
    tly_msg_create_account (&msgs [0], 10);
    corpus_reply_seed (self, s_send (self, "create-again", FUZZ_CLIENT_A, msgs, 1, false),
                       "create-again");
    corpus_reply_seed (self, s_buy (self, "buy-b", FUZZ_CLIENT_B, "kiwi", 7), "buy-b");
    tly_msg_buy (&msgs [0], "lemon", 1);
    corpus_reply_seed (self, s_send (self, "bad-signature", FUZZ_CLIENT_A, msgs, 1, true),
                       "bad-signature");
    static const char junk [] = "not a ClientRequest";
    corpus_reply_seed (self, s_exchange (self, "junk", (const uint8_t *) junk, sizeof junk, 0),
                       "junk");
    Tally__Ping ping = TALLY__PING__INIT;
    request.body_case = TALLY__CLIENT_REQUEST__BODY_PING;
    request.ping = &ping;
    corpus_reply_seed (self, s_body (self, "ping", &request), "ping");
    s_wait_signed (self);
    Tally__Unsubscribe unsubscribe = TALLY__UNSUBSCRIBE__INIT;
    unsubscribe.object_id = ids [2];
    request.body_case = TALLY__CLIENT_REQUEST__BODY_UNSUBSCRIBE;
    request.unsubscribe = &unsubscribe;
    corpus_reply_seed (self, s_body (self, "unsubscribe", &request), "unsubscribe");
    size_t purchase_answer;
    uint64_t purchase_sub = s_catalog (self, &purchase_answer);
    corpus_sub_t order_subs [CORPUS_ORDER_SUBS];
    corpus_orders (self, partitions, order_subs);

    //  Enough records for the journal to roll to new segments.
    for (int send = 0; send < S_BULK_SENDS; send++) {
        for (int i = 0; i < S_BULK_BATCH; i++) {
            char item [32];
            snprintf (item, sizeof item, "item-%d", send * S_BULK_BATCH + i);
            tly_msg_buy (&msgs [i], item, 1);
        }
        size_t done = s_send (self, send == 0 ? "buy-8" : "bulk", FUZZ_CLIENT_A, msgs, S_BULK_BATCH,
                              false);
        if (send == 0)
            corpus_reply_seed (self, done, "buy-8");
    }
    //  The last pushes.
    while (s_take (self, tly_mono_ms () + S_QUIET_MS))
        ;
    s_wait_signed (self);
    for (int i = 0; i < S_SUBS; i++)
        s_watcher_seeds (self, subs [i], answers [i], i < S_WATCHED ? i : -1, names [i]);
    s_watcher_seeds (self, purchase_sub, purchase_answer, -1, "tea-purchase");
    //  fuzz_sdk_watcher's setup byte picks four objects, all taken: the
    //  orders' objects are seeds of sdk_reply and wire only.
    for (int i = 0; i < CORPUS_ORDER_SUBS; i++)
        s_watcher_seeds (self, order_subs [i].request_id, order_subs [i].answer, -1,
                         order_subs [i].name);
    for (size_t i = 0; i < self->reply_count; i++)
        free (self->replies [i].bytes);
    zsock_destroy (&self->dealer);
    free (self);
    return 0;
}
