//  fuzz_sdk_watcher - libFuzzer target: any run of ClientReplies as what a
//  gateway sends a watcher (tly_watcher_on_reply: answers to a subscribe,
//  pushed updates, resync snapshots, ends, pings), for one subscription.
//
//  Input: one byte of setup, then chunks (fuzz_support.h), each a
//  ClientReply. Setup bit 0: the subscription waits for its first answer
//  (0) or is live at version 1 + (setup >> 4) (1); bits 1-2 pick the object (the
//  balance, purchase log, root of test client A, or the worker's service
//  info); bit 3: a ping is awaiting its answer. A chunk's tag bit 0 signs
//  its object again by the test worker; bit 1 addresses it to the
//  subscription's request ID of the moment (which changes when the watcher
//  subscribes again).
//
//  What the application sees must hold: every callback is for the
//  subscribed object and of its kind; an update is exactly the version
//  after the last one delivered, and only after a snapshot; nothing comes
//  after the end; the subscription is gone only once ended; a waiting
//  subscribe is answered with a delivered snapshot or a refusal with a
//  reason; the statistics never go back.
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"
#include "tly_log.h"
#include "tly_object.h"
#include "tly_watcher_private.h"

//  The partitions of the cluster the corpus was captured from (make_corpus.sh).
#define S_PARTITIONS 4
#define S_REQUEST_ID 0x5eed0001ULL
#define S_PING_ID    0x5eed0002ULL

//  What the callback has seen of the subscription.
typedef struct {
    char id [TLY_ID_MAX];
    tly_object_kind_t kind;
    bool live;  //  a snapshot was delivered
    uint64_t version;
    bool ended;
} s_seen_t;

static tly_watcher_t *s_watcher;

static void
s_on_object (const tly_object_t *object, void *arg)
{
    s_seen_t *seen = arg;
    assert (!seen->ended);
    assert (strcmp (object->id, seen->id) == 0 && object->kind == seen->kind);
    if (object->ended) {
        seen->ended = true;
        return;
    }
    assert (object->version >= 1);
    if (!object->snapshot)
        assert (seen->live && object->version == seen->version + 1);
    seen->live = true;
    seen->version = object->version;
}

static void
s_watcher_destroy (void)
{
    tly_watcher_destroy (&s_watcher);
}

static tly_watcher_t *
s_watcher_new (void)
{
    tly_log_init ("fuzz_sdk_watcher", TLY_ERROR);
    char worker_id [TLY_ID_MAX];
    tly_account_id (fuzz_account (FUZZ_WORKER)->sign_pk, worker_id);
    //  A gateway that is never there: every subscribe the watcher sends
    //  again fails to go, and waits for a retry.
    tly_watcher_t *watcher = tly_watcher_new ("inproc://fuzz-sdk-watcher-gateway", worker_id,
                                              fuzz_account (FUZZ_CLIENT_A));
    assert (watcher);
    atexit (s_watcher_destroy);
    return watcher;
}

static void
s_subscribe (uint8_t setup, s_seen_t *seen)
{
    const uint8_t *client = fuzz_account (FUZZ_CLIENT_A)->sign_pk;
    switch ((setup >> 1) & 3) {
        case 0: tly_balance_id (client, S_PARTITIONS, seen->id); break;
        case 1: tly_purchases_id (client, S_PARTITIONS, seen->id); break;
        case 2: tly_root_id (client, S_PARTITIONS, seen->id); break;
        default: tly_service_id (fuzz_account (FUZZ_WORKER)->sign_pk, seen->id);
    }
    int rc = tly_object_canonical_id (seen->id, seen->id, &seen->kind);
    assert (rc == 0);
    tly_sub_t *sub = calloc (1, sizeof *sub);
    assert (sub);
    memcpy (sub->object_id, seen->id, sizeof sub->object_id);
    sub->kind = seen->kind;
    sub->fn = s_on_object;
    sub->arg = seen;
    sub->request_id = S_REQUEST_ID;
    if (setup & 1) {
        sub->state = TLY_SUB_LIVE;
        sub->version = 1 + (setup >> 4);
        seen->live = true;
        seen->version = sub->version;
    } else {
        sub->state = TLY_SUB_WAITING;
        sub->first = true;
    }
    s_watcher->subs [s_watcher->sub_count++] = sub;
    s_watcher->outcome = TLY_OUTCOME_PENDING;
    s_watcher->ping_id = setup & 8 ? S_PING_ID : 0;
    s_watcher->unsubscribe_id = 0;
    memset (&s_watcher->error, 0, sizeof s_watcher->error);
}

static void
s_check_stats (const tly_watcher_stats_t *before, const tly_watcher_stats_t *after)
{
    assert (after->rejected >= before->rejected && after->duplicates >= before->duplicates
            && after->gaps >= before->gaps && after->resubscribes >= before->resubscribes);
}

//  After each reply: the watcher's view agrees with what was delivered.
static void
s_check_state (const s_seen_t *seen)
{
    assert (!s_watcher->in_callback && s_watcher->sub_count <= 1);
    assert ((s_watcher->sub_count == 0) == seen->ended);
    if (s_watcher->sub_count == 1) {
        const tly_sub_t *sub = s_watcher->subs [0];
        assert (strcmp (sub->object_id, seen->id) == 0);
        if (sub->state == TLY_SUB_LIVE)
            assert (seen->live && sub->version == seen->version);
    }
    if (s_watcher->outcome == TLY_OUTCOME_DELIVERED)
        assert (seen->live);
    if (s_watcher->outcome == TLY_OUTCOME_REFUSED)
        assert (s_watcher->error.message [0]);
}

static void
s_feed (const fuzz_chunk_t *chunk, s_seen_t *seen)
{
    Tally__ClientReply *reply = tally__client_reply__unpack (NULL, chunk->size, chunk->data);
    if (!reply)
        return;
    if ((chunk->tag & 1) && reply->object)
        fuzz_sign_into (&reply->object->signature, TLY_DOMAIN_OBJECT, fuzz_account (FUZZ_WORKER),
                        reply->object->state.data, reply->object->state.len);
    if ((chunk->tag & 2) && s_watcher->sub_count == 1)
        reply->request_id = s_watcher->subs [0]->request_id;
    tly_watcher_stats_t before = s_watcher->stats;
    tly_watcher_on_reply (s_watcher, reply);
    s_check_stats (&before, &s_watcher->stats);
    s_check_state (seen);
    tally__client_reply__free_unpacked (reply, NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (!s_watcher)
        s_watcher = s_watcher_new ();
    s_seen_t seen = { .live = false };
    s_subscribe (data [0], &seen);
    fuzz_input_t input = { data + 1, data + size };
    fuzz_chunk_t chunk;
    //  A refused first answer ends tly_watcher_subscribe, which forgets
    //  the subscription: nothing more reaches it.
    while (s_watcher->outcome != TLY_OUTCOME_REFUSED && fuzz_chunk_next (&input, &chunk))
        s_feed (&chunk, &seen);
    while (s_watcher->sub_count > 0)
        tly_watcher_remove (s_watcher, s_watcher->subs [0]);
    return 0;
}
