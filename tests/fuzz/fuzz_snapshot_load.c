//  fuzz_snapshot_load - libFuzzer target: any run of SnapshotLoadReplies as
//  what the audit writer answers a balance actor that takes a partition
//  over (tly_catchup_on_snapshot): the SignedSnapshotHeader (the worker's
//  signature, then the SnapshotHeader's partition, schema, range and
//  digest), each part's SnapshotRows (tly_ledger_load_rows into a real
//  state in LMDB), the parts' digest; then, when a snapshot was loaded, the
//  state it left read back (accounts, purchase logs and records).
//
//  This file plays the writer: it takes the actor's SnapshotLoad requests
//  on a ROUTER (as tests/unit/balance/tly_catchup_test.c does) and answers
//  them with the input: the first reply answers the actor's probe (its
//  latest_partition_seq says whether a snapshot is there to load), the
//  next ones the parts it asks for. Input: one byte of setup (partition = setup % 4,
//  epoch = 1 + setup / 4), then chunks (fuzz_support.h), each a
//  SnapshotLoadReply. A chunk's tag bit 0 addresses it to the request the
//  actor has out; bit 1 signs its header again by the test worker (the
//  actor's worker); bit 2 first makes the header promise the input's
//  parts: parts = the replies from this one on, digest = theirs.
//
//  What must hold: a reply is taken (PENDING, for its partition) or
//  IGNORED; the partition stands at 0 (nothing loaded, or a bad snapshot
//  cleared) or at the partition_seq and epoch of a header that the worker
//  signed for it; no other partition is touched; and every account of the
//  loaded state is the partition's and reads back, with its purchases.
#include <assert.h>
#include <czmq.h>
#include <ftw.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"
#include "tly_catchup.h"
#include "tly_ledger.h"
#include "tly_log.h"
#include "tly_partition.h"
#include "tly_store.h"

#define S_PARTITIONS  4
#define S_REPLIES_MAX 64
#define S_SIGNED_MAX  16
#define S_MAP_SIZE    (16ULL << 20)
#define S_MAP_MAX     (256ULL << 20)
#define S_ENDPOINT    "inproc://fuzz-snapshot-writer"

static char s_dir [64];
static tly_ledger_t *s_ledger;
static zsock_t *s_actor;   //  the actor's DEALER to the writer
static zsock_t *s_writer;  //  this file, as the writer
static tly_catchup_t *s_catchup;

//  What the actor has asked for.
typedef struct {
    uint64_t load_id;  //  the SnapshotLoad out, 0 when none
    bool reading;      //  it went on to read the journal
} s_asked_t;

//  Headers the worker signed for the partition: where a load may leave it.
typedef struct {
    uint64_t partition_seq;
    uint64_t epoch;
} s_signed_t;

static int
s_remove (const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void) info, (void) flag, (void) ftw;
    return remove (path);
}

static void
s_cleanup (void)
{
    tly_catchup_destroy (&s_catchup);
    tly_ledger_destroy (&s_ledger);
    zsock_destroy (&s_actor);
    zsock_destroy (&s_writer);
    if (s_dir [0])
        nftw (s_dir, s_remove, 16, FTW_DEPTH | FTW_PHYS);
}

static void
s_setup (void)
{
    tly_log_init ("fuzz_snapshot_load", TLY_ERROR);
    int rc = sodium_init ();
    assert (rc >= 0);
    snprintf (s_dir, sizeof s_dir, "/tmp/fuzz-snapshot-XXXXXX");
    assert (mkdtemp (s_dir));
    atexit (s_cleanup);
    char path [128];
    snprintf (path, sizeof path, "%s/state", s_dir);
    tly_ledger_limits_t limits = { .partition_count = S_PARTITIONS,
                                   .initial_max = TLY_INITIAL_MAX_DEFAULT,
                                   .amount_max = TLY_AMOUNT_MAX_DEFAULT,
                                   .dedupe_window_ms = TLY_DEDUPE_WINDOW_MS_DEFAULT };
    s_ledger = tly_ledger_new (path, S_MAP_SIZE, &limits);
    assert (s_ledger);
    tly_ledger_set_map_max (s_ledger, S_MAP_MAX);
    s_writer = zsock_new_router (S_ENDPOINT);
    s_actor = zsock_new_dealer (S_ENDPOINT);
    assert (s_writer && s_actor);
    zsock_set_rcvtimeo (s_writer, 0);
    //  A long timeout: no read is sent again while an input runs.
    s_catchup = tly_catchup_new (s_ledger, s_actor, S_PARTITIONS, 60000,
                                 fuzz_account (FUZZ_WORKER)->sign_pk);
    assert (s_catchup);
}

//  Sends what is due and takes every request the actor sent.
static void
s_pump (s_asked_t *asked)
{
    tly_catchup_tick (s_catchup);
    zmsg_t *msg;
    while ((msg = zmsg_recv (s_writer))) {
        zframe_t *frame = zmsg_last (msg);
        Tally__AuditRequest *request = tally__audit_request__unpack (NULL, zframe_size (frame),
                                                                     zframe_data (frame));
        assert (request);
        if (request->body_case == TALLY__AUDIT_REQUEST__BODY_LOAD_SNAPSHOT)
            asked->load_id = request->load_snapshot->request_id;
        else {
            assert (request->body_case == TALLY__AUDIT_REQUEST__BODY_READ);
            asked->reading = true;
        }
        tally__audit_request__free_unpacked (request, NULL);
        zmsg_destroy (&msg);
    }
}

static void
s_clear (uint32_t partition)
{
    int rc = tly_ledger_begin (s_ledger);
    assert (rc == 0);
    rc = tly_ledger_clear_partition (s_ledger, partition);
    assert (rc == 0);
    rc = tly_ledger_commit (s_ledger);
    assert (rc == 0);
}

//  Bit 2: the header promises replies [from, count): their number, and the
//  digest of their rows.
static void
s_promise (Tally__SignedSnapshotHeader *signed_header, Tally__SnapshotLoadReply **replies,
           size_t from, size_t count)
{
    Tally__SnapshotHeader *header = tally__snapshot_header__unpack (NULL, signed_header->header.len,
                                                                    signed_header->header.data);
    if (!header)
        return;
    crypto_generichash_state state;
    crypto_generichash_init (&state, (const uint8_t *) TLY_SNAPSHOT_DIGEST_KEY,
                             sizeof TLY_SNAPSHOT_DIGEST_KEY - 1, TLY_HASH_BYTES);
    for (size_t i = from; i < count; i++)
        crypto_generichash_update (&state, replies [i]->rows.data, replies [i]->rows.len);
    uint8_t digest [TLY_HASH_BYTES];
    crypto_generichash_final (&state, digest, sizeof digest);
    fuzz_set_bytes (&header->digest, digest, sizeof digest);
    header->parts = (uint32_t) (count - from);
    size_t size;
    uint8_t *packed = fuzz_pack (&header->base, &size);
    free (signed_header->header.data);
    signed_header->header = (ProtobufCBinaryData) { size, packed };
    tally__snapshot_header__free_unpacked (header, NULL);
}

//  The header, when the worker signed it for partition: where a load of it
//  leaves the partition.
static bool
s_signed_for (const Tally__SignedSnapshotHeader *signed_header, uint32_t partition, s_signed_t *out)
{
    if (!tly_verify_domain (TLY_DOMAIN_SNAPSHOT, fuzz_account (FUZZ_WORKER)->sign_pk,
                            signed_header->header.data, signed_header->header.len,
                            signed_header->signature.data, signed_header->signature.len))
        return false;
    Tally__SnapshotHeader *header = tally__snapshot_header__unpack (NULL, signed_header->header.len,
                                                                    signed_header->header.data);
    bool ok = header && header->partition == partition;
    if (ok)
        *out = (s_signed_t) { header->partition_seq, header->epoch };
    if (header)
        tally__snapshot_header__free_unpacked (header, NULL);
    return ok;
}

typedef struct {
    uint32_t partition;
    size_t accounts;
} s_walk_t;

static tly_store_walk_t
s_account (const uint8_t user [TLY_KEY_BYTES], const tly_account_state_t *state, void *arg)
{
    s_walk_t *walk = arg;
    //  Only the partition's users: the others' partitions were never loaded.
    assert (tly_partition_of (user, S_PARTITIONS) == walk->partition);
    assert (fuzz_terminated (state->balance_id, sizeof state->balance_id));
    tly_account_state_t again;
    assert (tly_ledger_account (s_ledger, user, &again) == TLY_STORE_FOUND);
    assert (strcmp (again.balance_id, state->balance_id) == 0 && again.balance == state->balance
            && again.purchases == state->purchases && again.created == state->created);
    tly_arena_t *arena = tly_arena_new (1 << 16);
    Tally__PurchaseRecord *records [8];
    size_t count = 0;
    uint64_t first = state->purchases > 8 ? state->purchases - 7 : 1;
    if (tly_ledger_purchases (s_ledger, user, first, 8, arena, records, &count) == 0)
        assert (count <= 8);
    tly_arena_destroy (&arena);
    walk->accounts++;
    return TLY_STORE_WALK_NEXT;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (!s_ledger)
        s_setup ();
    uint32_t partition = data [0] % S_PARTITIONS;
    uint64_t epoch = 1 + data [0] / S_PARTITIONS;
    Tally__SnapshotLoadReply *replies [S_REPLIES_MAX];
    uint8_t tags [S_REPLIES_MAX];
    size_t count = 0;
    fuzz_input_t input = { data + 1, data + size };
    fuzz_chunk_t chunk;
    while (count < S_REPLIES_MAX && fuzz_chunk_next (&input, &chunk)) {
        replies [count] = tally__snapshot_load_reply__unpack (NULL, chunk.size, chunk.data);
        tags [count] = chunk.tag;
        count += replies [count] != NULL;
    }

    s_clear (partition);
    tly_catchup_start (s_catchup, partition, epoch);
    s_asked_t asked = { 0 };
    s_pump (&asked);
    s_signed_t signed_headers [S_SIGNED_MAX];
    size_t signed_count = 0;
    for (size_t i = 0; i < count && !asked.reading; i++) {
        Tally__SnapshotLoadReply *reply = replies [i];
        if (tags [i] & 1)
            reply->request_id = asked.load_id;
        if (reply->header && (tags [i] & 4))
            s_promise (reply->header, replies, i, count);
        if (reply->header && (tags [i] & 2))
            fuzz_sign_into (&reply->header->signature, TLY_DOMAIN_SNAPSHOT,
                            fuzz_account (FUZZ_WORKER), reply->header->header.data,
                            reply->header->header.len);
        if (reply->header && signed_count < S_SIGNED_MAX
            && s_signed_for (reply->header, partition, &signed_headers [signed_count]))
            signed_count++;
        uint32_t answered = UINT32_MAX;
        tly_catchup_status_t status = tly_catchup_on_snapshot (s_catchup, reply, &answered);
        assert (status == TLY_CATCHUP_IGNORED
                || (status == TLY_CATCHUP_PENDING && answered == partition));
        s_pump (&asked);
    }

    uint64_t applied, at_epoch;
    assert (tly_ledger_progress (s_ledger, partition, &applied, &at_epoch) == 0);
    bool signed_here = applied == 0 && at_epoch == 0;
    for (size_t i = 0; i < signed_count && !signed_here; i++)
        signed_here = signed_headers [i].partition_seq == applied
                      && signed_headers [i].epoch == at_epoch;
    assert (signed_here);
    for (uint32_t other = 0; other < S_PARTITIONS; other++) {
        uint64_t other_applied, other_epoch;
        assert (tly_ledger_progress (s_ledger, other, &other_applied, &other_epoch) == 0);
        assert (other == partition || (other_applied == 0 && other_epoch == 0));
    }
    s_walk_t walk = { .partition = partition };
    assert (tly_ledger_each_account (s_ledger, s_account, &walk) == 0);
    if (applied == 0)
        assert (walk.accounts == 0 || !asked.reading);

    tly_catchup_stop (s_catchup, partition);
    s_clear (partition);
    for (size_t i = 0; i < count; i++)
        tally__snapshot_load_reply__free_unpacked (replies [i], NULL);
    return 0;
}
