//  audit_snapshots - the state snapshots the writer keeps beside the journal
//  (DATA/snapshots; docs/journal.md, "State snapshots"), read for `tally
//  audit verify`: each partition's latest, its header checked (signed by the
//  worker, in the actors' state layout, its parts' digest), and what verify
//  needs of its rows: the accounts' balances and held amounts, the
//  remembered results, the credits and debits (their references taken),
//  the orders and partition 0's configuration.
//
//  A snapshot is an actor's word for a partition's state, which the writer
//  only signed for the record it names: verify compares it with the state
//  the records give where it can, and starts from it only where the records
//  before it are not kept.
//
//      audit_snapshot_t *snapshots;
//      size_t count;
//      audit_snapshots_read (dir, worker, &snapshots, &count);
//      ... snapshots [i].problem [0] == 0: usable ...
//      audit_snapshots_free (&snapshots, count);
#ifndef AUDIT_SNAPSHOTS_H_INCLUDED
#define AUDIT_SNAPSHOTS_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include "tly_limits.h"
#include "tly_object_id.h"

#define AUDIT_SNAPSHOT_PROBLEM_MAX 128

typedef struct {
    uint8_t user [TLY_KEY_BYTES];
    int64_t balance;
    int64_t last_updated;
    int64_t bucket_tokens;  //  its rate limit bucket (0, 0: none yet)
    int64_t bucket_ms;
    int64_t held;          //  held for its orders processing (0: none)
    uint32_t orders_open;  //  its orders in draft or processing
} audit_snapshot_account_t;

typedef struct {
    uint8_t user [TLY_KEY_BYTES];
    uint8_t message_id [TLY_MESSAGE_ID_BYTES];
    uint8_t *result;  //  MessageResult bytes, as the actor's dedupe table keeps them
    size_t result_size;
} audit_snapshot_result_t;

typedef struct {
    uint8_t key [TLY_OBJECT_KEY_BYTES];  //  its raw object key (tly_adjustment_key)
    uint8_t *record;                     //  AdjustmentRecord bytes
    size_t record_size;
} audit_snapshot_adjustment_t;

typedef struct {
    uint8_t key [TLY_OBJECT_KEY_BYTES];  //  its raw object key (tly_order_key)
    uint8_t *record;                     //  Order bytes, as the actor keeps it
    size_t record_size;
} audit_snapshot_order_t;

typedef struct {
    uint32_t partition;
    uint64_t partition_seq;  //  the state after the partition's records up to this one
    uint64_t seq;            //  the journal record that is, and its hash
    uint8_t record_hash [TLY_HASH_BYTES];
    int64_t clock_ms;  //  the saving actor's dedupe clock
    //  Why the snapshot cannot be used ("": it can): verify notes it and goes on.
    char problem [AUDIT_SNAPSHOT_PROBLEM_MAX];
    audit_snapshot_account_t *accounts;
    size_t account_count;
    audit_snapshot_result_t *results;
    size_t result_count;
    audit_snapshot_adjustment_t *adjustments;
    size_t adjustment_count;
    //  Every order of the partition, final ones too.
    audit_snapshot_order_t *orders;
    size_t order_count;
    //  Partition 0's: the configuration its records left (Config bytes;
    //  none: version 0, the empty one).
    bool has_config;
    uint8_t *config;
    size_t config_size;
} audit_snapshot_t;

//  Reads every partition's latest snapshot in dir (one read transaction: the
//  writer may keep writing), checked against worker (NULL: none can be used),
//  in seq order into *snapshots. A dir that does not exist holds none.
//  Returns 0, or -1 with one line on stderr naming command when the store
//  cannot be read.
int audit_snapshots_read (const char *command, const char *dir, const uint8_t *worker,
                          audit_snapshot_t **snapshots, size_t *count);
//  Frees one snapshot's rows (it stays in the list, with none).
void audit_snapshots_drop_rows (audit_snapshot_t *snapshot);
void audit_snapshots_free (audit_snapshot_t **snapshots, size_t count);

#endif
