//  audit_verify_snapshots - the writer's state snapshots in `tally audit
//  verify`: before the walk, those that cannot be used are noted and those
//  whose record is not kept start their partition's state; at a record a
//  snapshot names, it is checked against the state the records give
//  (balance for balance, and partition 0's configuration), or starts it;
//  after the walk, those past the last record read are noted unused.
//  Apart from the record checks (audit_verify_checks.c): a snapshot is an
//  actor's word, judged against the derived state rather than against the
//  chain.
#include "audit_verify_private.h"

#include <inttypes.h>
#include <string.h>
#include "tly_account.h"

//  Partition 0's configuration in the snapshot: the one the records give
//  here where they give one, else, at the version in force, the one
//  taken. Returns 0, or -1 with the failure recorded.
static int
s_snapshot_config (audit_verify_t *self, const audit_snapshot_t *snapshot, uint64_t seq)
{
    if (snapshot->partition != 0)
        return 0;
    Tally__Config *config = NULL;
    if (snapshot->has_config) {
        config = tally__config__unpack (NULL, snapshot->config_size, snapshot->config);
        if (!config) {
            audit_verify_fail (self, seq,
                               "the state snapshot of partition 0 holds a configuration that"
                               " does not decode");
            return -1;
        }
    }
    char reason [AUDIT_DERIVE_REASON_MAX];
    int rc = audit_derive_load_config (self->derive, config, reason, sizeof reason);
    if (config)
        tally__config__free_unpacked (config, NULL);
    if (rc == -1)
        audit_verify_fail (self, seq, "%s", reason);
    return rc;
}

static void
s_snapshot_unused (audit_verify_t *self, const audit_snapshot_t *snapshot, const char *why)
{
    if (self->snapshots_unused++ == 0) {
        self->first_unused = snapshot;
        self->first_unused_why = why;
    }
}

//  Starts the snapshot's partition from it: its records before it are not
//  kept, so nothing can check it.
static void
s_snapshot_start (audit_verify_t *self, audit_snapshot_t *snapshot)
{
    audit_derive_t *derive = self->derive;
    uint32_t partition = snapshot->partition;
    if (audit_derive_load_begin (derive, partition, snapshot->partition_seq, snapshot->clock_ms)
        == -1) {
        s_snapshot_unused (self, snapshot, "its partition's state is known from elsewhere");
        return;
    }
    for (size_t i = 0; i < snapshot->account_count; i++) {
        const audit_snapshot_account_t *account = &snapshot->accounts [i];
        if (audit_derive_load_account (derive, partition, account->user, account->balance,
                                       account->last_updated, account->bucket_tokens,
                                       account->bucket_ms)
                == -1
            || audit_derive_load_holds (derive, partition, account->user, account->held,
                                        account->orders_open)
                   == -1) {
            audit_verify_fail (self, snapshot->seq,
                               "the state snapshot of partition %" PRIu32
                               " holds an account twice, or one"
                               " with a negative balance or a held amount not within 0 .. its"
                               " balance",
                               partition);
            return;
        }
    }
    for (size_t i = 0; i < snapshot->order_count; i++) {
        const audit_snapshot_order_t *row = &snapshot->orders [i];
        Tally__Order *order = tally__order__unpack (NULL, row->record_size, row->record);
        uint8_t key [TLY_OBJECT_KEY_BYTES];
        int rc = order && order->id && tly_object_key_parse (order->id, key) == 0
                         && memcmp (key, row->key, sizeof key) == 0
                     ? audit_derive_load_order (derive, partition, order)
                     : -1;
        if (order)
            tally__order__free_unpacked (order, NULL);
        if (rc == -1) {
            audit_verify_fail (self, snapshot->seq,
                               "the state snapshot of partition %" PRIu32
                               " holds an order that does not decode, under another key, of"
                               " another partition, or twice",
                               partition);
            return;
        }
    }
    //  Decoded on their own: the walk's arena may hold the record at hand.
    for (size_t i = 0; i < snapshot->result_count; i++) {
        const audit_snapshot_result_t *row = &snapshot->results [i];
        Tally__MessageResult *result = tally__message_result__unpack (NULL, row->result_size,
                                                                      row->result);
        if (result) {
            audit_derive_load_result (derive, partition, row->user, row->message_id, result);
            tally__message_result__free_unpacked (result, NULL);
        }
    }
    for (size_t i = 0; i < snapshot->adjustment_count; i++) {
        const audit_snapshot_adjustment_t *row = &snapshot->adjustments [i];
        Tally__AdjustmentRecord *record = tally__adjustment_record__unpack (NULL, row->record_size,
                                                                            row->record);
        int rc = record ? audit_derive_load_adjustment (derive, partition, row->key, record) : -1;
        if (record)
            tally__adjustment_record__free_unpacked (record, NULL);
        if (rc == -1) {
            audit_verify_fail (self, snapshot->seq,
                               "the state snapshot of partition %" PRIu32
                               " holds an adjustment that does not decode, of another"
                               " partition, or twice",
                               partition);
            return;
        }
    }
    if (s_snapshot_config (self, snapshot, snapshot->seq) == -1)
        return;
    self->snapshots_started++;
    audit_snapshots_drop_rows (snapshot);
}

//  The snapshot's accounts must be those the records give its partition at
//  its record, balance for balance (held amounts and open orders too).
static tly_journal_step_t
s_snapshot_compare (audit_verify_t *self, audit_snapshot_t *snapshot, uint64_t seq)
{
    uint32_t partition = snapshot->partition;
    char user [TLY_ID_MAX];
    for (size_t i = 0; i < snapshot->account_count; i++) {
        const audit_snapshot_account_t *account = &snapshot->accounts [i];
        int64_t balance;
        tly_account_id (account->user, user);
        if (audit_derive_balance (self->derive, partition, account->user, &balance) == -1)
            return audit_verify_fail (self, seq,
                                      "the state snapshot of partition %" PRIu32
                                      " at this record has an"
                                      " account for user %s, which the records do not give",
                                      partition, user);
        if (balance != account->balance)
            return audit_verify_fail (self, seq,
                                      "the state snapshot of partition %" PRIu32
                                      " at this record says user"
                                      " %s has balance %" PRId64 "; the records give %" PRId64,
                                      partition, user, account->balance, balance);
        int64_t held = 0;
        uint32_t orders_open = 0;
        audit_derive_held (self->derive, partition, account->user, &held, &orders_open);
        if (held != account->held)
            return audit_verify_fail (self, seq,
                                      "the state snapshot of partition %" PRIu32
                                      " at this record says user"
                                      " %s has held %" PRId64 "; the records give %" PRId64,
                                      partition, user, account->held, held);
        //  An actor starting from the snapshot takes its count for the
        //  open-order limit, so a wrong one would refuse or let through a
        //  createOrder the records would not.
        if (orders_open != account->orders_open)
            return audit_verify_fail (self, seq,
                                      "the state snapshot of partition %" PRIu32
                                      " at this record says user"
                                      " %s has %" PRIu32 " open orders; the records give %" PRIu32,
                                      partition, user, account->orders_open, orders_open);
    }
    uint64_t accounts = audit_derive_accounts (self->derive, partition);
    if (accounts != snapshot->account_count)
        return audit_verify_fail (self, seq,
                                  "the state snapshot of partition %" PRIu32
                                  " at this record holds %zu"
                                  " accounts; the records give %" PRIu64,
                                  partition, snapshot->account_count, accounts);
    //  Every credit and debit, field for field: a reference the snapshot
    //  lost (or made up) would answer its next repeat otherwise.
    for (size_t i = 0; i < snapshot->adjustment_count; i++) {
        const audit_snapshot_adjustment_t *row = &snapshot->adjustments [i];
        Tally__AdjustmentRecord *record = tally__adjustment_record__unpack (NULL, row->record_size,
                                                                            row->record);
        bool held = record && tly_object_key_partition (row->key) == partition
                    && audit_derive_has_adjustment (self->derive, row->key, record);
        if (record)
            tally__adjustment_record__free_unpacked (record, NULL);
        if (!held) {
            char id [TLY_ID_MAX];
            tly_object_id_of_key (row->key, id);
            return audit_verify_fail (self, seq,
                                      "the state snapshot of partition %" PRIu32
                                      " at this record holds adjustment %s, which the records"
                                      " do not give",
                                      partition, id);
        }
    }
    uint64_t adjustments = audit_derive_adjustments (self->derive, partition);
    if (adjustments != snapshot->adjustment_count)
        return audit_verify_fail (self, seq,
                                  "the state snapshot of partition %" PRIu32
                                  " at this record holds %zu"
                                  " adjustments; the records give %" PRIu64,
                                  partition, snapshot->adjustment_count, adjustments);
    //  Every order: its status, version and total.
    for (size_t i = 0; i < snapshot->order_count; i++) {
        const audit_snapshot_order_t *row = &snapshot->orders [i];
        Tally__Order *order = tally__order__unpack (NULL, row->record_size, row->record);
        bool held = order && tly_object_key_partition (row->key) == partition
                    && audit_derive_has_order (self->derive, order);
        if (order)
            tally__order__free_unpacked (order, NULL);
        if (!held) {
            char id [TLY_ID_MAX];
            tly_object_id_of_key (row->key, id);
            return audit_verify_fail (self, seq,
                                      "the state snapshot of partition %" PRIu32
                                      " at this record holds order %s, which the records do not"
                                      " give so (status, version, total)",
                                      partition, id);
        }
    }
    uint64_t orders = audit_derive_orders (self->derive, partition);
    if (orders != snapshot->order_count)
        return audit_verify_fail (self, seq,
                                  "the state snapshot of partition %" PRIu32
                                  " at this record holds %zu orders; the records give %" PRIu64,
                                  partition, snapshot->order_count, orders);
    if (s_snapshot_config (self, snapshot, seq) == -1)
        return TLY_JOURNAL_STOP;
    self->snapshots_checked++;
    audit_snapshots_drop_rows (snapshot);
    return TLY_JOURNAL_NEXT;
}

//  At a record a snapshot names: the record must be what the snapshot
//  signs; then it is checked, or where the state is not known, started from.
tly_journal_step_t
audit_verify_check_snapshots (audit_verify_t *self, uint64_t seq,
                              const uint8_t hash [TLY_HASH_BYTES], const Tally__RecordDraft *draft)
{
    tly_journal_step_t step = TLY_JOURNAL_NEXT;
    while (step == TLY_JOURNAL_NEXT && self->snapshot_next < self->snapshot_count
           && self->snapshots [self->snapshot_next].seq <= seq) {
        audit_snapshot_t *snapshot = &self->snapshots [self->snapshot_next++];
        if (snapshot->problem [0] || snapshot->seq < seq)
            continue;  //  noted before the walk
        if (snapshot->partition != draft->partition
            || snapshot->partition_seq != draft->partition_seq
            || memcmp (snapshot->record_hash, hash, TLY_HASH_BYTES) != 0)
            return audit_verify_fail (self, seq,
                                      "the state snapshot of partition %" PRIu32
                                      " names this record as"
                                      " partition seq %" PRIu64 " with another hash",
                                      snapshot->partition, snapshot->partition_seq);
        if (audit_derive_at (self->derive, snapshot->partition, snapshot->partition_seq))
            step = s_snapshot_compare (self, snapshot, seq);
        else
            s_snapshot_start (self, snapshot);
    }
    return self->failed ? TLY_JOURNAL_STOP : step;
}

//  Before the walk: the snapshots that cannot be used are noted, and those
//  whose record is before the first one walked (not kept) start their
//  partition's state.
void
audit_verify_start_snapshots (audit_verify_t *self)
{
    for (size_t i = 0; i < self->snapshot_count && !self->failed; i++) {
        audit_snapshot_t *snapshot = &self->snapshots [i];
        if (snapshot->problem [0])
            s_snapshot_unused (self, snapshot, snapshot->problem);
        else if (snapshot->seq < self->next_seq)
            s_snapshot_start (self, snapshot);
    }
}

//  After the walk: a snapshot of a record past the last one read (the writer
//  went on meanwhile) was not used.
void
audit_verify_end_snapshots (audit_verify_t *self)
{
    for (; self->snapshot_next < self->snapshot_count; self->snapshot_next++) {
        const audit_snapshot_t *snapshot = &self->snapshots [self->snapshot_next];
        if (!snapshot->problem [0] && snapshot->seq >= self->next_seq)
            s_snapshot_unused (self, snapshot, "it names a record after the last one read");
    }
}
