//  make_corpus - fuzz_corpus, the program tests/fuzz/make_corpus.sh runs to
//  write the seed corpus (tests/fuzz/corpus/<target>/) from a real cluster
//  that `tally up` runs with the test worker (fuzz_support.h). The build
//  does not need it: only `cmake --build build-fuzz --target fuzz_corpus`
//  makes it.
//
//    fuzz_corpus worker FILE
//        the test worker as an account file (`tally up`'s worker.json)
//    fuzz_corpus accounts OUT
//        the test accounts' files, IDs and secrets (account_load, base58)
//    fuzz_corpus traffic GATEWAY JOURNAL_DIR PARTITIONS OUT
//        talks to the gateway as the test clients: accounts, buys (taken and
//        refused), subscriptions, status, pings, a junk frame; writes what it
//        sent (client_frame, wire) and what came back (sdk_reply,
//        sdk_watcher, wire)
//    fuzz_corpus snapshots AUDIT_ENDPOINT PARTITIONS OUT
//        asks the audit writer for each partition's snapshot (snapshot_load)
//    fuzz_corpus journal JOURNAL_DIR OUT
//        the journal's first records, segment starts and checkpoints
//        (journal_verify, wire)
//
//  A seed is kept to S_SEED_MAX bytes, so that the corpus stays small.
#include <assert.h>
#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_support.h"
#include "tally.h"
#include "tly_bytes.h"
#include "tly_codec.h"
#include "tly_journal.h"
#include "tly_wire.h"

#define S_SEED_MAX     4096
#define S_REPLIES_MAX  8192
#define S_WAIT_MS      10000
#define S_QUIET_MS     1000
#define S_BULK_SENDS   80
#define S_BULK_BATCH   8
#define S_CHUNKS_MAX   8
#define S_RECORDS_MAX  6
#define S_PARTS_MAX    8
#define S_SEGMENTS_MAX 3  //  segment starts made seeds
//  fuzz_wire's first byte: the index of a message type in its table.
#define S_WIRE_REQUEST 0
#define S_WIRE_REPLY   1
#define S_WIRE_SIGNED  2
#define S_WIRE_ENV     3
#define S_WIRE_AUDIT   11
#define S_WIRE_STORED  12
#define S_WIRE_BODY    13
#define S_WIRE_OBJECT  15
#define S_WIRE_STATE   16
#define S_WIRE_CKPT    17

static const char *s_out;

//  ---------------------------------------------------------------- files

static void
s_mkdir (const char *path)
{
    if (mkdir (path, 0755) == -1 && errno != EEXIST) {
        fprintf (stderr, "fuzz_corpus: cannot create %s: %s\n", path, strerror (errno));
        exit (1);
    }
}

//  Writes one seed, OUT/target/name, unless it is over S_SEED_MAX.
static void
s_seed (const char *target, const char *name, const uint8_t *bytes, size_t size)
{
    if (size > S_SEED_MAX) {
        fprintf (stderr, "fuzz_corpus: %s/%s left out (%zu bytes)\n", target, name, size);
        return;
    }
    char path [PATH_MAX];
    s_mkdir (s_out);
    snprintf (path, sizeof path, "%s/%s", s_out, target);
    s_mkdir (path);
    snprintf (path, sizeof path, "%s/%s/%s", s_out, target, name);
    FILE *file = fopen (path, "wb");
    if (!file || (size && fwrite (bytes, 1, size, file) != size) || fclose (file) != 0) {
        fprintf (stderr, "fuzz_corpus: cannot write %s\n", path);
        exit (1);
    }
}

//  A seed for fuzz_wire: the type's index, then the bytes.
static void
s_wire_seed (uint8_t type, const char *name, const uint8_t *bytes, size_t size)
{
    uint8_t *seed = malloc (size + 1);
    assert (seed);
    seed [0] = type;
    memcpy (seed + 1, bytes, size);
    s_seed ("fuzz_wire", name, seed, size + 1);
    free (seed);
}

//  A seed made of chunks, built in memory.
typedef struct {
    char *bytes;
    size_t size;
    FILE *file;
} s_chunks_t;

static void
s_chunks_open (s_chunks_t *self, uint8_t first)
{
    self->file = open_memstream (&self->bytes, &self->size);
    assert (self->file);
    fputc (first, self->file);
}

static void
s_chunks_add (s_chunks_t *self, uint8_t tag, const uint8_t *data, size_t size)
{
    int rc = fuzz_chunk_write (self->file, tag, data, size);
    assert (rc == 0);
}

static void
s_chunks_close (s_chunks_t *self, const char *target, const char *name)
{
    fclose (self->file);
    s_seed (target, name, (const uint8_t *) self->bytes, self->size);
    free (self->bytes);
}

//  ---------------------------------------------------------------- accounts

static void
s_account_file (FILE *file, fuzz_account_t which, const char *name)
{
    char id [TLY_ID_MAX], secret [TLY_SECRET_MAX];
    tly_account_id (fuzz_account (which)->sign_pk, id);
    tly_account_secret (fuzz_account (which), secret);
    fprintf (file, "{\"account\":\"%s\",\"secret\":\"%s\",\"name\":\"%s\"}\n", id, secret, name);
}

static int
s_worker (const char *path)
{
    FILE *file = fopen (path, "w");
    if (!file) {
        fprintf (stderr, "fuzz_corpus: cannot write %s: %s\n", path, strerror (errno));
        return 1;
    }
    s_account_file (file, FUZZ_WORKER, "tally up worker");
    return fclose (file) == 0 ? 0 : 1;
}

static int
s_accounts (void)
{
    const char *names [FUZZ_ACCOUNTS] = { "worker", "client-a", "client-b" };
    for (int i = 0; i < FUZZ_ACCOUNTS; i++) {
        char *bytes;
        size_t size;
        FILE *file = open_memstream (&bytes, &size);
        s_account_file (file, (fuzz_account_t) i, names [i]);
        fclose (file);
        char name [64];
        snprintf (name, sizeof name, "%s.json", names [i]);
        s_seed ("fuzz_account_load", name, (const uint8_t *) bytes, size);
        free (bytes);
        //  As the two values of tly_account_from_env: ID, newline, secret.
        char id [TLY_ID_MAX], secret [TLY_SECRET_MAX], values [TLY_ID_MAX + TLY_SECRET_MAX];
        tly_account_id (fuzz_account ((fuzz_account_t) i)->sign_pk, id);
        tly_account_secret (fuzz_account ((fuzz_account_t) i), secret);
        int length = snprintf (values, sizeof values, "%s\n%s", id, secret);
        snprintf (name, sizeof name, "%s.env", names [i]);
        s_seed ("fuzz_account_load", name, (const uint8_t *) values, (size_t) length);
        //  base58: the ID's and the secret's parts, without their prefixes.
        snprintf (name, sizeof name, "%s-id", names [i]);
        s_seed ("fuzz_base58", name, (const uint8_t *) id + 4, strlen (id) - 4);
        const char *signer = strchr (secret, '/') + 1 + strlen (TLY_SIGNER_PREFIX);
        snprintf (name, sizeof name, "%s-signer", names [i]);
        s_seed ("fuzz_base58", name, (const uint8_t *) signer, strlen (signer));
    }
    return 0;
}

//  ---------------------------------------------------------------- traffic

typedef struct {
    uint8_t *bytes;
    size_t size;
    uint64_t request_id;
    Tally__PushKind push;
} s_reply_t;

typedef struct {
    zsock_t *dealer;
    const char *journal_dir;
    uint32_t partitions;
    uint8_t worker [TLY_KEY_BYTES];
    uint64_t next_id;
    s_reply_t replies [S_REPLIES_MAX];
    size_t reply_count;
} s_traffic_t;

//  Takes one frame when one comes before deadline (monotonic ms).
static bool
s_take (s_traffic_t *self, int64_t deadline)
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

//  Sends request (seeds of client_frame and wire named name) and takes
//  frames until its answer. Returns the answer's index.
static size_t
s_exchange (s_traffic_t *self, const char *name, const uint8_t *request, size_t size,
            uint64_t request_id)
{
    s_seed ("fuzz_client_frame", name, request, size);
    s_wire_seed (S_WIRE_REQUEST, name, request, size);
    int rc = zmq_send (zsock_resolve (self->dealer), request, size, 0);
    assert (rc == (int) size);
    int64_t deadline = tly_mono_ms () + S_WAIT_MS;
    while (s_take (self, deadline)) {
        const s_reply_t *last = &self->replies [self->reply_count - 1];
        if (last->push == TALLY__PUSH_KIND__NOT_PUSHED
            && (last->request_id == request_id || last->request_id == 0))
            return self->reply_count - 1;
    }
    fprintf (stderr, "fuzz_corpus: no answer to %s within %d ms\n", name, S_WAIT_MS);
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
s_send (s_traffic_t *self, const char *name, fuzz_account_t who, const tly_msg_t *msgs, size_t n,
        bool spoil)
{
    uint8_t *sealed;
    size_t sealed_size;
    int rc = tly_codec_seal (fuzz_account (who), self->worker, msgs, n, tly_now_ms (), &sealed,
                             &sealed_size);
    assert (rc == 0);
    if (spoil)
        sealed [sealed_size - 1] ^= 1;  //  the signature's last byte
    else {
        s_wire_seed (S_WIRE_SIGNED, name, sealed, sealed_size);
        Tally__SignedEnvelope *envelope = tally__signed_envelope__unpack (NULL, sealed_size,
                                                                          sealed);
        s_wire_seed (S_WIRE_ENV, name, envelope->envelope.data, envelope->envelope.len);
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

static size_t
s_buy (s_traffic_t *self, const char *name, fuzz_account_t who, const char *item, int64_t amount)
{
    tly_msg_t msg;
    int rc = tly_msg_buy (&msg, item, amount);
    assert (rc == 0);
    return s_send (self, name, who, &msg, 1, false);
}

static size_t
s_body (s_traffic_t *self, const char *name, Tally__ClientRequest *request)
{
    request->request_id = ++self->next_id;
    size_t size;
    uint8_t *bytes = s_request (request, &size);
    size_t answer = s_exchange (self, name, bytes, size, request->request_id);
    free (bytes);
    return answer;
}

static uint64_t
s_subscribe (s_traffic_t *self, const char *name, fuzz_account_t who, const char *object_id,
             size_t *answer)
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
s_wait_signed (s_traffic_t *self)
{
    int64_t deadline = tly_mono_ms () + S_WAIT_MS;
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

static void
s_reply_seed (s_traffic_t *self, size_t index, const char *name)
{
    const s_reply_t *reply = &self->replies [index];
    s_seed ("fuzz_sdk_reply", name, reply->bytes, reply->size);
    s_wire_seed (S_WIRE_REPLY, name, reply->bytes, reply->size);
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
//  pushes alone, live at the answer's version.
static void
s_watcher_seeds (s_traffic_t *self, uint64_t request_id, size_t answer, int object,
                 const char *name)
{
    char seed_name [64];
    s_chunks_t seed;
    s_chunks_open (&seed, (uint8_t) (object << 1));
    size_t chunks = 0;
    for (size_t i = answer; i < self->reply_count && chunks < S_CHUNKS_MAX; i++)
        if (self->replies [i].request_id == request_id) {
            s_chunks_add (&seed, 2, self->replies [i].bytes, self->replies [i].size);
            chunks++;
        }
    snprintf (seed_name, sizeof seed_name, "%s-subscribe", name);
    s_chunks_close (&seed, "fuzz_sdk_watcher", seed_name);

    uint64_t version = s_version (&self->replies [answer]);
    if (version == 0 || version > 16)
        return;
    s_chunks_open (&seed, (uint8_t) (1 | object << 1 | (version - 1) << 4));
    chunks = 0;
    for (size_t i = answer + 1; i < self->reply_count && chunks < S_CHUNKS_MAX; i++)
        if (self->replies [i].request_id == request_id) {
            s_chunks_add (&seed, 2, self->replies [i].bytes, self->replies [i].size);
            if (chunks++ == 0) {
                snprintf (seed_name, sizeof seed_name, "%s-update", name);
                s_reply_seed (self, i, seed_name);
            }
        }
    snprintf (seed_name, sizeof seed_name, "%s-live", name);
    if (chunks > 0)
        s_chunks_close (&seed, "fuzz_sdk_watcher", seed_name);
    else {
        fclose (seed.file);
        free (seed.bytes);
    }

    //  The object itself, for fuzz_wire.
    const s_reply_t *kept = &self->replies [answer];
    Tally__ClientReply *reply = tally__client_reply__unpack (NULL, kept->size, kept->bytes);
    if (reply->object) {
        size_t size;
        uint8_t *bytes = fuzz_pack (&reply->object->base, &size);
        s_wire_seed (S_WIRE_OBJECT, name, bytes, size);
        free (bytes);
        s_wire_seed (S_WIRE_STATE, name, reply->object->state.data, reply->object->state.len);
    }
    tally__client_reply__free_unpacked (reply, NULL);
}

static int
s_traffic (const char *gateway, const char *journal_dir, uint32_t partitions)
{
    s_traffic_t *self = calloc (1, sizeof *self);
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
    s_reply_seed (self, s_body (self, "status", &request), "status");
    tly_msg_t msgs [S_BULK_BATCH];
    tly_msg_create_account (&msgs [0], 1000);
    s_reply_seed (self, s_send (self, "create-a", FUZZ_CLIENT_A, msgs, 1, false), "create-a");
    tly_msg_create_account (&msgs [0], 50);
    s_reply_seed (self, s_send (self, "create-b", FUZZ_CLIENT_B, msgs, 1, false), "create-b");
    s_wait_signed (self);

    //  Client A follows its own objects and the worker's service info.
    const uint8_t *client = fuzz_account (FUZZ_CLIENT_A)->sign_pk;
    const char *names [4] = { "balance", "purchases", "root", "service" };
    char ids [4][TLY_ID_MAX];
    tly_balance_id (client, partitions, ids [0]);
    tly_purchases_id (client, partitions, ids [1]);
    tly_root_id (client, partitions, ids [2]);
    tly_service_id (self->worker, ids [3]);
    uint64_t subs [4];
    size_t answers [4];
    for (int i = 0; i < 4; i++) {
        char name [64];
        snprintf (name, sizeof name, "subscribe-%s", names [i]);
        subs [i] = s_subscribe (self, name, FUZZ_CLIENT_A, ids [i], &answers [i]);
        s_reply_seed (self, answers [i], name);
    }
    char other [TLY_ID_MAX];
    size_t answer;
    tly_balance_id (fuzz_account (FUZZ_CLIENT_B)->sign_pk, partitions, other);
    s_subscribe (self, "subscribe-other", FUZZ_CLIENT_A, other, &answer);
    s_reply_seed (self, answer, "subscribe-other");

    s_reply_seed (self, s_buy (self, "buy", FUZZ_CLIENT_A, "apple", 5), "buy");
    tly_msg_buy (&msgs [0], "pear", 2);
    tly_msg_buy (&msgs [1], "fig", 3);
    tly_msg_buy (&msgs [2], "plum", 4);
    s_reply_seed (self, s_send (self, "buy-3", FUZZ_CLIENT_A, msgs, 3, false), "buy-3");
    s_reply_seed (self, s_buy (self, "buy-too-much", FUZZ_CLIENT_A, "car", 1000000),
                  "buy-too-much");
    s_reply_seed (self, s_buy (self, "buy-zero", FUZZ_CLIENT_A, "air", 0), "buy-zero");
    s_reply_seed (self, s_buy (self, "buy-no-item", FUZZ_CLIENT_A, "", 1), "buy-no-item");
    tly_msg_create_account (&msgs [0], 10);
    s_reply_seed (self, s_send (self, "create-again", FUZZ_CLIENT_A, msgs, 1, false),
                  "create-again");
    s_reply_seed (self, s_buy (self, "buy-b", FUZZ_CLIENT_B, "kiwi", 7), "buy-b");
    tly_msg_buy (&msgs [0], "lemon", 1);
    s_reply_seed (self, s_send (self, "bad-signature", FUZZ_CLIENT_A, msgs, 1, true),
                  "bad-signature");
    static const char junk [] = "not a ClientRequest";
    s_reply_seed (self, s_exchange (self, "junk", (const uint8_t *) junk, sizeof junk, 0), "junk");
    Tally__Ping ping = TALLY__PING__INIT;
    request.body_case = TALLY__CLIENT_REQUEST__BODY_PING;
    request.ping = &ping;
    s_reply_seed (self, s_body (self, "ping", &request), "ping");
    s_wait_signed (self);
    Tally__Unsubscribe unsubscribe = TALLY__UNSUBSCRIBE__INIT;
    unsubscribe.object_id = ids [2];
    request.body_case = TALLY__CLIENT_REQUEST__BODY_UNSUBSCRIBE;
    request.unsubscribe = &unsubscribe;
    s_reply_seed (self, s_body (self, "unsubscribe", &request), "unsubscribe");

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
            s_reply_seed (self, done, "buy-8");
    }
    //  The last pushes.
    while (s_take (self, tly_mono_ms () + S_QUIET_MS))
        ;
    s_wait_signed (self);
    for (int i = 0; i < 4; i++)
        s_watcher_seeds (self, subs [i], answers [i], i, names [i]);
    for (size_t i = 0; i < self->reply_count; i++)
        free (self->replies [i].bytes);
    zsock_destroy (&self->dealer);
    free (self);
    return 0;
}

//  ---------------------------------------------------------------- snapshots

//  Asks the writer for part of partition's snapshot. Returns the packed
//  SnapshotLoadReply, or NULL when no answer came.
static Tally__AuditReply *
s_load (zsock_t *dealer, uint32_t partition, uint64_t partition_seq, uint32_t part)
{
    Tally__SnapshotLoad load = TALLY__SNAPSHOT_LOAD__INIT;
    load.request_id = partition + 1;
    load.partition = partition;
    load.partition_seq = partition_seq;
    load.part = part;
    Tally__AuditRequest request = TALLY__AUDIT_REQUEST__INIT;
    request.body_case = TALLY__AUDIT_REQUEST__BODY_LOAD_SNAPSHOT;
    request.load_snapshot = &load;
    int rc = tly_wire_send (zsock_resolve (dealer), NULL, &request.base);
    assert (rc == 0);
    zsock_set_rcvtimeo (dealer, S_WAIT_MS);
    zframe_t *frame = zframe_recv (dealer);
    if (!frame)
        return NULL;
    Tally__AuditReply *reply = tally__audit_reply__unpack (NULL, zframe_size (frame),
                                                           zframe_data (frame));
    zframe_destroy (&frame);
    return reply;
}

static int
s_snapshots (const char *endpoint, uint32_t partitions)
{
    zsock_t *dealer = zsock_new_dealer (endpoint);
    if (!dealer) {
        fprintf (stderr, "fuzz_corpus: cannot connect to %s\n", endpoint);
        return 1;
    }
    int found = 0;
    for (uint32_t partition = 0; partition < partitions; partition++) {
        Tally__AuditReply *reply = s_load (dealer, partition, 0, 0);
        if (!reply || reply->body_case != TALLY__AUDIT_REPLY__BODY_LOAD_SNAPSHOT) {
            fprintf (stderr, "fuzz_corpus: no snapshot answer from %s\n", endpoint);
            return 1;
        }
        const Tally__SignedSnapshotHeader *signed_header = reply->load_snapshot->header;
        Tally__SnapshotHeader *header = signed_header ? tally__snapshot_header__unpack (
                                            NULL, signed_header->header.len,
                                            signed_header->header.data)
                                                      : NULL;
        //  A seed holds a small snapshot only (a few users' rows).
        if (!header || header->parts > S_PARTS_MAX || header->bytes > S_SEED_MAX / 2) {
            if (header)
                tally__snapshot_header__free_unpacked (header, NULL);
            tally__audit_reply__free_unpacked (reply, NULL);
            continue;
        }
        char name [64];
        snprintf (name, sizeof name, "snapshot-%" PRIu32, partition);
        size_t size;
        uint8_t *bytes = fuzz_pack (&reply->base, &size);
        s_wire_seed (S_WIRE_AUDIT, name, bytes, size);
        free (bytes);
        //  The actor's setup byte: the partition (epoch 1).
        s_chunks_t seed;
        s_chunks_open (&seed, (uint8_t) partition);
        //  First the answer to the actor's probe: the latest seq alone.
        Tally__SnapshotLoadReply probe = TALLY__SNAPSHOT_LOAD_REPLY__INIT;
        probe.request_id = reply->load_snapshot->request_id;
        probe.latest_partition_seq = header->partition_seq;
        bytes = fuzz_pack (&probe.base, &size);
        s_chunks_add (&seed, 1, bytes, size);
        free (bytes);
        for (uint32_t part = 0; part < header->parts; part++) {
            if (part > 0) {
                tally__audit_reply__free_unpacked (reply, NULL);
                reply = s_load (dealer, partition, header->partition_seq, part);
                assert (reply && reply->body_case == TALLY__AUDIT_REPLY__BODY_LOAD_SNAPSHOT);
            }
            bytes = fuzz_pack (&reply->load_snapshot->base, &size);
            s_chunks_add (&seed, 1, bytes, size);
            free (bytes);
        }
        s_chunks_close (&seed, "fuzz_snapshot_load", name);
        tally__snapshot_header__free_unpacked (header, NULL);
        tally__audit_reply__free_unpacked (reply, NULL);
        found++;
    }
    zsock_destroy (&dealer);
    if (found == 0) {
        fprintf (stderr, "fuzz_corpus: no partition has a snapshot yet\n");
        return 3;
    }
    return 0;
}

//  ---------------------------------------------------------------- journal

typedef struct {
    uint64_t seq;
    uint8_t *bytes;
    size_t size;
} s_stored_t;

typedef struct {
    s_stored_t *items;
    size_t count;
    size_t capacity;
} s_list_t;

static tly_journal_step_t
s_keep (uint64_t seq, const uint8_t *bytes, size_t size, void *arg)
{
    s_list_t *list = arg;
    if (list->count == list->capacity) {
        list->capacity = list->capacity ? 2 * list->capacity : 64;
        list->items = realloc (list->items, list->capacity * sizeof (s_stored_t));
        assert (list->items);
    }
    s_stored_t *item = &list->items [list->count++];
    item->seq = seq;
    item->bytes = malloc (size ? size : 1);
    assert (item->bytes);
    memcpy (item->bytes, bytes, size);
    item->size = size;
    return TLY_JOURNAL_NEXT;
}

//  A window of records from first on (and the checkpoints among them) as
//  one fuzz_journal_verify seed; with info, after the segment it starts.
static void
s_window (const s_list_t *records, const s_list_t *checkpoints, uint8_t mode,
          const tly_journal_segment_info_t *info, uint64_t first, const char *name)
{
    s_chunks_t seed;
    s_chunks_open (&seed, mode);
    size_t used = 1;
    uint64_t last = first - 1;
    for (size_t i = 0; i < records->count && last - first + 1 < S_RECORDS_MAX; i++) {
        const s_stored_t *record = &records->items [i];
        if (record->seq != last + 1 || used + record->size + 3 > S_SEED_MAX - 1024)
            continue;
        used += record->size + 3;
        last++;
    }
    if (info) {
        uint8_t head [8 + 8 + 1 + TLY_HASH_BYTES + TLY_JOURNAL_CHECKPOINT_MAX];
        tly_put_be64 (head, info->first);
        bool whole = last >= info->last;
        tly_put_be64 (head + 8, whole ? info->last : last);
        head [16] = whole && info->sealed;
        memcpy (head + 17, info->base.hash, TLY_HASH_BYTES);
        memcpy (head + 17 + TLY_HASH_BYTES, info->base_checkpoint, info->base_checkpoint_size);
        s_chunks_add (&seed, 2, head, 17 + TLY_HASH_BYTES + info->base_checkpoint_size);
    }
    for (size_t i = 0; i < checkpoints->count; i++) {
        const s_stored_t *checkpoint = &checkpoints->items [i];
        if (checkpoint->seq < first || checkpoint->seq > last)
            continue;
        uint8_t bytes [8 + TLY_JOURNAL_CHECKPOINT_MAX];
        tly_put_be64 (bytes, checkpoint->seq);
        assert (checkpoint->size <= TLY_JOURNAL_CHECKPOINT_MAX);
        memcpy (bytes + 8, checkpoint->bytes, checkpoint->size);
        s_chunks_add (&seed, 1, bytes, 8 + checkpoint->size);
    }
    for (size_t i = 0; i < records->count; i++)
        if (records->items [i].seq >= first && records->items [i].seq <= last)
            s_chunks_add (&seed, 0, records->items [i].bytes, records->items [i].size);
    s_chunks_close (&seed, "fuzz_journal_verify", name);
}

static int
s_journal (const char *dir)
{
    tly_journal_t *journal = tly_journal_new_reader (dir);
    if (!journal) {
        fprintf (stderr, "fuzz_corpus: cannot read the journal in %s\n", dir);
        return 1;
    }
    s_list_t records = { 0 }, checkpoints = { 0 };
    if (tly_journal_iterate (journal, 1, s_keep, &records) == -1
        || tly_journal_each_checkpoint (journal, s_keep, &checkpoints) == -1 || records.count == 0
        || checkpoints.count == 0) {
        fprintf (stderr, "fuzz_corpus: the journal in %s has no records or checkpoints\n", dir);
        return 1;
    }
    s_window (&records, &checkpoints, 0, NULL, 1, "genesis");
    size_t segments = tly_journal_segment_count (journal);
    for (size_t i = 1; i < segments && i <= S_SEGMENTS_MAX; i++) {
        tly_journal_segment_info_t info;
        int rc = tly_journal_segment_info (journal, i, &info);
        assert (rc == 0);
        char name [64];
        snprintf (name, sizeof name, "segment-%zu", i);
        s_window (&records, &checkpoints, 1, &info, info.first, name);
        snprintf (name, sizeof name, "kept-%zu", i);
        s_window (&records, &checkpoints, 2, &info, info.first, name);
    }
    //  Checkpoints alone, and one record's parts for fuzz_wire.
    for (size_t i = 0; i < checkpoints.count && i < 3; i++) {
        char name [64];
        snprintf (name, sizeof name, "checkpoint-%" PRIu64, checkpoints.items [i].seq);
        s_chunks_t seed;
        s_chunks_open (&seed, 0);
        s_chunks_add (&seed, 3, checkpoints.items [i].bytes, checkpoints.items [i].size);
        s_chunks_close (&seed, "fuzz_journal_verify", name);
        s_wire_seed (S_WIRE_CKPT, name, checkpoints.items [i].bytes, checkpoints.items [i].size);
    }
    const s_stored_t *record = &records.items [records.count > 2 ? 2 : 0];
    s_wire_seed (S_WIRE_STORED, "record", record->bytes, record->size);
    Tally__StoredRecord *stored = tally__stored_record__unpack (NULL, record->size, record->bytes);
    assert (stored);
    s_wire_seed (S_WIRE_BODY, "record", stored->body.data, stored->body.len);
    tally__stored_record__free_unpacked (stored, NULL);
    for (size_t i = 0; i < records.count; i++)
        free (records.items [i].bytes);
    for (size_t i = 0; i < checkpoints.count; i++)
        free (checkpoints.items [i].bytes);
    free (records.items);
    free (checkpoints.items);
    tly_journal_destroy (&journal);
    return 0;
}

//  ---------------------------------------------------------------- main

static void
s_usage (void)
{
    fputs ("usage: fuzz_corpus worker FILE\n"
           "       fuzz_corpus accounts OUT\n"
           "       fuzz_corpus traffic GATEWAY JOURNAL_DIR PARTITIONS OUT\n"
           "       fuzz_corpus snapshots AUDIT_ENDPOINT PARTITIONS OUT\n"
           "       fuzz_corpus journal JOURNAL_DIR OUT\n"
           "Writes seeds for the fuzz targets into OUT/<target>/ (tests/fuzz/make_corpus.sh).\n",
           stderr);
}

static uint32_t
s_partitions (const char *text)
{
    char *end;
    unsigned long value = strtoul (text, &end, 10);
    if (*end || value == 0 || value > TLY_PARTITIONS_MAX) {
        fprintf (stderr, "fuzz_corpus: PARTITIONS must be 1..%d, not '%s'\n", TLY_PARTITIONS_MAX,
                 text);
        exit (2);
    }
    return (uint32_t) value;
}

int
main (int argc, char **argv)
{
    zsys_init ();
    const char *command = argc > 1 ? argv [1] : "";
    if (strcmp (command, "worker") == 0 && argc == 3)
        return s_worker (argv [2]);
    if (strcmp (command, "accounts") == 0 && argc == 3) {
        s_out = argv [2];
        return s_accounts ();
    }
    if (strcmp (command, "traffic") == 0 && argc == 6) {
        s_out = argv [5];
        return s_traffic (argv [2], argv [3], s_partitions (argv [4]));
    }
    if (strcmp (command, "snapshots") == 0 && argc == 5) {
        s_out = argv [4];
        return s_snapshots (argv [2], s_partitions (argv [3]));
    }
    if (strcmp (command, "journal") == 0 && argc == 4) {
        s_out = argv [3];
        return s_journal (argv [2]);
    }
    s_usage ();
    return 2;
}
