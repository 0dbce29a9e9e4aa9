//  tly_actor_partitions - which partitions a balance actor owns, at which
//  epoch: assignments taken, partitions claimed and caught up, routes held
//  while they load, and given up when fenced out.
#include "tly_actor_private.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "tly_log.h"
#include "tly_validate.h"

void
tly_actor_partition_load (tly_actor_t *self, uint32_t partition, uint64_t epoch)
{
    tly_actor_partition_t *part = &self->partitions [partition];
    part->state = TLY_ACTOR_LOADING;
    part->epoch = epoch;
    part->confirmed = false;
    tly_reader_partition (self->reader, partition, TLY_READER_LOADING);
    tly_catchup_start (self->catchup, partition, epoch);
}

void
tly_actor_partition_disown (tly_actor_t *self, uint32_t partition)
{
    tly_actor_partition_t *part = &self->partitions [partition];
    tly_catchup_stop (self->catchup, partition);
    tly_saver_drop (self->saver, partition);
    part->state = TLY_ACTOR_UNOWNED;
    part->confirmed = false;
    tly_reader_partition (self->reader, partition, TLY_READER_UNOWNED);
    Tally__RouterToActor *message;
    while (part->held && (message = zlist_pop (part->held))) {
        self->held_count--;
        tly_actor_answer_error (self, message, TALLY__ERROR_CODE__NOT_OWNER);
    }
    zlist_destroy (&part->held);
}

//  Held routes are older than any route of the partition still waiting in
//  the ready queue, so they go to its front.
static void
s_serve (tly_actor_t *self, uint32_t partition)
{
    tly_actor_partition_t *part = &self->partitions [partition];
    assert (part->state == TLY_ACTOR_LOADING);
    part->state = TLY_ACTOR_SERVING;
    tly_log (TLY_INFO, "partition.serving", "partition=%" PRIu32 " epoch=%" PRIu64 " held=%zu",
             partition, part->epoch, part->held ? zlist_size (part->held) : 0);
    tly_reader_partition (self->reader, partition, TLY_READER_SERVING);
    tly_saver_serve (self->saver, partition,
                     tly_catchup_latest_snapshot (self->catchup, partition));
    if (!part->held)
        return;
    self->held_count -= zlist_size (part->held);
    void *message;
    while ((message = zlist_pop (self->ready)))
        zlist_append (part->held, message);
    zlist_destroy (&self->ready);
    self->ready = part->held;
    part->held = NULL;
}

void
tly_actor_partition_hold (tly_actor_t *self, tly_actor_partition_t *part,
                          Tally__RouterToActor *message)
{
    if (self->held_count >= TLY_ACTOR_HELD_MAX) {
        //  The router retries (it holds its own bounded queue meanwhile).
        tly_actor_answer_error (self, message, TALLY__ERROR_CODE__NOT_OWNER);
        return;
    }
    if (!part->held)
        part->held = zlist_new ();
    zlist_append (part->held, message);
    self->held_count++;
}

void
tly_actor_assign (tly_actor_t *self, const Tally__Assignment *assignment)
{
    uint32_t count = self->config.partition_count;
    if (assignment->partition_count != count) {
        tly_log (TLY_ERROR, "assignment.rejected",
                 "reason=\"partition count differs\" "
                 "router_partitions=%" PRIu32 " partitions=%" PRIu32,
                 assignment->partition_count, count);
        return;
    }
    memset (self->assigned, 0, count * sizeof (uint64_t));
    for (size_t i = 0; i < assignment->n_owned; i++) {
        const Tally__PartitionEpoch *owned = assignment->owned [i];
        if (owned->partition >= count || owned->epoch == 0) {
            tly_log (TLY_WARN, "assignment.bad_entry", "partition=%" PRIu32 " epoch=%" PRIu64,
                     owned->partition, owned->epoch);
            continue;
        }
        self->assigned [owned->partition] = owned->epoch;
    }
    size_t owned = 0, taken = 0, dropped = 0;
    for (uint32_t partition = 0; partition < count; partition++) {
        tly_actor_partition_t *part = &self->partitions [partition];
        uint64_t epoch = self->assigned [partition];
        owned += epoch != 0;
        if (epoch == 0 && part->state != TLY_ACTOR_UNOWNED) {
            tly_actor_partition_disown (self, partition);
            dropped++;
        } else if (epoch != 0 && (part->state == TLY_ACTOR_UNOWNED || part->epoch != epoch)) {
            tly_actor_partition_load (self, partition, epoch);
            taken++;
        }
    }
    //  The router repeats assignments; only changes are worth an info line.
    tly_log (taken || dropped ? TLY_INFO : TLY_DEBUG, "assignment",
             "owned=%zu taken=%zu dropped=%zu", owned, taken, dropped);
}

void
tly_actor_on_catchup (tly_actor_t *self, const Tally__AuditReply *reply)
{
    if (reply->body_case == TALLY__AUDIT_REPLY__BODY_READ) {
        tly_actor_on_read (self, reply->read);
        return;
    }
    assert (reply->body_case == TALLY__AUDIT_REPLY__BODY_LOAD_SNAPSHOT);
    uint32_t partition;
    tly_catchup_on_snapshot (self->catchup, reply->load_snapshot, &partition);
}

void
tly_actor_on_read (tly_actor_t *self, const Tally__ReadReply *read)
{
    uint32_t partition;
    tly_catchup_status_t status = tly_catchup_on_reply (self->catchup, read, &partition);
    if (status == TLY_CATCHUP_DONE)
        s_serve (self, partition);
    else if (status == TLY_CATCHUP_FENCED)
        tly_actor_partition_disown (self, partition);
}

void
tly_actor_partition_refused (uint32_t partition, Tally__ErrorCode code, void *arg)
{
    tly_actor_t *self = arg;
    if (code == TALLY__ERROR_CODE__STALE_EPOCH) {
        tly_log (TLY_WARN, "partition.fenced", "partition=%" PRIu32 " epoch=%" PRIu64, partition,
                 self->partitions [partition].epoch);
        tly_actor_partition_disown (self, partition);
    } else {
        tly_log (TLY_WARN, "partition.reload", "partition=%" PRIu32 " code=%s", partition,
                 tly_error_name (code));
        tly_actor_partition_load (self, partition, self->partitions [partition].epoch);
    }
}

//  Snapshots wait for nothing but an assignment still to be applied (which
//  may give or take their partition).
void
tly_actor_dispatch_snapshots (tly_actor_t *self)
{
    static const tly_reader_state_t states [] = { [TLY_ACTOR_UNOWNED] = TLY_READER_UNOWNED,
                                                  [TLY_ACTOR_LOADING] = TLY_READER_LOADING,
                                                  [TLY_ACTOR_SERVING] = TLY_READER_SERVING };
    Tally__RouterToActor *message;
    while ((message = zlist_pop (self->snapshots))) {
        uint32_t partition = message->snapshot->partition;
        tly_actor_partition_state_t state = partition < self->config.partition_count
                                                ? self->partitions [partition].state
                                                : TLY_ACTOR_UNOWNED;
        tly_reader_request (self->reader, message, states [state]);
    }
}
