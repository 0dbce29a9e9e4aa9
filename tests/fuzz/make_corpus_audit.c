//  make_corpus_audit - `fuzz_corpus snapshots` and `fuzz_corpus journal`:
//  what the audit writer holds, made seeds: each partition's snapshot as
//  the writer sends it to an actor (snapshot_load, wire; partition 0's
//  with the configuration), and the journal's first records, segment
//  starts, the records of a configuration change, of a refund and of an
//  order's submit and completion, and checkpoints (journal_verify, wire).
//  Apart from the traffic (make_corpus_traffic.c): these are read from the
//  writer once the traffic has made them.
#include "make_corpus.h"

#include <assert.h>
#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tly_bytes.h"
#include "tly_journal.h"
#include "tly_store.h"
#include "tly_wire.h"

#define S_RECORDS_MAX        6
#define S_PARTS_MAX          8
#define S_SNAPSHOT_BYTES_MAX (CORPUS_SEED_MAX - 256)
#define S_SEGMENTS_MAX       3  //  segment starts made seeds

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
    zsock_set_rcvtimeo (dealer, CORPUS_WAIT_MS);
    zframe_t *frame = zframe_recv (dealer);
    if (!frame)
        return NULL;
    Tally__AuditReply *reply = tally__audit_reply__unpack (NULL, zframe_size (frame),
                                                           zframe_data (frame));
    zframe_destroy (&frame);
    return reply;
}

//  Whether a part's rows hold partition 0's configuration.
static bool
s_config_row (const Tally__SnapshotLoadReply *load)
{
    Tally__SnapshotRows *rows = tally__snapshot_rows__unpack (NULL, load->rows.len,
                                                              load->rows.data);
    bool found = false;
    for (size_t i = 0; rows && i < rows->n_rows; i++)
        found |= rows->rows [i]->table == TLY_STORE_ROW_CONFIG;
    if (rows)
        tally__snapshot_rows__free_unpacked (rows, NULL);
    return found;
}

//  Succeeds once partition 0's snapshot holds the configuration (made
//  after the traffic changed it), with the seeds of every partition's.
int
corpus_snapshots (const char *endpoint, uint32_t partitions)
{
    zsock_t *dealer = zsock_new_dealer (endpoint);
    if (!dealer) {
        fprintf (stderr, "fuzz_corpus: cannot connect to %s\n", endpoint);
        return 1;
    }
    int found = 0;
    bool config = false;
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
        //  A seed holds a small snapshot only (a few users' rows; partition
        //  0's with client A's and the configuration is about 2.9 kB, 2's
        //  with client C's orders 3.7 kB), with room for the signed header
        //  and the chunks (about 220 bytes: corpus_seed leaves out a seed
        //  over CORPUS_SEED_MAX all the same).
        if (!header || header->parts > S_PARTS_MAX || header->bytes > S_SNAPSHOT_BYTES_MAX) {
            if (header) {
                fprintf (stderr,
                         "fuzz_corpus: partition %" PRIu32 "'s snapshot left out (%" PRIu64
                         " bytes)\n",
                         partition, (uint64_t) header->bytes);
                tally__snapshot_header__free_unpacked (header, NULL);
            }
            tally__audit_reply__free_unpacked (reply, NULL);
            continue;
        }
        char name [64];
        snprintf (name, sizeof name, "snapshot-%" PRIu32, partition);
        size_t size;
        uint8_t *bytes = fuzz_pack (&reply->base, &size);
        corpus_wire_seed (CORPUS_WIRE_AUDIT, name, bytes, size);
        free (bytes);
        //  The actor's setup byte: the partition (epoch 1).
        corpus_chunks_t seed;
        corpus_chunks_open (&seed, (uint8_t) partition);
        //  First the answer to the actor's probe: the latest seq alone.
        Tally__SnapshotLoadReply probe = TALLY__SNAPSHOT_LOAD_REPLY__INIT;
        probe.request_id = reply->load_snapshot->request_id;
        probe.latest_partition_seq = header->partition_seq;
        bytes = fuzz_pack (&probe.base, &size);
        corpus_chunks_add (&seed, 1, bytes, size);
        free (bytes);
        for (uint32_t part = 0; part < header->parts; part++) {
            if (part > 0) {
                tally__audit_reply__free_unpacked (reply, NULL);
                reply = s_load (dealer, partition, header->partition_seq, part);
                assert (reply && reply->body_case == TALLY__AUDIT_REPLY__BODY_LOAD_SNAPSHOT);
            }
            bytes = fuzz_pack (&reply->load_snapshot->base, &size);
            corpus_chunks_add (&seed, 1, bytes, size);
            free (bytes);
            if (partition == 0)
                config |= s_config_row (reply->load_snapshot);
        }
        corpus_chunks_close (&seed, "fuzz_snapshot_load", name);
        tally__snapshot_header__free_unpacked (header, NULL);
        tally__audit_reply__free_unpacked (reply, NULL);
        found++;
    }
    zsock_destroy (&dealer);
    if (found == 0 || !config) {
        fprintf (stderr, "fuzz_corpus: partition 0 has no small snapshot with the configuration"
                         " yet\n");
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
//  Returns the window's last seq.
static uint64_t
s_window (const s_list_t *records, const s_list_t *checkpoints, uint8_t mode,
          const tly_journal_segment_info_t *info, uint64_t first, const char *name)
{
    corpus_chunks_t seed;
    corpus_chunks_open (&seed, mode);
    size_t used = 1;
    uint64_t last = first - 1;
    for (size_t i = 0; i < records->count && last - first + 1 < S_RECORDS_MAX; i++) {
        const s_stored_t *record = &records->items [i];
        if (record->seq != last + 1 || used + record->size + 3 > CORPUS_SEED_MAX - 1024)
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
        corpus_chunks_add (&seed, 2, head, 17 + TLY_HASH_BYTES + info->base_checkpoint_size);
    }
    for (size_t i = 0; i < checkpoints->count; i++) {
        const s_stored_t *checkpoint = &checkpoints->items [i];
        if (checkpoint->seq < first || checkpoint->seq > last)
            continue;
        uint8_t bytes [8 + TLY_JOURNAL_CHECKPOINT_MAX];
        tly_put_be64 (bytes, checkpoint->seq);
        assert (checkpoint->size <= TLY_JOURNAL_CHECKPOINT_MAX);
        memcpy (bytes + 8, checkpoint->bytes, checkpoint->size);
        corpus_chunks_add (&seed, 1, bytes, 8 + checkpoint->size);
    }
    for (size_t i = 0; i < records->count; i++)
        if (records->items [i].seq >= first && records->items [i].seq <= last)
            corpus_chunks_add (&seed, 0, records->items [i].bytes, records->items [i].size);
    corpus_chunks_close (&seed, "fuzz_journal_verify", name);
    return last;
}

//  The record's body, or NULL.
static Tally__RecordBody *
s_body (const s_stored_t *record)
{
    Tally__StoredRecord *stored = tally__stored_record__unpack (NULL, record->size, record->bytes);
    if (!stored)
        return NULL;
    Tally__RecordBody *body = tally__record_body__unpack (NULL, stored->body.len,
                                                          stored->body.data);
    tally__stored_record__free_unpacked (stored, NULL);
    return body;
}

//  Where the traffic's configuration, refunds and orders are: the first
//  record that changed the configuration, the first refund's, that of the
//  purchase it gave back, the first order's submit (its first OrderChanged
//  to processing) and completion (0: none).
typedef struct {
    uint64_t config;
    uint64_t refund;
    uint64_t purchase;
    uint64_t submit;
    uint64_t complete;
} s_found_t;

//  The first order status of an OrderChanged in draft (0: none).
static Tally__OrderStatus
s_order_status (const Tally__RecordDraft *draft)
{
    for (size_t e = 0; draft && e < draft->n_events; e++)
        if (draft->events [e]->kind_case == TALLY__EVENT__KIND_ORDER_CHANGED
            && draft->events [e]->order_changed->order)
            return draft->events [e]->order_changed->order->status;
    return TALLY__ORDER_STATUS__ORDER_STATUS_NONE;
}

static s_found_t
s_find (const s_list_t *records)
{
    s_found_t found = { 0 };
    uint32_t partition = 0;
    uint64_t partition_seq = 0;
    for (size_t i = 0; i < records->count; i++) {
        Tally__RecordBody *body = s_body (&records->items [i]);
        const Tally__RecordDraft *draft = body ? body->draft : NULL;
        if (draft && draft->config && !found.config)
            found.config = records->items [i].seq;
        Tally__OrderStatus status = s_order_status (draft);
        if (status == TALLY__ORDER_STATUS__ORDER_PROCESSING && !found.submit)
            found.submit = records->items [i].seq;
        if (status == TALLY__ORDER_STATUS__ORDER_COMPLETED && !found.complete)
            found.complete = records->items [i].seq;
        for (size_t e = 0; draft && !found.refund && e < draft->n_events; e++) {
            const Tally__BalanceAdjusted *adjusted = draft->events [e]->balance_adjusted;
            if (draft->events [e]->kind_case == TALLY__EVENT__KIND_BALANCE_ADJUSTED
                && adjusted->refund_of && *adjusted->refund_of) {
                found.refund = records->items [i].seq;
                partition = draft->partition;
                partition_seq = adjusted->purchase_partition_seq;
            }
        }
        if (body)
            tally__record_body__free_unpacked (body, NULL);
    }
    for (size_t i = 0; i < records->count && found.refund && !found.purchase; i++) {
        Tally__RecordBody *body = s_body (&records->items [i]);
        const Tally__RecordDraft *draft = body ? body->draft : NULL;
        if (draft && draft->partition == partition && draft->partition_seq == partition_seq)
            found.purchase = records->items [i].seq;
        if (body)
            tally__record_body__free_unpacked (body, NULL);
    }
    return found;
}

//  A window from the start of the segment that holds seq, which must
//  reach the record reach, named what.
static void
s_window_at (tly_journal_t *journal, const s_list_t *records, const s_list_t *checkpoints,
             uint8_t mode, uint64_t seq, uint64_t reach, const char *what, const char *name)
{
    size_t index = seq ? tly_journal_segment_at (journal, seq) : 0;
    tly_journal_segment_info_t info;
    if (index == 0 || index == tly_journal_segment_count (journal)
        || tly_journal_segment_info (journal, index, &info) == -1) {
        fprintf (stderr, "fuzz_corpus: no segment after the first holds the %s\n", what);
        exit (1);
    }
    uint64_t last = s_window (records, checkpoints, mode, &info, info.first, name);
    if (last < reach) {
        fprintf (stderr, "fuzz_corpus: %s ends at seq %" PRIu64 ", before the %s (%" PRIu64 ")\n",
                 name, last, what, reach);
        exit (1);
    }
}

//  The body of record seq, for fuzz_wire.
static void
s_body_seed (const s_list_t *records, uint64_t seq, const char *name)
{
    for (size_t i = 0; i < records->count; i++)
        if (records->items [i].seq == seq) {
            Tally__StoredRecord *stored = tally__stored_record__unpack (
                NULL, records->items [i].size, records->items [i].bytes);
            assert (stored);
            corpus_wire_seed (CORPUS_WIRE_BODY, name, stored->body.data, stored->body.len);
            tally__stored_record__free_unpacked (stored, NULL);
        }
}

int
corpus_journal (const char *dir)
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
    //  The configuration's first change, and a refund after the purchase it
    //  gives back (the walk reads that purchase first), each from the
    //  start of its segment; their bodies for fuzz_wire.
    s_found_t found = s_find (&records);
    s_window_at (journal, &records, &checkpoints, 1, found.config, found.config,
                 "configuration change", "segment-config");
    s_window_at (journal, &records, &checkpoints, 2, found.purchase, found.refund, "refund",
                 "kept-refund");
    //  An order's submit (the hold placed) and completion (captured, its
    //  purchases recorded), from the start of the submit's segment.
    s_window_at (journal, &records, &checkpoints, 2, found.submit, found.complete,
                 "order's completion", "kept-order");
    s_body_seed (&records, found.config, "record-config");
    s_body_seed (&records, found.refund, "record-refund");
    s_body_seed (&records, found.complete, "record-order");
    //  Checkpoints alone, and one record's parts for fuzz_wire.
    for (size_t i = 0; i < checkpoints.count && i < 3; i++) {
        char name [64];
        snprintf (name, sizeof name, "checkpoint-%" PRIu64, checkpoints.items [i].seq);
        corpus_chunks_t seed;
        corpus_chunks_open (&seed, 0);
        corpus_chunks_add (&seed, 3, checkpoints.items [i].bytes, checkpoints.items [i].size);
        corpus_chunks_close (&seed, "fuzz_journal_verify", name);
        corpus_wire_seed (CORPUS_WIRE_CKPT, name, checkpoints.items [i].bytes,
                          checkpoints.items [i].size);
    }
    const s_stored_t *record = &records.items [records.count > 2 ? 2 : 0];
    corpus_wire_seed (CORPUS_WIRE_STORED, "record", record->bytes, record->size);
    Tally__StoredRecord *stored = tally__stored_record__unpack (NULL, record->size, record->bytes);
    assert (stored);
    corpus_wire_seed (CORPUS_WIRE_BODY, "record", stored->body.data, stored->body.len);
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
