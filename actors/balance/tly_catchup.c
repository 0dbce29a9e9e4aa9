//  tly_catchup - reads newly owned partitions from the journal into the ledger.
#include "tly_catchup.h"

#include <assert.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "tly_arena.h"
#include "tly_fault.h"
#include "tly_log.h"
#include "tly_sign.h"
#include "tly_store.h"
#include "tly_validate.h"
#include "tly_wire.h"

#define S_ARENA_BLOCK     (1024 * 1024)
//  A read's request_id carries its partition in the low bits (partitions are
//  below TLY_PARTITIONS_MAX = 2^16), so a reply finds its partition at once.
#define S_ID_SHIFT        16
#define S_ID_MASK         ((UINT64_C (1) << S_ID_SHIFT) - 1)
//  Snapshot parts asked for and not yet answered, over all partitions: the
//  writer reads the next parts while the actor stores one (at most this
//  many parts of TLY_SAVER_PART_BYTES wait in the pipe).
#define S_PARTS_IN_FLIGHT 4
//  A probe: SnapshotLoad after the last possible partition_seq, which no
//  snapshot is past, so the writer answers with latest_partition_seq alone.
#define S_PROBE_AFTER     UINT64_MAX

//  Where a partition's catch-up stands.
typedef enum {
    S_PROBING,  //  asking whether a snapshot newer than the state exists
    S_LOADING,  //  loading one, in partition order after the others'
    S_READING   //  past the snapshot: reading the journal
} s_stage_t;

//  A snapshot being loaded: what its header promised, and its parts asked
//  for (requested) and stored (next_part) in the current session.
typedef struct {
    uint64_t partition_seq;  //  the probe's latest, then the header's
    uint64_t epoch;
    int64_t clock_ms;
    uint32_t parts;      //  0 until part 0 brought the header
    uint32_t requested;  //  parts asked for
    uint32_t answered;   //  ... whose answers came
    uint32_t next_part;  //  ... stored
    uint64_t session;    //  the request_id of every part asked for in it
    int64_t retry_at;    //  monotonic ms: nothing asked before (0: no wait)
    uint8_t digest [TLY_HASH_BYTES];
    crypto_generichash_state state;
} s_loading_t;

typedef struct {
    bool active;
    s_stage_t stage;
    uint64_t epoch;    //  the claim
    uint64_t read_id;  //  probe or read in flight, 0 when none
    int64_t read_at;   //  monotonic ms: send (or resend) it; while loading,
                       //  ask again for the parts not answered by then
    uint64_t latest_snapshot;
    s_loading_t *loading;
} s_partition_t;

struct _tly_catchup_t {
    tly_ledger_t *ledger;  //  not owned
    zsock_t *audit;        //  not owned
    uint32_t partition_count;
    int64_t timeout_ms;
    uint8_t worker_pk [TLY_KEY_BYTES];
    tly_arena_t *arena;  //  one reply's records
    s_partition_t *partitions;
    size_t active;
    int64_t next_at;  //  earliest read_at of an active partition
    uint64_t reads;
};

tly_catchup_t *
tly_catchup_new (tly_ledger_t *ledger, zsock_t *audit, uint32_t partition_count, int64_t timeout_ms,
                 const uint8_t worker_pk [TLY_KEY_BYTES])
{
    assert (ledger && audit && worker_pk);
    assert (partition_count > 0 && partition_count <= TLY_PARTITIONS_MAX);
    assert (timeout_ms > 0);
    tly_catchup_t *self = calloc (1, sizeof (tly_catchup_t));
    if (!self)
        return NULL;
    self->ledger = ledger;
    self->audit = audit;
    self->partition_count = partition_count;
    self->timeout_ms = timeout_ms;
    memcpy (self->worker_pk, worker_pk, TLY_KEY_BYTES);
    self->next_at = INT64_MAX;
    self->arena = tly_arena_new (S_ARENA_BLOCK);
    self->partitions = calloc (partition_count, sizeof (s_partition_t));
    if (!self->arena || !self->partitions)
        tly_catchup_destroy (&self);
    return self;
}

void
tly_catchup_destroy (tly_catchup_t **self_p)
{
    assert (self_p);
    tly_catchup_t *self = *self_p;
    if (!self)
        return;
    tly_arena_destroy (&self->arena);
    for (uint32_t partition = 0; self->partitions && partition < self->partition_count; partition++)
        free (self->partitions [partition].loading);
    free (self->partitions);
    free (self);
    *self_p = NULL;
}

static void
s_due (tly_catchup_t *self, s_partition_t *part, int64_t at)
{
    part->read_at = at;
    if (at < self->next_at)
        self->next_at = at;
}

void
tly_catchup_start (tly_catchup_t *self, uint32_t partition, uint64_t epoch)
{
    assert (self);
    assert (partition < self->partition_count && epoch > 0);
    s_partition_t *part = &self->partitions [partition];
    if (!part->active)
        self->active++;
    part->active = true;
    part->stage = S_PROBING;
    part->epoch = epoch;
    part->read_id = 0;
    free (part->loading);
    part->loading = NULL;
    s_due (self, part, tly_mono_ms ());
}

static void
s_end (tly_catchup_t *self, s_partition_t *part)
{
    assert (part->active && self->active > 0);
    part->active = false;
    part->read_id = 0;
    free (part->loading);
    part->loading = NULL;
    self->active--;
}

void
tly_catchup_stop (tly_catchup_t *self, uint32_t partition)
{
    assert (self);
    assert (partition < self->partition_count);
    if (self->partitions [partition].active)
        s_end (self, &self->partitions [partition]);
}

static void
s_send_load (tly_catchup_t *self, uint32_t partition, uint64_t request_id, uint64_t after,
             uint64_t partition_seq, uint32_t part)
{
    Tally__SnapshotLoad load = TALLY__SNAPSHOT_LOAD__INIT;
    load.request_id = request_id;
    load.partition = partition;
    load.after_partition_seq = after;
    load.partition_seq = partition_seq;
    load.part = part;
    Tally__AuditRequest request = TALLY__AUDIT_REQUEST__INIT;
    request.body_case = TALLY__AUDIT_REQUEST__BODY_LOAD_SNAPSHOT;
    request.load_snapshot = &load;
    if (tly_wire_send (self->audit, NULL, &request.base) == -1)
        tly_log (TLY_WARN, "catchup.send_failed", "partition=%" PRIu32 " error=\"%s\"", partition,
                 zmq_strerror (zmq_errno ()));
}

//  Sends a probing partition's probe, or a reading one's next read.
static void
s_send_read (tly_catchup_t *self, uint32_t partition)
{
    s_partition_t *part = &self->partitions [partition];
    assert (part->stage != S_LOADING);
    part->read_at = tly_mono_ms () + self->timeout_ms;
    uint64_t applied, epoch;
    if (tly_ledger_progress (self->ledger, partition, &applied, &epoch) == -1)
        return;
    part->read_id = (++self->reads << S_ID_SHIFT) | partition;
    if (part->stage == S_PROBING) {
        s_send_load (self, partition, part->read_id, S_PROBE_AFTER, 0, 0);
        return;
    }
    Tally__ReadRequest read = TALLY__READ_REQUEST__INIT;
    read.request_id = part->read_id;
    read.partition = partition;
    read.epoch = part->epoch;
    read.after_partition_seq = applied;
    read.max_records = TLY_READ_RECORDS_MAX;
    Tally__AuditRequest request = TALLY__AUDIT_REQUEST__INIT;
    request.body_case = TALLY__AUDIT_REQUEST__BODY_READ;
    request.read = &read;
    if (tly_wire_send (self->audit, NULL, &request.base) == -1)
        tly_log (TLY_WARN, "catchup.send_failed", "partition=%" PRIu32 " error=\"%s\"", partition,
                 zmq_strerror (zmq_errno ()));
    tly_log (TLY_DEBUG, "catchup.read",
             "partition=%" PRIu32 " epoch=%" PRIu64 " after_partition_seq=%" PRIu64, partition,
             part->epoch, applied);
}

//  Asks for a loading partition's next part. The first part asked for with
//  none out starts a session: its parts' replies carry its request_id, and
//  a reply of any other is late.
static void
s_send_part (tly_catchup_t *self, uint32_t partition)
{
    s_partition_t *part = &self->partitions [partition];
    s_loading_t *loading = part->loading;
    uint64_t applied = 0, epoch;
    if (loading->requested == 0 && tly_ledger_progress (self->ledger, partition, &applied, &epoch))
        applied = 0;  //  part 0 checks what it brings against the state anyway
    if (loading->requested == loading->answered)
        loading->session = (++self->reads << S_ID_SHIFT) | partition;
    s_send_load (self, partition, loading->session, applied, loading->partition_seq,
                 loading->requested);
    loading->requested++;
    s_due (self, part, tly_mono_ms () + self->timeout_ms);
}

//  Asks for snapshot parts, keeping S_PARTS_IN_FLIGHT out: the loading
//  partitions in partition order, each one's parts in order, and the next
//  partition's first part only once every part of the one before is asked
//  for. The writer answers in order, so the rows come sorted by
//  partition, then table and key, and a new state's tables take them at
//  their ends (LMDB's append: full pages, no search), where partitions
//  loaded side by side would cut into each other's ranges.
static void
s_pump (tly_catchup_t *self)
{
    int64_t now = tly_mono_ms ();
    uint32_t out = 0;
    for (uint32_t partition = 0; partition < self->partition_count; partition++) {
        const s_partition_t *part = &self->partitions [partition];
        if (part->active && part->stage == S_LOADING)
            out += part->loading->requested - part->loading->answered;
    }
    for (uint32_t partition = 0; partition < self->partition_count && out < S_PARTS_IN_FLIGHT;
         partition++) {
        s_partition_t *part = &self->partitions [partition];
        if (!part->active || part->stage != S_LOADING)
            continue;
        s_loading_t *loading = part->loading;
        bool idle = loading->requested == loading->answered;
        if (idle && loading->retry_at > now)
            continue;  //  waiting to try again after a failure
        if (loading->parts == 0 && !idle)
            break;  //  part 0 is out: how many follow comes with it
        uint32_t parts = loading->parts ? loading->parts : 1;
        while (loading->requested < parts && out < S_PARTS_IN_FLIGHT) {
            s_send_part (self, partition);
            out++;
        }
        if (loading->requested < parts || loading->parts == 0)
            break;
    }
}

void
tly_catchup_tick (tly_catchup_t *self)
{
    assert (self);
    int64_t now = tly_mono_ms ();
    if (self->active == 0 || now < self->next_at)
        return;
    self->next_at = INT64_MAX;
    bool loading = false;
    for (uint32_t partition = 0; partition < self->partition_count; partition++) {
        s_partition_t *part = &self->partitions [partition];
        if (!part->active)
            continue;
        if (part->stage == S_LOADING && part->read_at <= now) {
            //  Parts unanswered (or a failure waited out): ask again from
            //  the first part not stored, in a new session.
            s_loading_t *held = part->loading;
            if (held->requested > held->answered)
                tly_log (TLY_WARN, "snapshot.part_timeout",
                         "partition=%" PRIu32 " part=%" PRIu32 " timeout_ms=%" PRId64, partition,
                         held->answered, self->timeout_ms);
            held->requested = held->answered = held->next_part;
            held->session = 0;
            held->retry_at = 0;
            part->read_at = INT64_MAX;
        } else if (part->stage != S_LOADING && part->read_at <= now)
            s_send_read (self, partition);
        loading |= part->stage == S_LOADING;
        if (part->read_at < self->next_at)
            self->next_at = part->read_at;
    }
    if (loading)
        s_pump (self);
}

int64_t
tly_catchup_next (tly_catchup_t *self)
{
    assert (self);
    return self->active ? self->next_at : INT64_MAX;
}

static int
s_bad (uint32_t partition, const char *reason)
{
    tly_log (TLY_ERROR, "catchup.failed",
             "partition=%" PRIu32 " reason=\"%s\" "
             "hint=\"if the journal was reset, delete this actor's state directory\"",
             partition, reason);
    return -1;
}

//  Checks and applies one reply's records in one transaction. Returns 0 or -1.
static int
s_apply (tly_catchup_t *self, uint32_t partition, const Tally__ReadReply *read)
{
    if (read->n_records == 0)
        return 0;
    tly_arena_reset (self->arena);
    if (tly_ledger_begin (self->ledger) == -1)
        return -1;
    size_t applied = 0;
    const char *bad = NULL;
    for (size_t i = 0; i < read->n_records && !bad; i++) {
        const Tally__StoredRecord *stored = read->records [i];
        uint8_t hash [TLY_HASH_BYTES];
        tly_record_hash (stored->body.data, stored->body.len, hash);
        if (stored->hash.len != TLY_HASH_BYTES
            || memcmp (hash, stored->hash.data, TLY_HASH_BYTES)) {
            bad = "record hash does not match its body";
            break;
        }
        Tally__RecordBody *body = tally__record_body__unpack (tly_arena_allocator (self->arena),
                                                              stored->body.len, stored->body.data);
        if (!body || !body->draft || body->draft->partition != partition) {
            bad = "record is not a draft of this partition";
            break;
        }
        tly_ledger_result_t done = tly_ledger_apply (self->ledger, body->draft, self->arena);
        if (done == TLY_LEDGER_ERROR && tly_ledger_space (self->ledger) != TLY_STORE_ROOM) {
            tly_ledger_abort (self->ledger);  //  no room: not the record's fault
            return -1;
        }
        if (done == TLY_LEDGER_ERROR)
            bad = "record does not follow the state";
        applied += done == TLY_LEDGER_APPLIED;
    }
    if (bad) {
        tly_ledger_abort (self->ledger);
        return s_bad (partition, bad);
    }
    if (tly_ledger_commit (self->ledger) == -1)
        return -1;
    tly_log (TLY_DEBUG, "catchup.applied", "partition=%" PRIu32 " records=%zu applied=%zu",
             partition, read->n_records, applied);
    return 0;
}

//  ---------------------------------------------------------------- snapshots

//  Clears what the state holds of partition (a snapshot given up on, or cut
//  short), so the journal is read from the start: reading, due now. When
//  storage fails the partition probes again a timeout later. Returns 0 or -1.
static int
s_clear (tly_catchup_t *self, uint32_t partition)
{
    s_partition_t *part = &self->partitions [partition];
    free (part->loading);
    part->loading = NULL;
    part->stage = S_PROBING;
    s_due (self, part, tly_mono_ms () + self->timeout_ms);
    if (tly_ledger_begin (self->ledger) == -1)
        return -1;
    if (tly_ledger_clear_partition (self->ledger, partition) == -1) {
        tly_ledger_abort (self->ledger);
        return -1;
    }
    if (tly_ledger_commit (self->ledger) == -1)
        return -1;
    part->stage = S_READING;
    s_due (self, part, tly_mono_ms ());
    return 0;
}

static int
s_drop_snapshot (tly_catchup_t *self, uint32_t partition, const char *reason)
{
    tly_log (TLY_ERROR, "snapshot.rejected",
             "partition=%" PRIu32 " reason=\"%s\" then=\"reading the journal from the start\"",
             partition, reason);
    return s_clear (self, partition);
}

//  Checks a snapshot's header: the worker's signature, then what it says.
//  Returns NULL with the header unpacked into arena, or the reason it is bad.
static const char *
s_check_header (tly_catchup_t *self, uint32_t partition,
                const Tally__SignedSnapshotHeader *signed_header, uint64_t applied,
                Tally__SnapshotHeader **header_p)
{
    if (!tly_verify_domain (TLY_DOMAIN_SNAPSHOT, self->worker_pk, signed_header->header.data,
                            signed_header->header.len, signed_header->signature.data,
                            signed_header->signature.len))
        return "header not signed by the worker";
    Tally__SnapshotHeader *header = tally__snapshot_header__unpack (
        tly_arena_allocator (self->arena), signed_header->header.len, signed_header->header.data);
    if (!header)
        return "header does not decode";
    *header_p = header;
    if (header->partition != partition)
        return "snapshot of another partition";
    if (header->schema != TLY_STORE_SCHEMA)
        return "snapshot in another state layout";
    if (header->partition_seq <= applied || header->parts == 0
        || header->digest.len != TLY_HASH_BYTES)
        return "header out of range";
    return NULL;
}

//  Stores one part in one transaction: the first clears the partition, the
//  last sets its progress once the digest matches. Returns 0, -1 when
//  storage failed, or 1 when the snapshot is bad (logged and dropped).
static int
s_load_part (tly_catchup_t *self, uint32_t partition, const Tally__SnapshotLoadReply *load)
{
    s_partition_t *part = &self->partitions [partition];
    s_loading_t *loading = part->loading;
    Tally__SnapshotRows *rows = tally__snapshot_rows__unpack (tly_arena_allocator (self->arena),
                                                              load->rows.len, load->rows.data);
    if (!rows)
        return s_drop_snapshot (self, partition, "part does not decode") == -1 ? -1 : 1;
    crypto_generichash_state state = loading->state;
    crypto_generichash_update (&state, load->rows.data, load->rows.len);
    bool last = load->part + 1 == loading->parts;
    if (last) {
        uint8_t digest [TLY_HASH_BYTES];
        crypto_generichash_state final = state;
        crypto_generichash_final (&final, digest, sizeof digest);
        if (sodium_memcmp (digest, loading->digest, sizeof digest) != 0)
            return s_drop_snapshot (self, partition, "digest does not match its parts") == -1 ? -1
                                                                                              : 1;
    }
    if (tly_ledger_begin (self->ledger) == -1)
        return -1;
    bool good = (load->part > 0 || tly_ledger_clear_partition (self->ledger, partition) == 0)
                && tly_ledger_load_rows (self->ledger, partition, rows) == 0
                && (!last
                    || tly_ledger_load_done (self->ledger, partition, loading->partition_seq,
                                             loading->epoch, loading->clock_ms)
                           == 0);
    if (!good) {
        tly_ledger_abort (self->ledger);
        if (tly_ledger_space (self->ledger) != TLY_STORE_ROOM)
            return -1;
        return s_drop_snapshot (self, partition, "a row is not of this partition") == -1 ? -1 : 1;
    }
    //  An injected failure (tly_fault.h) is a failed commit: the part is
    //  asked for again later. `exit` stops the actor in the middle of a load.
    if (TLY_FAULT ("snapshot.load")) {
        tly_ledger_abort (self->ledger);
        return -1;
    }
    if (tly_ledger_commit (self->ledger) == -1)
        return -1;
    loading->state = state;
    loading->next_part++;
    if (last) {
        tly_log (TLY_INFO, "snapshot.loaded",
                 "partition=%" PRIu32 " partition_seq=%" PRIu64 " parts=%" PRIu32, partition,
                 loading->partition_seq, loading->parts);
        free (part->loading);
        part->loading = NULL;
        part->stage = S_READING;
        s_due (self, part, tly_mono_ms ());
    }
    return 0;
}

//  A probe's answer: load the partition's snapshot if it is newer than the
//  state (in its turn, see s_pump), else read the journal on from the state.
static void
s_on_probe (tly_catchup_t *self, uint32_t partition, const Tally__SnapshotLoadReply *load)
{
    s_partition_t *part = &self->partitions [partition];
    part->read_id = 0;
    uint64_t applied, epoch;
    if (load->error || tly_ledger_progress (self->ledger, partition, &applied, &epoch) == -1) {
        if (load->error)
            tly_log (TLY_WARN, "snapshot.load_refused",
                     "partition=%" PRIu32 " code=%s message=\"%s\"", partition,
                     tly_error_name (load->error->code),
                     load->error->message ? load->error->message : "");
        s_due (self, part, tly_mono_ms () + self->timeout_ms);
        return;
    }
    if (load->latest_partition_seq > applied) {
        s_loading_t *loading = calloc (1, sizeof *loading);
        assert (loading);
        loading->partition_seq = load->latest_partition_seq;
        part->loading = loading;
        part->stage = S_LOADING;
        part->read_at = INT64_MAX;  //  nothing out until its turn
        return;
    }
    //  Nothing newer than the state: read the journal on from it. A state
    //  with nothing applied may hold rows of a load cut short.
    if (applied == 0) {
        s_clear (self, partition);
        return;
    }
    part->stage = S_READING;
    s_due (self, part, tly_mono_ms ());
}

//  A failure in the middle of a load: ask again for the parts not stored,
//  a timeout from now, in a new session.
static void
s_load_later (tly_catchup_t *self, s_partition_t *part)
{
    s_loading_t *loading = part->loading;
    loading->requested = loading->answered = loading->next_part;
    loading->session = 0;
    loading->retry_at = tly_mono_ms () + self->timeout_ms;
    s_due (self, part, loading->retry_at);
}

//  A part's answer, in order. Returns 0 to go on, -1 when the load ended or
//  waits (the partition's stage says which).
static int
s_on_part (tly_catchup_t *self, uint32_t partition, const Tally__SnapshotLoadReply *load)
{
    s_partition_t *part = &self->partitions [partition];
    s_loading_t *loading = part->loading;
    if (load->error) {
        //  Replaced while loading: probe again; anything else: try again later.
        bool replaced = load->error->code == TALLY__ERROR_CODE__NOT_FOUND;
        tly_log (replaced ? TLY_INFO : TLY_WARN, "snapshot.load_refused",
                 "partition=%" PRIu32 " code=%s message=\"%s\"", partition,
                 tly_error_name (load->error->code),
                 load->error->message ? load->error->message : "");
        if (!replaced) {
            s_load_later (self, part);
            return -1;
        }
        free (part->loading);
        part->loading = NULL;
        part->stage = S_PROBING;
        s_due (self, part, tly_mono_ms ());
        return -1;
    }
    if (load->part > 0)
        return 0;
    uint64_t applied, epoch;
    if (tly_ledger_progress (self->ledger, partition, &applied, &epoch) == -1) {
        s_load_later (self, part);
        return -1;
    }
    if (!load->header) {
        //  No longer past the state (the probe's answer is out of date):
        //  probe again.
        free (part->loading);
        part->loading = NULL;
        part->stage = S_PROBING;
        s_due (self, part, tly_mono_ms ());
        return -1;
    }
    Tally__SnapshotHeader *header = NULL;
    const char *bad = s_check_header (self, partition, load->header, applied, &header);
    if (bad) {
        s_drop_snapshot (self, partition, bad);
        return -1;
    }
    loading->partition_seq = header->partition_seq;
    loading->epoch = header->epoch;
    loading->clock_ms = header->clock_ms;
    loading->parts = header->parts;
    memcpy (loading->digest, header->digest.data, TLY_HASH_BYTES);
    crypto_generichash_init (&loading->state, (const uint8_t *) TLY_SNAPSHOT_DIGEST_KEY,
                             sizeof TLY_SNAPSHOT_DIGEST_KEY - 1, TLY_HASH_BYTES);
    return 0;
}

tly_catchup_status_t
tly_catchup_on_snapshot (tly_catchup_t *self, const Tally__SnapshotLoadReply *load,
                         uint32_t *partition_p)
{
    assert (self && load && partition_p);
    assert (!tly_ledger_in_txn (self->ledger));
    uint32_t partition = (uint32_t) (load->request_id & S_ID_MASK);
    s_partition_t *part = partition < self->partition_count ? &self->partitions [partition] : NULL;
    bool probe = part && part->active && part->stage == S_PROBING && part->read_id != 0
                 && part->read_id == load->request_id;
    bool next = part && part->active && part->stage == S_LOADING
                && part->loading->session == load->request_id
                && part->loading->requested > part->loading->answered
                && load->part == part->loading->answered;
    if (!probe && !next) {
        tly_log (TLY_DEBUG, "catchup.late_reply", "request_id=%" PRIu64, load->request_id);
        return TLY_CATCHUP_IGNORED;
    }
    *partition_p = partition;
    part->latest_snapshot = load->latest_partition_seq;
    tly_arena_reset (self->arena);
    if (probe) {
        s_on_probe (self, partition, load);
        s_pump (self);
        return TLY_CATCHUP_PENDING;
    }
    if (s_on_part (self, partition, load) == -1) {
        s_pump (self);
        return TLY_CATCHUP_PENDING;
    }
    //  The next parts are asked for before this one is stored: the writer
    //  reads them meanwhile.
    s_due (self, part, tly_mono_ms () + self->timeout_ms);
    part->loading->answered++;
    s_pump (self);
    int rc;
    //  A full map: the part's transaction is gone; grow (nothing open) and redo.
    while ((rc = s_load_part (self, partition, load)) == -1
           && tly_ledger_space (self->ledger) == TLY_STORE_MAP_FULL
           && tly_ledger_grow (self->ledger) == 0)
        ;
    if (rc == -1 && part->stage == S_LOADING)
        s_load_later (self, part);
    s_pump (self);
    return TLY_CATCHUP_PENDING;
}

uint64_t
tly_catchup_latest_snapshot (tly_catchup_t *self, uint32_t partition)
{
    assert (self && partition < self->partition_count);
    return self->partitions [partition].latest_snapshot;
}

tly_catchup_status_t
tly_catchup_on_reply (tly_catchup_t *self, const Tally__ReadReply *read, uint32_t *partition_p)
{
    assert (self && read && partition_p);
    assert (!tly_ledger_in_txn (self->ledger));
    uint32_t partition = (uint32_t) (read->request_id & S_ID_MASK);
    s_partition_t *part = partition < self->partition_count ? &self->partitions [partition] : NULL;
    if (!part || !part->active || part->stage != S_READING || part->read_id != read->request_id) {
        tly_log (TLY_DEBUG, "catchup.late_reply", "request_id=%" PRIu64, read->request_id);
        return TLY_CATCHUP_IGNORED;
    }
    *partition_p = partition;
    part->read_id = 0;
    Tally__ErrorCode code = read->error ? read->error->code : TALLY__ERROR_CODE__OK;
    if (code == TALLY__ERROR_CODE__STALE_EPOCH) {
        tly_log (TLY_WARN, "partition.fenced", "partition=%" PRIu32 " epoch=%" PRIu64, partition,
                 part->epoch);
        s_end (self, part);
        return TLY_CATCHUP_FENCED;
    }
    if (code != TALLY__ERROR_CODE__OK) {
        tly_log (TLY_WARN, "catchup.refused", "partition=%" PRIu32 " code=%s", partition,
                 tly_error_name (code));
        s_due (self, part, tly_mono_ms () + self->timeout_ms);
        return TLY_CATCHUP_PENDING;
    }
    int applied;
    //  A full map: s_apply's transaction is gone; grow (nothing open) and redo.
    while ((applied = s_apply (self, partition, read)) == -1
           && tly_ledger_space (self->ledger) == TLY_STORE_MAP_FULL
           && tly_ledger_grow (self->ledger) == 0)
        ;
    if (applied == -1) {
        s_due (self, part, tly_mono_ms () + self->timeout_ms);
        return TLY_CATCHUP_PENDING;
    }
    if (!read->end) {
        s_due (self, part, tly_mono_ms ());
        return TLY_CATCHUP_PENDING;
    }
    s_end (self, part);
    return TLY_CATCHUP_DONE;
}
