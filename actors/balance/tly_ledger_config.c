//  tly_ledger_config - the ledger's part in the configuration (the admin
//  group and the price catalog, docs/protocol.md "Admins and the catalog"):
//  deciding configuration messages in partition 0, replaying the records
//  that changed it, and keeping the one every decision is made under.
//
//  The configuration is the ledger's, not a partition's: every partition
//  decides under it. Partition 0's state keeps the one its records left
//  (a row its state snapshots carry); the ledger starts from it, and takes
//  a newer one from any record it replays and from the audit writer's
//  STALE_CONFIG answers (tly_ledger_adopt_config), never an older one.
#include "tly_ledger_private.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>
#include "tly_account.h"
#include "tly_log.h"

int
tly_ledger_config_open (tly_ledger_t *self)
{
    self->config = tly_config_new ();
    self->config_committed = tly_config_new ();
    self->config_dirty = false;
    tly_arena_t *arena = tly_arena_new (64 * 1024);
    Tally__Config *stored = NULL;
    int rc = 0;
    if (tly_store_read_begin (self->store) == -1)
        rc = -1;
    else {
        tly_store_lookup_t found = tly_store_config (self->store, arena, &stored);
        tly_store_read_end (self->store);
        char reason [160];
        if (found == TLY_STORE_ERROR)
            rc = -1;
        else if (found == TLY_STORE_FOUND
                 && tly_config_from_proto (self->config, stored, NULL, reason, sizeof reason)
                        == -1) {
            //  A cache: the writer hands the right one over at the first append.
            tly_log (TLY_WARN, "ledger.config_unreadable", "reason=\"%s\"", reason);
            tly_config_reset (self->config);
        }
    }
    tly_config_copy (self->config_committed, self->config);
    tly_arena_destroy (&arena);
    return rc;
}

void
tly_ledger_config_close (tly_ledger_t *self)
{
    tly_config_destroy (&self->config);
    tly_config_destroy (&self->config_committed);
}

void
tly_ledger_config_settle (tly_ledger_t *self, bool keep)
{
    if (!self->config_dirty)
        return;
    if (keep)
        tly_config_copy (self->config_committed, self->config);
    else
        tly_config_copy (self->config, self->config_committed);
    self->config_dirty = false;
}

const tly_config_t *
tly_ledger_config (tly_ledger_t *self)
{
    assert (self);
    return self->config;
}

const tly_config_t *
tly_ledger_config_committed (tly_ledger_t *self)
{
    assert (self);
    return self->config_committed;
}

int
tly_ledger_adopt_config (tly_ledger_t *self, const Tally__Config *config)
{
    assert (self && config);
    assert (!tly_store_in_txn (self->store));
    char reason [160];
    if (tly_config_from_proto (self->config, config, self->limits.worker, reason, sizeof reason)
        == -1) {
        tly_log (TLY_ERROR, "ledger.config_refused",
                 "version=%" PRIu64 " reason=\"the writer's configuration: %s\"", config->version,
                 reason);
        return -1;
    }
    tly_config_copy (self->config_committed, self->config);
    self->config_dirty = false;
    tly_log (TLY_INFO, "ledger.config", "version=%" PRIu64 " admins=%zu items=%zu",
             tly_config_version (self->config), tly_config_admin_count (self->config),
             tly_config_item_count (self->config));
    return 0;
}

int
tly_ledger_envelope (tly_ledger_t *self, uint32_t partition)
{
    assert (self);
    self->envelope_version = tly_config_version (self->config);
    uint64_t applied, epoch;
    if (tly_store_progress (self->store, partition, &applied, &epoch) == -1)
        return -1;
    self->envelope_seq = applied + 1;
    self->envelope_partition = partition;
    self->envelope_open = true;
    return 0;
}

Tally__Config *
tly_ledger_config_draft (tly_ledger_t *self, uint64_t before, tly_arena_t *arena)
{
    assert (self && arena);
    if (tly_config_version (self->config) == before)
        return NULL;
    return tly_config_to_proto (self->config, arena);
}

int
tly_ledger_execute_config (tly_ledger_t *self, const tly_ledger_user_t *user,
                           const Tally__InboxMessage *message, tly_arena_t *arena,
                           Tally__MessageResult *result)
{
    if (user->route != 0) {
        tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__BAD_REQUEST,
                              "a configuration message goes to partition 0");
        return 0;
    }
    const uint8_t *worker = user->worker ? user->pk : self->limits.worker;
    bool changed = false;
    const char *text = NULL;
    Tally__ErrorCode code = tly_config_decide (self->config, worker, user->pk, message, &changed,
                                               &text);
    if (code != TALLY__ERROR_CODE__OK) {
        tly_ledger_set_error (arena, result, code, text);
        return 0;
    }
    if (changed) {
        //  One new version for the envelope, however many of it change.
        tly_config_set_version (self->config, self->envelope_version + 1);
        self->config_dirty = true;
        if (tly_store_put_config (self->store, tly_config_to_proto (self->config, arena)) == -1)
            return -1;
    }
    Tally__ConfigChange *change = tly_arena_alloc (arena, sizeof *change);
    tally__config_change__init (change);
    change->version = tly_config_version (self->config);
    if (message->body_case == TALLY__INBOX_MESSAGE__BODY_SET_PRICE) {
        const tly_config_item_t *item = tly_config_item (self->config, message->set_price->item_id);
        assert (item);
        change->item = tly_arena_alloc (arena, sizeof *change->item);
        tally__catalog_item__init (change->item);
        change->item->item_id = tly_arena_strdup (arena, item->item_id);
        change->item->price = item->price;
        change->item->active = item->active;
    } else {
        const Tally__AdminChange *admin = message->body_case == TALLY__INBOX_MESSAGE__BODY_ADD_ADMIN
                                              ? message->add_admin
                                              : message->remove_admin;
        char id [TLY_ID_MAX];
        tly_account_id (admin->account.data, id);
        change->admin_id = tly_arena_strdup (arena, id);
    }
    result->outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_CONFIG;
    result->config = change;
    return 0;
}

int
tly_ledger_apply_config (tly_ledger_t *self, const Tally__RecordDraft *draft)
{
    if (!draft->config)
        return 0;
    if (draft->partition != 0 || draft->config->version <= draft->config_version) {
        tly_log (TLY_ERROR, "ledger.bad_record",
                 "partition=%" PRIu32 " partition_seq=%" PRIu64
                 " reason=\"a configuration outside partition 0, or not newer\"",
                 draft->partition, draft->partition_seq);
        return -1;
    }
    //  Partition 0's state keeps what its records left; the ledger decides
    //  under the newest it has seen.
    if (tly_store_put_config (self->store, draft->config) == -1)
        return -1;
    char reason [160];
    if (tly_ledger_config_seen (self, draft->config, reason, sizeof reason) == -1) {
        tly_log (TLY_ERROR, "ledger.bad_record",
                 "partition=%" PRIu32 " partition_seq=%" PRIu64 " reason=\"configuration: %s\"",
                 draft->partition, draft->partition_seq, reason);
        return -1;
    }
    return 0;
}

int
tly_ledger_config_seen (tly_ledger_t *self, const Tally__Config *config, char *reason,
                        size_t reason_size)
{
    if (config->version <= tly_config_version (self->config))
        return 0;
    if (tly_config_from_proto (self->config, config, NULL, reason, reason_size) == -1)
        return -1;
    self->config_dirty = true;
    return 0;
}
