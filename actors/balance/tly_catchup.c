//  tly_catchup - reads newly owned partitions from the journal into the ledger.
#include "tly_catchup.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "tly_arena.h"
#include "tly_log.h"
#include "tly_sign.h"
#include "tly_validate.h"
#include "tly_wire.h"

#define S_ARENA_BLOCK (1024 * 1024)
//  A read's request_id carries its partition in the low bits (partitions are
//  below TLY_PARTITIONS_MAX = 2^16), so a reply finds its partition at once.
#define S_ID_SHIFT    16
#define S_ID_MASK     ((UINT64_C (1) << S_ID_SHIFT) - 1)

typedef struct {
    bool active;
    uint64_t epoch;    //  the claim
    uint64_t read_id;  //  read in flight, 0 when none
    int64_t read_at;   //  monotonic ms: send (or resend) the read
} s_partition_t;

struct _tly_catchup_t {
    tly_ledger_t *ledger;  //  not owned
    zsock_t *audit;        //  not owned
    uint32_t partition_count;
    int64_t timeout_ms;
    tly_arena_t *arena;  //  one reply's records
    s_partition_t *partitions;
    size_t active;
    int64_t next_at;  //  earliest read_at of an active partition
    uint64_t reads;
};

tly_catchup_t *
tly_catchup_new (tly_ledger_t *ledger, zsock_t *audit, uint32_t partition_count, int64_t timeout_ms)
{
    assert (ledger && audit);
    assert (partition_count > 0 && partition_count <= TLY_PARTITIONS_MAX);
    assert (timeout_ms > 0);
    tly_catchup_t *self = calloc (1, sizeof (tly_catchup_t));
    if (!self)
        return NULL;
    self->ledger = ledger;
    self->audit = audit;
    self->partition_count = partition_count;
    self->timeout_ms = timeout_ms;
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
    part->epoch = epoch;
    part->read_id = 0;
    s_due (self, part, tly_mono_ms ());
}

static void
s_end (tly_catchup_t *self, s_partition_t *part)
{
    assert (part->active && self->active > 0);
    part->active = false;
    part->read_id = 0;
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
s_send_read (tly_catchup_t *self, uint32_t partition)
{
    s_partition_t *part = &self->partitions [partition];
    part->read_at = tly_mono_ms () + self->timeout_ms;
    uint64_t applied, epoch;
    if (tly_ledger_progress (self->ledger, partition, &applied, &epoch) == -1)
        return;
    part->read_id = (++self->reads << S_ID_SHIFT) | partition;
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

void
tly_catchup_tick (tly_catchup_t *self)
{
    assert (self);
    int64_t now = tly_mono_ms ();
    if (self->active == 0 || now < self->next_at)
        return;
    self->next_at = INT64_MAX;
    for (uint32_t partition = 0; partition < self->partition_count; partition++) {
        s_partition_t *part = &self->partitions [partition];
        if (!part->active)
            continue;
        if (part->read_at <= now)
            s_send_read (self, partition);
        if (part->read_at < self->next_at)
            self->next_at = part->read_at;
    }
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

tly_catchup_status_t
tly_catchup_on_reply (tly_catchup_t *self, const Tally__ReadReply *read, uint32_t *partition_p)
{
    assert (self && read && partition_p);
    assert (!tly_ledger_in_txn (self->ledger));
    uint32_t partition = (uint32_t) (read->request_id & S_ID_MASK);
    s_partition_t *part = partition < self->partition_count ? &self->partitions [partition] : NULL;
    if (!part || !part->active || part->read_id != read->request_id) {
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
