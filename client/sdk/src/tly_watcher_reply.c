//  tly_watcher_reply - what the gateway sends a watcher: answers to
//  subscribes, pushes (updates, resync snapshots, ends) and pings, checked
//  and applied to each subscription in version order.
#include "tly_watcher_private.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tly_codec.h"
#include "tly_log.h"
#include "tly_object.h"

static tly_sub_t *
s_sub_by_request (tly_watcher_t *self, uint64_t request_id)
{
    for (size_t i = 0; request_id != 0 && i < self->sub_count; i++)
        if (self->subs [i]->request_id == request_id)
            return self->subs [i];
    return NULL;
}

static void
s_call (tly_watcher_t *self, tly_sub_t *sub, const tly_object_t *object)
{
    assert (!self->in_callback);
    assert (object->ended || object->version == sub->version);
    self->in_callback = true;
    sub->fn (object, sub->arg);
    self->in_callback = false;
    self->callbacks++;
}

//  Refusals that a later subscribe may not meet: the cluster or the gateway
//  was busy, or the request waited too long on the way.
static bool
s_transient (Tally__ErrorCode code)
{
    return code == TALLY__ERROR_CODE__UNAVAILABLE || code == TALLY__ERROR_CODE__TIMEOUT
           || code == TALLY__ERROR_CODE__STALE_TIMESTAMP || code == TALLY__ERROR_CODE__INTERNAL;
}

static void
s_reject (tly_watcher_t *self, const tly_sub_t *sub, const tly_error_t *why)
{
    self->stats.rejected++;
    tly_log (TLY_WARN, "watcher.rejected", "object_id=%s code=%s reason=\"%s\"", sub->object_id,
             tly_error_name (why->code), why->message);
}

//  The subscription is over: the application hears why, once.
static void
s_end (tly_watcher_t *self, tly_sub_t *sub, const tly_error_t *why)
{
    tly_log (TLY_INFO, "watcher.ended", "object_id=%s code=%s", sub->object_id,
             tly_error_name (why->code));
    tly_object_t object = { .kind = sub->kind, .ended = true, .code = why->code };
    memcpy (object.id, sub->object_id, sizeof object.id);
    memcpy (object.message, why->message, sizeof object.message);
    tly_object_fn *fn = sub->fn;
    void *arg = sub->arg;
    tly_watcher_remove (self, sub);
    self->in_callback = true;
    fn (&object, arg);
    self->in_callback = false;
    self->callbacks++;
}

//  The gateway refused a subscribe, or ended a subscription.
static void
s_refused (tly_watcher_t *self, tly_sub_t *sub, const Tally__Error *wire)
{
    tly_error_t why;
    if (wire)
        tly_codec_remote_error (wire, &why);
    else {
        why = (tly_error_t) { .code = TALLY__ERROR_CODE__INTERNAL, .remote = true };
        snprintf (why.message, sizeof why.message, "subscription ended without a reason");
    }
    if (sub->first && sub->state == TLY_SUB_WAITING) {
        self->error = why;
        self->outcome = TLY_OUTCOME_REFUSED;
    } else if (s_transient (why.code)) {
        tly_log (TLY_INFO, "watcher.retry", "object_id=%s code=%s", sub->object_id,
                 tly_error_name (why.code));
        sub->state = TLY_SUB_RETRY;
    } else
        s_end (self, sub, &why);
}

//  A whole state: the answer to a subscribe, or a resync.
static void
s_on_snapshot (tly_watcher_t *self, tly_sub_t *sub, const Tally__ClientReply *reply)
{
    tly_object_t object;
    tly_error_t why;
    if (tly_object_decode (reply->object, self->worker, sub->object_id, &object, &why) == -1) {
        s_reject (self, sub, &why);
        if (sub->first && sub->state == TLY_SUB_WAITING) {
            self->error = why;
            self->outcome = TLY_OUTCOME_REFUSED;
        } else
            sub->state = TLY_SUB_RETRY;
        return;
    }
    sub->state = TLY_SUB_LIVE;
    sub->version = object.version;
    object.snapshot = true;
    if (reply->error && reply->error->code != TALLY__ERROR_CODE__OK) {
        tly_error_t note;
        tly_codec_remote_error (reply->error, &note);
        object.code = note.code;
        memcpy (object.message, note.message, sizeof object.message);
    }
    if (sub->first) {
        sub->first = false;
        self->outcome = TLY_OUTCOME_DELIVERED;
    }
    s_call (self, sub, &object);
    tly_object_clear (&object);
}

static void
s_on_update (tly_watcher_t *self, tly_sub_t *sub, const Tally__ClientReply *reply)
{
    if (sub->state != TLY_SUB_LIVE) {
        tly_log (TLY_DEBUG, "watcher.early_update", "object_id=%s", sub->object_id);
        return;
    }
    tly_object_t object;
    tly_error_t why;
    if (tly_object_decode (reply->object, self->worker, sub->object_id, &object, &why) == -1) {
        s_reject (self, sub, &why);
        return;
    }
    tly_sequence_t sequence = tly_object_sequence (sub->version, object.version);
    if (sequence == TLY_SEQUENCE_OLD)
        self->stats.duplicates++;
    else if (sequence == TLY_SEQUENCE_GAP) {
        self->stats.gaps++;
        tly_log (TLY_INFO, "watcher.gap", "object_id=%s version=%" PRIu64 " last=%" PRIu64,
                 sub->object_id, object.version, sub->version);
        tly_watcher_resubscribe (self, sub);
    } else {
        sub->version = object.version;
        s_call (self, sub, &object);
    }
    tly_object_clear (&object);
}

void
tly_watcher_on_reply (tly_watcher_t *self, const Tally__ClientReply *reply)
{
    assert (self && reply);
    if (reply->request_id != 0 && reply->request_id == self->ping_id) {
        self->ping_id = 0;
        return;
    }
    if (reply->request_id != 0 && reply->request_id == self->unsubscribe_id) {
        self->unsubscribe_id = 0;
        return;
    }
    tly_sub_t *sub = s_sub_by_request (self, reply->request_id);
    if (!sub) {
        tly_log (TLY_DEBUG, "watcher.stale_reply", "request_id=%" PRIu64 " push=%d",
                 reply->request_id, (int) reply->push);
        return;
    }
    if (reply->push == TALLY__PUSH_KIND__NOT_PUSHED) {
        if (sub->state != TLY_SUB_WAITING)
            tly_log (TLY_DEBUG, "watcher.duplicate_answer", "object_id=%s", sub->object_id);
        else if (reply->error && reply->error->code != TALLY__ERROR_CODE__OK)
            s_refused (self, sub, reply->error);
        else
            s_on_snapshot (self, sub, reply);
    } else if (reply->push == TALLY__PUSH_KIND__UPDATE)
        s_on_update (self, sub, reply);
    else if (reply->push == TALLY__PUSH_KIND__SNAPSHOT && sub->state == TLY_SUB_LIVE)
        s_on_snapshot (self, sub, reply);
    else if (reply->push == TALLY__PUSH_KIND__ENDED && sub->state == TLY_SUB_LIVE)
        s_refused (self, sub, reply->error);
    else {
        self->stats.rejected++;
        tly_log (TLY_WARN, "watcher.unexpected_push", "object_id=%s push=%d", sub->object_id,
                 (int) reply->push);
    }
}
