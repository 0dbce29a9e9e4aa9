//  tly_actor_batches - a balance actor running its batches: the ready routes
//  of served partitions decided in one batch, journaled with one append,
//  answered and committed once the writer has acked.
#include "tly_actor_private.h"

#include <assert.h>
#include <inttypes.h>

#include "tly_log.h"
#include "tly_wire.h"

static void
s_release_routes (tly_actor_t *self)
{
    Tally__RouterToActor *message;
    while ((message = zlist_pop (self->in_batch))) {
        self->partitions [message->route->partition].drafted = false;
        tally__router_to_actor__free_unpacked (message, NULL);
    }
}

//  The writer's answer is unknown (timeout, bad reply): forget the batch,
//  catch its partitions up (the journal may hold it) and retry its routes.
void
tly_actor_abandon_batch (tly_actor_t *self)
{
    for (size_t i = 0; i < tly_batch_drafts (self->batch); i++) {
        uint32_t partition = tly_batch_draft_partition (self->batch, i);
        if (self->partitions [partition].state == TLY_ACTOR_SERVING)
            tly_actor_partition_load (self, partition, self->partitions [partition].epoch);
    }
    tly_batch_abandon (self->batch);
    self->append_id = 0;
    //  Its routes are older than anything waiting: back to the front, in order.
    Tally__RouterToActor *message;
    for (message = zlist_first (self->in_batch); message; message = zlist_next (self->in_batch))
        self->partitions [message->route->partition].drafted = false;
    while ((message = zlist_pop (self->ready)))
        zlist_append (self->in_batch, message);
    zlist_t *ready = self->in_batch;
    self->in_batch = self->ready;
    self->ready = ready;
}

static void
s_finish_batch (tly_actor_t *self)
{
    //  Journaled: answer first, then commit the state, which only caches the
    //  journal (a failed commit reloads the partitions from it).
    size_t failed = tly_batch_answer (self->batch, zsock_resolve (self->router));
    if (failed)
        tly_log (TLY_WARN, "router.send_failed", "answers=%zu", failed);
    tly_batch_commit (self->batch, tly_actor_partition_refused, self);
    for (size_t i = 0; i < tly_batch_drafts (self->batch); i++) {
        uint32_t partition = tly_batch_draft_partition (self->batch, i);
        tly_actor_partition_t *part = &self->partitions [partition];
        if (part->state == TLY_ACTOR_SERVING && tly_batch_committed (self->batch, i))
            part->confirmed = true;
    }
    tly_log (TLY_DEBUG, "batch.done", "routes=%zu drafts=%zu", tly_batch_size (self->batch),
             tly_batch_drafts (self->batch));
    //  Journaled, answered, committed: now the world may see it.
    tly_reader_publish (self->reader, self->batch);
    //  Routes decided under a stale configuration go back to the front of
    //  the ready queue, in order, to be decided under the writer's.
    zlist_t *again = zlist_new ();
    zlist_t *done = zlist_new ();
    assert (again && done);
    Tally__RouterToActor *message;
    while ((message = zlist_pop (self->in_batch))) {
        bool decide_again = tly_batch_decide_again (self->batch, message->route->partition);
        if (decide_again)
            self->partitions [message->route->partition].drafted = false;
        zlist_append (decide_again ? again : done, message);
    }
    zlist_destroy (&self->in_batch);
    self->in_batch = done;
    tly_batch_end (self->batch);
    s_release_routes (self);
    if (zlist_size (again) > 0) {
        tly_log (TLY_DEBUG, "batch.decide_again", "routes=%zu", zlist_size (again));
        while ((message = zlist_pop (self->ready)))
            zlist_append (again, message);
        zlist_t *ready = self->ready;
        self->ready = again;
        again = ready;
    }
    zlist_destroy (&again);
}

void
tly_actor_on_append (tly_actor_t *self, const Tally__AppendReply *reply)
{
    if (!self->append_id || reply->request_id != self->append_id) {
        tly_log (TLY_DEBUG, "append.late_reply", "request_id=%" PRIu64, reply->request_id);
        return;
    }
    self->append_id = 0;
    if (tly_batch_settle (self->batch, reply, tly_actor_partition_refused, self) == -1) {
        tly_actor_abandon_batch (self);
        return;
    }
    tly_actor_note_journal (self, !tly_batch_journal_full (self->batch));
    s_finish_batch (self);
}

void
tly_actor_note_journal (tly_actor_t *self, bool room)
{
    if (!room && !self->journal_full)
        tly_log (TLY_ERROR, "journal.storage_full",
                 "hint=\"the audit writer has no room for the journal: buys are answered"
                 " UNAVAILABLE until it has; see its log\"");
    else if (room && self->journal_full)
        tly_log (TLY_INFO, "journal.storage_recovered", "reason=\"an append was accepted\"");
    self->journal_full = !room;
}

//  The batch's routes go back to the front of the ready queue, in order, to
//  be decided again.
static void
s_requeue_batch (tly_actor_t *self)
{
    Tally__RouterToActor *message;
    while ((message = zlist_pop (self->ready)))
        zlist_append (self->in_batch, message);
    zlist_t *ready = self->in_batch;
    self->in_batch = self->ready;
    self->ready = ready;
    for (message = zlist_first (self->ready); message; message = zlist_next (self->ready))
        self->partitions [message->route->partition].drafted = false;
}

//  Storage failed while deciding: nothing was journaled. A full map is
//  grown (the batch's transaction aborted first, LMDB's rule) and the batch
//  decided again; no room at all is answered UNAVAILABLE "state storage
//  full" (and further routes too, until a retry finds room); anything else
//  INTERNAL.
static void
s_fail_batch (tly_actor_t *self)
{
    tly_batch_abandon (self->batch);
    tly_store_space_t space = tly_ledger_space (self->ledger);
    if (space == TLY_STORE_MAP_FULL && tly_ledger_grow (self->ledger) == 0) {
        s_requeue_batch (self);
        return;
    }
    space = tly_ledger_space (self->ledger);
    if (space == TLY_STORE_FULL)
        self->storage_retry_at = tly_mono_ms () + TLY_ACTOR_STORAGE_RETRY_MS;
    Tally__RouterToActor *message;
    while ((message = zlist_pop (self->in_batch))) {
        self->partitions [message->route->partition].drafted = false;
        if (space == TLY_STORE_FULL)
            tly_actor_answer_text (self, message, TALLY__ERROR_CODE__UNAVAILABLE,
                                   TLY_ACTOR_STATE_FULL_TEXT);
        else
            tly_actor_answer_error (self, message, TALLY__ERROR_CODE__INTERNAL);
    }
}

//  The state has no room (a write found the disk full or the map at its
//  maximum): until the next retry, routes are answered at once instead of
//  decided, journaled and then not written. A retry is a batch like any
//  other; the first commit that goes through ends this.
static bool
s_refuse_while_full (tly_actor_t *self)
{
    if (tly_ledger_space (self->ledger) != TLY_STORE_FULL
        || tly_mono_ms () >= self->storage_retry_at)
        return false;
    Tally__RouterToActor *message;
    while ((message = zlist_pop (self->ready)))
        tly_actor_answer_text (self, message, TALLY__ERROR_CODE__UNAVAILABLE,
                               TLY_ACTOR_STATE_FULL_TEXT);
    //  So are those held by partitions whose catch-up waits for room.
    for (uint32_t partition = 0; self->held_count > 0 && partition < self->config.partition_count;
         partition++) {
        tly_actor_partition_t *part = &self->partitions [partition];
        while (part->held && (message = zlist_pop (part->held))) {
            self->held_count--;
            tly_actor_answer_text (self, message, TALLY__ERROR_CODE__UNAVAILABLE,
                                   TLY_ACTOR_STATE_FULL_TEXT);
        }
    }
    return true;
}

void
tly_actor_form_batch (tly_actor_t *self)
{
    if (s_refuse_while_full (self))
        return;
    if (tly_batch_begin (self->batch, tly_now_ms ()) == -1) {
        self->retry_at = tly_mono_ms () + self->config.heartbeat_ms;
        return;
    }
    if (tly_ledger_space (self->ledger) == TLY_STORE_FULL)
        //  This batch is the retry; the next one waits for its outcome.
        self->storage_retry_at = tly_mono_ms () + TLY_ACTOR_STORAGE_RETRY_MS;
    Tally__RouterToActor *message;
    while ((message = zlist_first (self->ready))) {
        tly_actor_partition_t *part = &self->partitions [message->route->partition];
        if (part->state != TLY_ACTOR_SERVING) {
            zlist_pop (self->ready);
            if (part->state == TLY_ACTOR_LOADING)
                tly_actor_partition_hold (self, part, message);
            else
                tly_actor_answer_error (self, message, TALLY__ERROR_CODE__NOT_OWNER);
            continue;
        }
        if (!part->confirmed && part->drafted)
            break;
        bool drafted = false;
        tly_batch_result_t added = tly_batch_add (self->batch, message->route, part->epoch,
                                                  &drafted);
        if (added == TLY_BATCH_FULL)
            break;
        zlist_pop (self->ready);
        zlist_append (self->in_batch, message);
        if (added == TLY_BATCH_ERROR) {
            s_fail_batch (self);
            return;
        }
        part->drafted |= drafted;
    }
    if (tly_batch_size (self->batch) == 0)
        tly_batch_abandon (self->batch);
    else if (tly_batch_drafts (self->batch) == 0) {
        int rc = tly_batch_settle (self->batch, NULL, tly_actor_partition_refused, self);
        assert (rc == 0);
        s_finish_batch (self);
    } else {
        self->append_id = ++self->appends;
        self->append_deadline = tly_mono_ms () + self->config.audit_timeout_ms;
        zframe_t *frame = tly_batch_append (self->batch, self->append_id);
        if (zframe_send (&frame, self->audit, 0) == -1) {
            tly_log (TLY_WARN, "append.send_failed", "error=\"%s\"", zmq_strerror (zmq_errno ()));
            zframe_destroy (&frame);
            tly_actor_abandon_batch (self);
        }
    }
}
