//  tly_saver - saves state snapshots to the audit writer (see the header).
#include "tly_saver.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "tly_log.h"
#include "tly_store.h"
#include "tly_validate.h"
#include "tly_wire.h"

//  One part's rows, in SnapshotRows' wire form.
typedef struct {
    uint8_t *data;
    size_t size;
    size_t room;
} s_part_t;

typedef struct {
    bool served;
    uint64_t base_seq;  //  partition_seq of the latest snapshot
    int64_t base_at;    //  monotonic ms it was saved (or the partition served)
    int64_t retry_at;   //  not before this after a failed save
} s_partition_t;

struct _tly_saver_t {
    tly_ledger_t *ledger;  //  not owned
    zsock_t *audit;        //  not owned
    uint32_t partition_count;
    tly_saver_config_t config;
    s_partition_t *partitions;
    int64_t scan_at;
    //  The save in progress, if any.
    bool saving;
    uint32_t partition;
    uint64_t partition_seq;
    uint64_t epoch;
    int64_t clock_ms;
    zlist_t *parts;  //  s_part_t *, in order
    uint32_t sent;   //  parts sent (the last one awaits its reply)
    uint64_t request_id;
    uint64_t requests;
    int64_t deadline;
    uint64_t saved;
    s_part_t *part;  //  the part being cut
};

tly_saver_t *
tly_saver_new (tly_ledger_t *ledger, zsock_t *audit, uint32_t partition_count,
               const tly_saver_config_t *config)
{
    assert (ledger && audit && config);
    assert (partition_count > 0 && partition_count <= TLY_PARTITIONS_MAX);
    assert (config->every_records >= 1 && config->every_ms >= 1 && config->timeout_ms >= 1);
    tly_saver_t *self = calloc (1, sizeof *self);
    assert (self);
    self->ledger = ledger;
    self->audit = audit;
    self->partition_count = partition_count;
    self->config = *config;
    self->partitions = calloc (partition_count, sizeof (s_partition_t));
    self->parts = zlist_new ();
    assert (self->partitions && self->parts);
    return self;
}

static void
s_part_destroy (s_part_t **part_p)
{
    if (*part_p) {
        free ((*part_p)->data);
        free (*part_p);
        *part_p = NULL;
    }
}

static void
s_forget_parts (tly_saver_t *self)
{
    s_part_t *part;
    while ((part = zlist_pop (self->parts)))
        s_part_destroy (&part);
    s_part_destroy (&self->part);
}

void
tly_saver_destroy (tly_saver_t **self_p)
{
    assert (self_p);
    tly_saver_t *self = *self_p;
    if (!self)
        return;
    s_forget_parts (self);
    zlist_destroy (&self->parts);
    free (self->partitions);
    free (self);
    *self_p = NULL;
}

void
tly_saver_serve (tly_saver_t *self, uint32_t partition, uint64_t latest_partition_seq)
{
    assert (self && partition < self->partition_count);
    s_partition_t *part = &self->partitions [partition];
    part->served = true;
    part->base_seq = latest_partition_seq;
    part->base_at = tly_mono_ms ();
    part->retry_at = 0;
}

static void
s_stop (tly_saver_t *self)
{
    s_forget_parts (self);
    self->saving = false;
    self->request_id = 0;
}

void
tly_saver_drop (tly_saver_t *self, uint32_t partition)
{
    assert (self && partition < self->partition_count);
    self->partitions [partition].served = false;
    if (self->saving && self->partition == partition)
        s_stop (self);
}

//  ---------------------------------------------------------------- taking a snapshot

static int
s_close_part (tly_saver_t *self)
{
    if (!self->part)
        return 0;
    zlist_append (self->parts, self->part);
    self->part = NULL;
    return 0;
}

//  Appends one row to the part being cut, in SnapshotRows' wire form (each
//  row is field 1, length-delimited), so the parts need no second copy.
static int
s_add_row (tly_store_row_t table, const uint8_t *key, size_t key_size, const uint8_t *value,
           size_t value_size, void *arg)
{
    tly_saver_t *self = arg;
    Tally__SnapshotRow row = TALLY__SNAPSHOT_ROW__INIT;
    row.table = (uint32_t) table;
    row.key = (ProtobufCBinaryData) { key_size, (uint8_t *) key };
    row.value = (ProtobufCBinaryData) { value_size, (uint8_t *) value };
    size_t size = tally__snapshot_row__get_packed_size (&row);
    size_t framed = size + 11;  //  tag and a varint length at most
    if (self->part && self->part->size + framed > TLY_SAVER_PART_BYTES)
        s_close_part (self);
    if (!self->part) {
        self->part = calloc (1, sizeof (s_part_t));
        assert (self->part);
    }
    s_part_t *part = self->part;
    if (part->size + framed > part->room) {
        size_t room = part->room ? part->room * 2 : 64 * 1024;
        while (room < part->size + framed)
            room *= 2;
        part->data = realloc (part->data, room);
        assert (part->data);
        part->room = room;
    }
    part->data [part->size++] = 0x0A;  //  field 1, length-delimited
    for (uint64_t left = size;; left >>= 7) {
        part->data [part->size++] = (uint8_t) ((left & 0x7F) | (left > 0x7F ? 0x80 : 0));
        if (left <= 0x7F)
            break;
    }
    size_t packed = tally__snapshot_row__pack (&row, part->data + part->size);
    assert (packed == size);
    part->size += size;
    return 0;
}

static void
s_send_part (tly_saver_t *self)
{
    s_part_t *part = self->sent == 0 ? zlist_first (self->parts) : zlist_next (self->parts);
    assert (part);
    Tally__SnapshotSave save = TALLY__SNAPSHOT_SAVE__INIT;
    self->request_id = ++self->requests;
    save.request_id = self->request_id;
    save.partition = self->partition;
    save.partition_seq = self->partition_seq;
    save.epoch = self->epoch;
    save.clock_ms = self->clock_ms;
    save.schema = TLY_STORE_SCHEMA;
    save.part = self->sent;
    save.last = self->sent + 1 == zlist_size (self->parts);
    save.rows = (ProtobufCBinaryData) { part->size, part->data };
    Tally__AuditRequest request = TALLY__AUDIT_REQUEST__INIT;
    request.body_case = TALLY__AUDIT_REQUEST__BODY_SAVE_SNAPSHOT;
    request.save_snapshot = &save;
    self->sent++;
    self->deadline = tly_mono_ms () + self->config.timeout_ms;
    if (tly_wire_send (self->audit, NULL, &request.base) == -1)
        tly_log (TLY_WARN, "snapshot.send_failed", "partition=%" PRIu32 " error=\"%s\"",
                 self->partition, zmq_strerror (zmq_errno ()));
}

//  Takes partition's committed state and sends its first part. Returns 0,
//  or -1 when there was nothing new or it could not be read.
static int
s_start (tly_saver_t *self, uint32_t partition)
{
    s_partition_t *part = &self->partitions [partition];
    uint64_t applied, epoch;
    int64_t clock;
    s_forget_parts (self);
    if (tly_ledger_each_row (self->ledger, partition, s_add_row, self, &applied, &epoch, &clock)
        == -1) {
        s_forget_parts (self);
        part->retry_at = tly_mono_ms () + TLY_SAVER_RETRY_MS;
        return -1;
    }
    if (applied <= part->base_seq) {
        s_forget_parts (self);  //  the committed state has nothing new yet
        return -1;
    }
    if (!self->part && zlist_size (self->parts) == 0)
        self->part = calloc (1, sizeof (s_part_t));  //  no rows at all: one empty part
    assert (self->part || zlist_size (self->parts) > 0);
    s_close_part (self);
    self->saving = true;
    self->partition = partition;
    self->partition_seq = applied;
    self->epoch = epoch;
    self->clock_ms = clock;
    self->sent = 0;
    tly_log (TLY_DEBUG, "snapshot.saving",
             "partition=%" PRIu32 " partition_seq=%" PRIu64 " parts=%zu", partition, applied,
             zlist_size (self->parts));
    s_send_part (self);
    return 0;
}

//  A served partition due for a snapshot, or -1.
static int64_t
s_due (tly_saver_t *self, int64_t now)
{
    for (uint32_t partition = 0; partition < self->partition_count; partition++) {
        s_partition_t *part = &self->partitions [partition];
        if (!part->served || now < part->retry_at)
            continue;
        uint64_t applied, epoch;
        if (tly_ledger_progress (self->ledger, partition, &applied, &epoch) == -1
            || applied <= part->base_seq)
            continue;
        if (applied - part->base_seq >= self->config.every_records
            || now - part->base_at >= self->config.every_ms)
            return partition;
    }
    return -1;
}

void
tly_saver_tick (tly_saver_t *self)
{
    assert (self);
    int64_t now = tly_mono_ms ();
    if (self->saving) {
        if (now >= self->deadline) {
            tly_log (TLY_WARN, "snapshot.timeout", "partition=%" PRIu32 " part=%" PRIu32,
                     self->partition, self->sent - 1);
            self->partitions [self->partition].retry_at = now + TLY_SAVER_RETRY_MS;
            s_stop (self);
        }
        return;
    }
    if (now < self->scan_at)
        return;
    self->scan_at = now + TLY_SAVER_SCAN_MS;
    int64_t partition = s_due (self, now);
    if (partition >= 0 && s_start (self, (uint32_t) partition) == 0)
        self->scan_at = now;  //  look again when this one is saved
}

void
tly_saver_on_reply (tly_saver_t *self, const Tally__SnapshotSaveReply *reply)
{
    assert (self && reply);
    if (!self->saving || reply->request_id != self->request_id) {
        tly_log (TLY_DEBUG, "snapshot.late_reply", "request_id=%" PRIu64, reply->request_id);
        return;
    }
    s_partition_t *part = &self->partitions [self->partition];
    if (reply->error) {
        tly_log (TLY_WARN, "snapshot.refused", "partition=%" PRIu32 " code=%s message=\"%s\"",
                 self->partition, tly_error_name (reply->error->code),
                 reply->error->message ? reply->error->message : "");
        part->retry_at = tly_mono_ms () + TLY_SAVER_RETRY_MS;
        s_stop (self);
        return;
    }
    //  A header ends the save, also before the last part: the writer has a
    //  snapshot at least as new.
    if (!reply->header && self->sent < zlist_size (self->parts)) {
        s_send_part (self);
        return;
    }
    part->base_seq = self->partition_seq;
    part->base_at = tly_mono_ms ();
    self->saved++;
    tly_log (TLY_INFO, "snapshot.saved",
             "partition=%" PRIu32 " partition_seq=%" PRIu64 " parts=%zu", self->partition,
             self->partition_seq, zlist_size (self->parts));
    s_stop (self);
    self->scan_at = 0;
}

int64_t
tly_saver_next (tly_saver_t *self)
{
    assert (self);
    return self->saving ? self->deadline : self->scan_at;
}

uint64_t
tly_saver_saved (tly_saver_t *self)
{
    assert (self);
    return self->saved;
}
