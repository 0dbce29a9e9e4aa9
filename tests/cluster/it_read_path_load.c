//  it_read_path_load - the read path's load cases: five subscribers while
//  1,000 buys run concurrently through both gateways (many), and a raw
//  client that stops reading while 20,000 buys run, which must not slow
//  the others and is resynced with a fresh snapshot when it reads again
//  (slow). Apart from the other cases: they run buyer threads, and the slow
//  one speaks the wire protocol itself.
#include "it_read_path.h"

#include <czmq.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "tly_curve.h"
#include "tly_sign.h"
#include "tly_wire.h"

//  Five subscribers while 1,000 buys run concurrently.
enum {
    S_WATCHERS = 5,
    S_BUYS = 1000,
    S_BUYERS = 4
};

typedef struct {
    const char *gateway;
    const char *worker_id;
    rp_user_t *user;
    rp_seen_t seen;
    volatile bool *done;
    int64_t final;
} s_sub_thread_t;

static bool
s_reached_final (void *arg)
{
    s_sub_thread_t *sub = arg;
    pthread_mutex_lock (&sub->seen.lock);
    bool reached = *sub->done && sub->seen.count > 0
                   && sub->seen.balance [sub->seen.count - 1] == sub->final;
    pthread_mutex_unlock (&sub->seen.lock);
    return reached;
}

static void *
s_subscriber (void *arg)
{
    s_sub_thread_t *sub = arg;
    tly_watcher_t *watcher = rp_watcher (sub->gateway, sub->worker_id, sub->user);
    rp_subscribe (watcher, sub->user->balance_id, &sub->seen);
    CHECK (rp_dispatch_until (watcher, s_reached_final, sub, 60000));
    tly_watcher_destroy (&watcher);
    return NULL;
}

typedef struct {
    const char *gateway;
    const char *worker_id;
    rp_user_t *user;
    int buys;
    int batch;  //  messages per envelope, <= S_BATCH_MAX
} s_buyer_t;

#define S_BATCH_MAX 100

static void *
s_buyer (void *arg)
{
    s_buyer_t *buyer = arg;
    tly_sender_t *sender = tly_sender_new_curve (buyer->gateway, it_gateway_key, buyer->worker_id,
                                                 &buyer->user->account);
    static __thread tly_msg_t msgs [S_BATCH_MAX];
    static __thread tly_result_t results [S_BATCH_MAX];
    CHECK (buyer->batch >= 1 && buyer->batch <= S_BATCH_MAX && buyer->buys % buyer->batch == 0);
    for (int i = 0; i < buyer->buys; i += buyer->batch) {
        for (int k = 0; k < buyer->batch; k++)
            tly_msg_buy (&msgs [k], "load", 1);
        rp_send (sender, msgs, (size_t) buyer->batch, results);
        for (int k = 0; k < buyer->batch; k++)
            CHECK (results [k].ok);
    }
    tly_sender_destroy (&sender);
    return NULL;
}

void
rp_case_many (it_cluster_t *cluster)
{
    rp_user_t user;
    rp_user_new (&user);
    rp_create (cluster->gateway, cluster->worker_id, &user, 2 * S_BUYS);
    char second [64];
    it_gateway_endpoint (cluster, 2, second, sizeof second);
    volatile bool done = false;
    s_sub_thread_t subs [S_WATCHERS];
    pthread_t sub_threads [S_WATCHERS];
    for (int i = 0; i < S_WATCHERS; i++) {
        memset (&subs [i], 0, sizeof subs [i]);
        subs [i].gateway = i % 2 ? second : cluster->gateway;
        subs [i].worker_id = cluster->worker_id;
        subs [i].user = &user;
        subs [i].done = &done;
        subs [i].final = S_BUYS;
        rp_seen_init (&subs [i].seen);
        CHECK (pthread_create (&sub_threads [i], NULL, s_subscriber, &subs [i]) == 0);
    }
    //  Every subscriber holds its snapshot before the load starts.
    for (int i = 0; i < S_WATCHERS; i++) {
        int64_t deadline = tly_mono_ms () + RP_TIMEOUT_MS;
        while (rp_seen_count (&subs [i].seen) == 0)
            CHECK (tly_mono_ms () < deadline);
    }
    s_buyer_t buyers [S_BUYERS];
    pthread_t buyer_threads [S_BUYERS];
    for (int i = 0; i < S_BUYERS; i++) {
        buyers [i] = (s_buyer_t) { i % 2 ? second : cluster->gateway, cluster->worker_id, &user,
                                   S_BUYS / S_BUYERS, 5 };
        CHECK (pthread_create (&buyer_threads [i], NULL, s_buyer, &buyers [i]) == 0);
    }
    for (int i = 0; i < S_BUYERS; i++)
        CHECK (pthread_join (buyer_threads [i], NULL) == 0);
    done = true;
    for (int i = 0; i < S_WATCHERS; i++) {
        CHECK (pthread_join (sub_threads [i], NULL) == 0);
        rp_seen_t *seen = &subs [i].seen;
        //  Versions contiguous from the snapshot, no duplicates; a resync
        //  snapshot may replace a run of updates but never goes back.
        for (size_t k = 1; k < seen->count; k++) {
            if (seen->snapshot [k])
                CHECK (seen->version [k] > seen->version [k - 1]);
            else
                CHECK (seen->version [k] == seen->version [k - 1] + 1);
        }
        CHECK (seen->balance [seen->count - 1] == S_BUYS);
        CHECK (seen->version [seen->count - 1] == 1 + S_BUYS);
        printf ("many: subscriber %d saw %zu versions, final balance %lld\n", i, seen->count,
                (long long) seen->balance [seen->count - 1]);
        rp_seen_free (seen);
    }
}

//  A raw client that stops reading: tiny receive queues, so the gateway's
//  per-client queue fills quickly.
static void
s_raw_subscribe (zsock_t *dealer, const rp_user_t *user, const char *object_id, uint64_t request_id)
{
    Tally__Subscribe subscribe = TALLY__SUBSCRIBE__INIT;
    subscribe.reader.data = (uint8_t *) user->account.sign_pk;
    subscribe.reader.len = TLY_KEY_BYTES;
    subscribe.object_id = (char *) object_id;
    subscribe.timestamp_ms = tly_now_ms ();
    uint8_t body [256];
    size_t size = tally__subscribe__pack (&subscribe, body);
    CHECK (size < sizeof body);
    uint8_t signature [TLY_SIGNATURE_BYTES];
    tly_sign_domain (TLY_DOMAIN_SUBSCRIBE, user->account.sign_sk, body, size, signature);
    Tally__SignedSubscribe signed_subscribe = TALLY__SIGNED_SUBSCRIBE__INIT;
    signed_subscribe.subscribe = (ProtobufCBinaryData) { size, body };
    signed_subscribe.signature = (ProtobufCBinaryData) { sizeof signature, signature };
    Tally__ClientRequest request = TALLY__CLIENT_REQUEST__INIT;
    request.request_id = request_id;
    request.body_case = TALLY__CLIENT_REQUEST__BODY_SUBSCRIBE;
    request.subscribe = &signed_subscribe;
    CHECK (tly_wire_send (zsock_resolve (dealer), NULL, &request.base) == 0);
}

static zsock_t *
s_raw_subscriber (const char *gateway, const rp_user_t *user, const char *object_id)
{
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    CHECK (dealer);
    zsock_set_linger (dealer, 0);
    //  A small queue, but the kernel's default receive buffer: a window far
    //  below the loopback MSS makes draining the backlog crawl.
    zsock_set_rcvhwm (dealer, 1);
    char error [512];
    CHECK (!it_gateway_key
           || tly_curve_client_of (dealer, it_gateway_key, error, sizeof error) == 0);
    CHECK (zsock_connect (dealer, "%s", gateway) == 0);
    s_raw_subscribe (dealer, user, object_id, 1);
    return dealer;
}

//  Reads one ClientReply from the raw client: its push kind, error code and
//  the object's version (0 when none).
static bool
s_raw_read (zsock_t *dealer, int timeout_ms, Tally__PushKind *push, Tally__ErrorCode *code,
            uint64_t *version)
{
    zpoller_t *poller = zpoller_new (dealer, NULL);
    bool got = zpoller_wait (poller, timeout_ms) != NULL;
    zpoller_destroy (&poller);
    if (!got)
        return false;
    zframe_t *frame = zframe_recv (dealer);
    CHECK (frame);
    Tally__ClientReply *reply = tally__client_reply__unpack (NULL, zframe_size (frame),
                                                             zframe_data (frame));
    zframe_destroy (&frame);
    CHECK (reply);
    *push = reply->push;
    *code = reply->error ? reply->error->code : TALLY__ERROR_CODE__OK;
    *version = 0;
    if (reply->object) {
        Tally__ObjectState *state = tally__object_state__unpack (NULL, reply->object->state.len,
                                                                 reply->object->state.data);
        CHECK (state);
        *version = state->version;
        tally__object_state__free_unpacked (state, NULL);
    }
    tally__client_reply__free_unpacked (reply, NULL);
    return true;
}

//  A client that stops reading does not slow the others; when it reads
//  again it is resynced with a fresh snapshot (SLOW_CONSUMER).
//  Enough updates to fill the kernel's socket buffers as well as the
//  gateway's per-client queue.
enum {
    S_SLOW_BUYS = 20000
};

void
rp_case_slow (it_cluster_t *cluster)
{
    rp_user_t user;
    rp_user_new (&user);
    rp_create (cluster->gateway, cluster->worker_id, &user, 2 * S_SLOW_BUYS);
    tly_watcher_t *fast = rp_watcher (cluster->gateway, cluster->worker_id, &user);
    rp_seen_t fast_seen;
    rp_seen_init (&fast_seen);
    rp_subscribe (fast, user.balance_id, &fast_seen);
    zsock_t *slow = s_raw_subscriber (cluster->gateway, &user, user.balance_id);
    Tally__PushKind push;
    Tally__ErrorCode code;
    uint64_t version;
    CHECK (s_raw_read (slow, RP_TIMEOUT_MS, &push, &code, &version));
    CHECK (push == TALLY__PUSH_KIND__NOT_PUSHED && code == TALLY__ERROR_CODE__OK && version == 1);
    s_raw_subscribe (slow, &user, user.purchases_id, 3);
    CHECK (s_raw_read (slow, RP_TIMEOUT_MS, &push, &code, &version));
    CHECK (push == TALLY__PUSH_KIND__NOT_PUSHED && code == TALLY__ERROR_CODE__OK && version == 1);

    //  The slow client stops reading while 1,000 buys run; the fast one must
    //  see every update as it happens.
    s_buyer_t buyer = { cluster->gateway, cluster->worker_id, &user, S_SLOW_BUYS, 10 };
    pthread_t thread;
    int64_t start = tly_mono_ms ();
    CHECK (pthread_create (&thread, NULL, s_buyer, &buyer) == 0);
    rp_want_t want = { &fast_seen, 1 + S_SLOW_BUYS };
    CHECK (rp_dispatch_until (fast, rp_has_count, &want, 60000));
    CHECK (pthread_join (thread, NULL) == 0);
    rp_check_contiguous (&fast_seen, S_SLOW_BUYS, S_SLOW_BUYS);
    int64_t fast_ms = tly_mono_ms () - start;
    printf ("slow: fast client saw all %d updates in %lld ms\n", S_SLOW_BUYS, (long long) fast_ms);

    //  Now the slow one reads (and pings, as clients do): it was told it fell
    //  behind (a SNAPSHOT push with SLOW_CONSUMER) and ends at the final version.
    bool resynced = false;
    uint64_t last = 0;
    //  Draining what was queued takes about as long as the buys that queued
    //  it, and far longer on a loaded machine in a sanitizer build (86 s
    //  once, after 56 s of buys): the deadline is on progress, 30 s without
    //  a new version or a snapshot (a ping's answer is not progress).
    int64_t progress_ms = tly_mono_ms ();
    while (!(resynced && last == 1 + S_SLOW_BUYS)) {
        CHECK (tly_mono_ms () - progress_ms < 30000);
        if (!s_raw_read (slow, 200, &push, &code, &version)) {
            Tally__Ping ping = TALLY__PING__INIT;
            Tally__ClientRequest request = TALLY__CLIENT_REQUEST__INIT;
            request.request_id = 2;
            request.body_case = TALLY__CLIENT_REQUEST__BODY_PING;
            request.ping = &ping;
            CHECK (tly_wire_send (zsock_resolve (slow), NULL, &request.base) == 0);
            continue;
        }
        if (push == TALLY__PUSH_KIND__SNAPSHOT && code == TALLY__ERROR_CODE__SLOW_CONSUMER)
            resynced = true;
        if (push == TALLY__PUSH_KIND__SNAPSHOT || (version && version != last))
            progress_ms = tly_mono_ms ();
        if (version)
            last = version;
    }
    printf ("slow: slow client resynced with SLOW_CONSUMER and reached version %llu\n",
            (unsigned long long) last);
    zsock_destroy (&slow);
    tly_watcher_destroy (&fast);
    rp_seen_free (&fast_seen);
}
