//  tly_batch - one batch of routed envelopes, decided, journaled, answered.
#include "tly_batch.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "tly_arena.h"
#include "tly_config.h"
#include "tly_fault.h"
#include "tly_log.h"
#include "tly_partition.h"
#include "tly_validate.h"
#include "tly_wire.h"

#define S_ARENA_BLOCK (1024 * 1024)

//  Why a partition of the batch did not commit (refused, per partition).
#define S_REFUSED      1  //  the journal refused it, or the state could not take it
#define S_NO_ROOM      2  //  the journal had no room: nothing written, answered UNAVAILABLE
#define S_AGAIN        3  //  decided under a stale configuration: nothing written, decide again
#define S_NO_ROOM_TEXT "journal storage full"

typedef struct {
    const Tally__Route *route;
    uint32_t partition;
    Tally__ErrorCode error;          //  OK, or the answer for the whole route
    Tally__MessageResult **results;  //  one per message, when error is OK
    size_t n_results;
} s_entry_t;

struct _tly_batch_t {
    tly_ledger_t *ledger;  //  not owned
    uint8_t worker_pk [TLY_KEY_BYTES];
    uint32_t partition_count;
    tly_arena_t *arena;  //  everything decided in this batch
    s_entry_t *entries;  //  TLY_ACTOR_BATCH_MAX
    size_t size;
    Tally__RecordDraft **drafts;       //  TLY_ACTOR_BATCH_MAX, in entry order
    tly_ledger_versions_t **versions;  //  per draft: the versions of each event
    size_t n_drafts;
    size_t bytes;      //  bound of the append so far
    uint8_t *refused;  //  per partition: did not commit (S_REFUSED, S_NO_ROOM)
    bool no_room;      //  the journal answered UNAVAILABLE
    int64_t now_ms;
    bool open;  //  between begin and end/abandon
    bool settled;
    bool commit_pending;  //  settled all OK, not yet committed
    bool stale_config;    //  a draft was refused STALE_CONFIG
};

tly_batch_t *
tly_batch_new (tly_ledger_t *ledger, const uint8_t worker_pk [TLY_KEY_BYTES],
               uint32_t partition_count)
{
    assert (ledger && worker_pk);
    assert (partition_count > 0 && partition_count <= TLY_PARTITIONS_MAX);
    tly_batch_t *self = calloc (1, sizeof (tly_batch_t));
    if (!self)
        return NULL;
    self->ledger = ledger;
    memcpy (self->worker_pk, worker_pk, TLY_KEY_BYTES);
    self->partition_count = partition_count;
    self->arena = tly_arena_new (S_ARENA_BLOCK);
    self->entries = calloc (TLY_ACTOR_BATCH_MAX, sizeof (s_entry_t));
    self->drafts = calloc (TLY_ACTOR_BATCH_MAX, sizeof (Tally__RecordDraft *));
    self->versions = calloc (TLY_ACTOR_BATCH_MAX, sizeof (tly_ledger_versions_t *));
    self->refused = calloc (partition_count, 1);
    if (!self->arena || !self->entries || !self->drafts || !self->versions || !self->refused)
        tly_batch_destroy (&self);
    return self;
}

void
tly_batch_destroy (tly_batch_t **self_p)
{
    assert (self_p);
    tly_batch_t *self = *self_p;
    if (!self)
        return;
    if (self->open)
        tly_batch_abandon (self);
    tly_arena_destroy (&self->arena);
    free (self->entries);
    free (self->drafts);
    free (self->versions);
    free (self->refused);
    free (self);
    *self_p = NULL;
}

int
tly_batch_begin (tly_batch_t *self, int64_t now_ms)
{
    assert (self);
    assert (!self->open);
    assert (self->size == 0 && self->n_drafts == 0);
    if (tly_ledger_begin (self->ledger) == -1)
        return -1;
    self->now_ms = now_ms;
    self->bytes = 0;
    self->open = true;
    self->settled = false;
    return 0;
}

//  Checks what the gateway should already have checked, so a bad frame can
//  never reach the state. Returns OK with the decoded envelope and its sender.
static Tally__ErrorCode
s_check (tly_batch_t *self, const Tally__Route *route, Tally__Envelope **envelope_p,
         tly_ledger_user_t *user, size_t *bound)
{
    if (!route->envelope)
        return TALLY__ERROR_CODE__BAD_REQUEST;
    Tally__Envelope *envelope = tally__envelope__unpack (tly_arena_allocator (self->arena),
                                                         route->envelope->envelope.len,
                                                         route->envelope->envelope.data);
    char reason [128];
    if (!envelope || envelope->sender.len != TLY_KEY_BYTES || envelope->n_messages == 0
        || tly_validate_wire_text (&tally__envelope__descriptor, route->envelope->envelope.data,
                                   route->envelope->envelope.len, reason, sizeof reason)
               == -1)
        return TALLY__ERROR_CODE__BAD_REQUEST;
    if (envelope->inbox.len != TLY_KEY_BYTES
        || memcmp (envelope->inbox.data, self->worker_pk, TLY_KEY_BYTES) != 0)
        return TALLY__ERROR_CODE__UNKNOWN_INBOX;
    if (envelope->n_messages > TLY_BATCH_MAX)
        return TALLY__ERROR_CODE__BATCH_TOO_LARGE;
    tly_ledger_user_init (user, envelope->sender.data, self->partition_count);
    user->route = route->partition;
    user->worker = memcmp (user->pk, self->worker_pk, TLY_KEY_BYTES) == 0;
    //  Every message goes to the route's partition, as the gateway routed
    //  it: a credit's or debit's user's, a refund's purchase's, a
    //  configuration message's 0, any other message's sender's.
    for (size_t i = 0; i < envelope->n_messages; i++) {
        uint32_t partition = user->partition;  //  the sender's, hashed once per envelope
        if (tly_message_named_partition (envelope->messages [i], self->partition_count, &partition)
                == -1
            || partition != route->partition)
            return TALLY__ERROR_CODE__BAD_REQUEST;
    }
    *bound = tally__signed_envelope__get_packed_size (route->envelope) + TLY_BATCH_DRAFT_OVERHEAD
             + envelope->n_messages * TLY_BATCH_MESSAGE_BOUND;
    //  An order message's result and event carry the order whole, and a
    //  completion a purchase per line: more than the request shows.
    for (size_t i = 0; i < envelope->n_messages; i++)
        if (tly_order_message (envelope->messages [i]))
            *bound += TLY_BATCH_ORDER_BOUND;
    if (*bound > TLY_BATCH_DRAFT_MAX)
        return TALLY__ERROR_CODE__FRAME_TOO_LARGE;
    *envelope_p = envelope;
    return TALLY__ERROR_CODE__OK;
}

tly_batch_result_t
tly_batch_add (tly_batch_t *self, const Tally__Route *route, uint64_t epoch, bool *drafted)
{
    assert (self);
    assert (self->open && !self->settled);
    assert (route && drafted);
    assert (route->partition < self->partition_count);
    *drafted = false;
    if (self->size == TLY_ACTOR_BATCH_MAX)
        return TLY_BATCH_FULL;
    Tally__Envelope *envelope = NULL;
    tly_ledger_user_t *user = tly_arena_alloc (self->arena, sizeof *user);
    size_t bound = 0;
    Tally__ErrorCode error = s_check (self, route, &envelope, user, &bound);
    if (error == TALLY__ERROR_CODE__OK && self->size > 0
        && self->bytes + bound > TLY_BATCH_APPEND_BUDGET)
        return TLY_BATCH_FULL;

    s_entry_t *entry = &self->entries [self->size++];
    memset (entry, 0, sizeof *entry);
    entry->route = route;
    entry->partition = route->partition;
    entry->error = error;
    if (error != TALLY__ERROR_CODE__OK) {
        tly_log (TLY_WARN, "route.rejected", "route_id=%" PRIu64 " partition=%" PRIu32 " code=%s",
                 route->route_id, route->partition, tly_error_name (error));
        return TLY_BATCH_ADDED;
    }
    self->bytes += bound;
    size_t count = envelope->n_messages;
    entry->results = tly_arena_alloc (self->arena, count * sizeof (Tally__MessageResult *));
    Tally__Event **events = tly_arena_alloc (self->arena, count * sizeof (Tally__Event *));
    tly_ledger_versions_t *versions = tly_arena_alloc (self->arena,
                                                       count * sizeof (tly_ledger_versions_t));
    size_t n_events = 0;
    size_t fresh = 0;
    //  The configuration the envelope is decided under, which the draft names.
    uint64_t config_version = tly_config_version (tly_ledger_config (self->ledger));
    if (tly_ledger_envelope (self->ledger, route->partition) == -1)
        return TLY_BATCH_ERROR;
    for (size_t i = 0; i < count; i++) {
        Tally__Event *event = NULL;
        uint64_t version = 0;
        tly_ledger_result_t done = tly_ledger_execute (self->ledger, user, envelope->messages [i],
                                                       self->now_ms, self->arena,
                                                       &entry->results [i], &event, &version);
        if (done == TLY_LEDGER_ERROR)
            return TLY_BATCH_ERROR;
        fresh += done == TLY_LEDGER_APPLIED;
        if (event) {
            tly_ledger_versions (self->ledger, &versions [n_events]);
            assert (versions [n_events].balance == version);
            events [n_events++] = event;
        }
    }
    entry->n_results = count;
    if (fresh == 0)
        return TLY_BATCH_ADDED;  //  a resend: nothing new to journal

    Tally__RecordDraft *draft = tly_arena_alloc (self->arena, sizeof *draft);
    tally__record_draft__init (draft);
    draft->partition = route->partition;
    draft->epoch = epoch;
    draft->timestamp_ms = self->now_ms;
    draft->request = route->envelope;
    draft->n_events = n_events;
    draft->events = events;
    draft->n_results = count;
    draft->results = entry->results;
    draft->config_version = config_version;
    draft->config = tly_ledger_config_draft (self->ledger, config_version, self->arena);
    const tly_ledger_limits_t *limits = tly_ledger_limits (self->ledger);
    draft->open_prices = limits->open_prices;
    if (limits->rate_per_minute > 0) {
        draft->rate_limit = tly_arena_alloc (self->arena, sizeof *draft->rate_limit);
        tally__rate_limit__init (draft->rate_limit);
        draft->rate_limit->per_minute = limits->rate_per_minute;
        draft->rate_limit->burst = limits->rate_burst;
    }
    if (tly_ledger_advance (self->ledger, route->partition, epoch, &draft->partition_seq) == -1)
        return TLY_BATCH_ERROR;
    self->versions [self->n_drafts] = versions;
    self->drafts [self->n_drafts++] = draft;
    *drafted = true;
    return TLY_BATCH_ADDED;
}

size_t
tly_batch_size (tly_batch_t *self)
{
    assert (self);
    return self->size;
}

size_t
tly_batch_drafts (tly_batch_t *self)
{
    assert (self);
    return self->n_drafts;
}

uint32_t
tly_batch_draft_partition (tly_batch_t *self, size_t index)
{
    assert (self);
    assert (index < self->n_drafts);
    return self->drafts [index]->partition;
}

zframe_t *
tly_batch_append (tly_batch_t *self, uint64_t request_id)
{
    assert (self);
    assert (self->open && self->n_drafts > 0);
    Tally__AppendRequest append = TALLY__APPEND_REQUEST__INIT;
    append.request_id = request_id;
    append.n_records = self->n_drafts;
    append.records = self->drafts;
    Tally__AuditRequest request = TALLY__AUDIT_REQUEST__INIT;
    request.body_case = TALLY__AUDIT_REQUEST__BODY_APPEND;
    request.append = &append;
    zframe_t *frame = tly_wire_pack (&request.base);
    assert (zframe_size (frame) <= TLY_FRAME_HARD_MAX);
    return frame;
}

static void
s_refuse (tly_batch_t *self, uint32_t partition, Tally__ErrorCode code,
          tly_batch_refused_fn *refused, void *arg)
{
    if (self->refused [partition])
        return;
    self->refused [partition] = S_REFUSED;
    refused (partition, code, arg);
}

//  The state could not take the batch: every drafted partition lags the journal.
static void
s_refuse_all (tly_batch_t *self, tly_batch_refused_fn *refused, void *arg)
{
    tly_ledger_abort (self->ledger);
    for (size_t i = 0; i < self->n_drafts; i++)
        s_refuse (self, self->drafts [i]->partition, TALLY__ERROR_CODE__INTERNAL, refused, arg);
}

//  Applies, with the replay path, the drafts the journal accepted (reply
//  NULL: all of them) of partitions without a refusal, and commits. Returns
//  0 or -1 (nothing applied).
static int
s_apply_accepted (tly_batch_t *self, const Tally__AppendReply *reply)
{
    if (tly_ledger_begin (self->ledger) == -1)
        return -1;
    for (size_t i = 0; i < self->n_drafts; i++) {
        const Tally__RecordDraft *draft = self->drafts [i];
        if ((reply && reply->statuses [i]->code != TALLY__ERROR_CODE__OK)
            || self->refused [draft->partition])
            continue;
        if (tly_ledger_apply (self->ledger, draft, self->arena) != TLY_LEDGER_APPLIED) {
            tly_ledger_abort (self->ledger);
            return -1;
        }
    }
    return tly_ledger_commit (self->ledger);
}

//  The state must take what the journal holds: start again from the
//  committed state and apply only what the journal accepted. A full map is
//  grown (no transaction open) and the whole of it applied again.
static void
s_keep_accepted (tly_batch_t *self, const Tally__AppendReply *reply, tly_batch_refused_fn *refused,
                 void *arg)
{
    tly_ledger_abort (self->ledger);
    int rc;
    while ((rc = s_apply_accepted (self, reply)) == -1
           && tly_ledger_space (self->ledger) == TLY_STORE_MAP_FULL
           && tly_ledger_grow (self->ledger) == 0)
        ;
    if (rc == -1)
        s_refuse_all (self, refused, arg);
}

//  Whether the journal accepted a draft of draft index's partition before it.
static bool
s_accepted_before (tly_batch_t *self, const Tally__AppendReply *reply, size_t index)
{
    for (size_t i = 0; i < index; i++)
        if (self->drafts [i]->partition == self->drafts [index]->partition
            && reply->statuses [i]->code == TALLY__ERROR_CODE__OK)
            return true;
    return false;
}

static bool
s_any_stale_config (const Tally__AppendReply *reply)
{
    for (size_t i = 0; i < reply->n_statuses; i++)
        if (reply->statuses [i]->code == TALLY__ERROR_CODE__STALE_CONFIG)
            return true;
    return false;
}

int
tly_batch_settle (tly_batch_t *self, const Tally__AppendReply *reply, tly_batch_refused_fn *refused,
                  void *arg)
{
    assert (self);
    assert (self->open && !self->settled);
    assert (refused);
    if (self->n_drafts == 0) {
        assert (!reply);
        tly_ledger_abort (self->ledger);  //  nothing was written
        self->settled = true;
        return 0;
    }
    assert (reply);
    if (reply->n_statuses != self->n_drafts) {
        tly_log (TLY_ERROR, "audit.bad_reply", "request_id=%" PRIu64 " statuses=%zu drafts=%zu",
                 reply->request_id, reply->n_statuses, self->n_drafts);
        return -1;
    }
    for (size_t i = 0; i < self->n_drafts; i++) {
        const Tally__AppendStatus *status = reply->statuses [i];
        if (status->code == TALLY__ERROR_CODE__OK)
            continue;
        uint32_t partition = self->drafts [i]->partition;
        if (status->code == TALLY__ERROR_CODE__STALE_CONFIG && !self->refused [partition]
            && !s_accepted_before (self, reply, i)) {
            //  Decided under another configuration, and nothing of the
            //  partition journaled: its routes are decided again under the
            //  writer's configuration (taken below), in the actor's next
            //  batch, costing the router no attempt. The partition serves on.
            self->refused [partition] = S_AGAIN;
            self->stale_config = true;
            continue;
        }
        if (status->code == TALLY__ERROR_CODE__UNAVAILABLE) {
            //  Nothing was journaled and the state was not written: the
            //  partition stays as it was, its routes are answered at once.
            uint32_t partition = self->drafts [i]->partition;
            if (!self->refused [partition])
                self->refused [partition] = S_NO_ROOM;
            self->no_room = true;
            continue;
        }
        tly_log (TLY_WARN, "append.refused",
                 "partition=%" PRIu32 " partition_seq=%" PRIu64 " epoch=%" PRIu64
                 " code=%s expected_partition_seq=%" PRIu64,
                 self->drafts [i]->partition, self->drafts [i]->partition_seq,
                 self->drafts [i]->epoch, tly_error_name (status->code),
                 status->expected_partition_seq);
        s_refuse (self, self->drafts [i]->partition, status->code, refused, arg);
    }
    bool refusals = false;
    for (size_t i = 0; i < self->n_drafts; i++)
        refusals |= self->refused [self->drafts [i]->partition] != 0;
    if (refusals)
        s_keep_accepted (self, reply, refused, arg);
    else
        self->commit_pending = true;
    if (self->stale_config || s_any_stale_config (reply)) {
        bool adopted = false;
        if (!reply->config)
            tly_log (TLY_ERROR, "audit.bad_reply",
                     "request_id=%" PRIu64 " reason=\"STALE_CONFIG without a configuration\"",
                     reply->request_id);
        else if (!tly_ledger_in_txn (self->ledger))
            adopted = tly_ledger_adopt_config (self->ledger, reply->config) == 0;
        //  Without the writer's configuration, deciding again would only be
        //  refused again: the routes are answered NOT_OWNER instead, and the
        //  router's attempts bound the retries.
        for (uint32_t partition = 0; !adopted && partition < self->partition_count; partition++)
            if (self->refused [partition] == S_AGAIN)
                self->refused [partition] = S_REFUSED;
    }
    self->settled = true;
    return 0;
}

void
tly_batch_commit (tly_batch_t *self, tly_batch_refused_fn *refused, void *arg)
{
    assert (self);
    assert (self->open && self->settled);
    assert (refused);
    if (!self->commit_pending)
        return;
    self->commit_pending = false;
    //  An injected failure (tly_fault.h) takes the path of a failed commit.
    if (TLY_FAULT ("state.commit") || tly_ledger_commit (self->ledger) == -1) {
        if (tly_ledger_space (self->ledger) == TLY_STORE_MAP_FULL
            && tly_ledger_grow (self->ledger) == 0)
            s_keep_accepted (self, NULL, refused, arg);
        else
            s_refuse_all (self, refused, arg);
    }
}

bool
tly_batch_journal_full (tly_batch_t *self)
{
    assert (self);
    assert (self->settled);
    return self->no_room;
}

const Tally__RecordDraft *
tly_batch_draft (tly_batch_t *self, size_t index)
{
    assert (self);
    assert (self->settled && index < self->n_drafts);
    return self->drafts [index];
}

bool
tly_batch_committed (tly_batch_t *self, size_t index)
{
    assert (self);
    assert (self->settled && index < self->n_drafts);
    return !self->refused [self->drafts [index]->partition];
}

const tly_ledger_versions_t *
tly_batch_versions (tly_batch_t *self, size_t index)
{
    assert (self);
    assert (self->settled && index < self->n_drafts);
    return self->versions [index];
}

bool
tly_batch_decide_again (tly_batch_t *self, uint32_t partition)
{
    assert (self);
    assert (partition < self->partition_count);
    return self->settled && self->refused [partition] == S_AGAIN;
}

size_t
tly_batch_answer (tly_batch_t *self, void *router)
{
    assert (self);
    assert (self->open && self->settled);
    size_t failed = 0;
    for (size_t i = 0; i < self->size; i++) {
        const s_entry_t *entry = &self->entries [i];
        uint8_t refused = self->refused [entry->partition];
        if (refused == S_AGAIN)
            continue;  //  the caller decides it again
        Tally__ErrorCode code = refused == S_NO_ROOM   ? TALLY__ERROR_CODE__UNAVAILABLE
                                : refused == S_REFUSED ? TALLY__ERROR_CODE__NOT_OWNER
                                                       : entry->error;
        Tally__Error error = TALLY__ERROR__INIT;
        Tally__RouteReply reply = TALLY__ROUTE_REPLY__INIT;
        reply.route_id = entry->route->route_id;
        if (code != TALLY__ERROR_CODE__OK) {
            error.code = code;
            error.message = refused == S_NO_ROOM ? S_NO_ROOM_TEXT
                                                 : (char *) tly_error_default_message (code);
            reply.error = &error;
        } else {
            reply.n_results = entry->n_results;
            reply.results = entry->results;
        }
        Tally__ActorToRouter message = TALLY__ACTOR_TO_ROUTER__INIT;
        message.body_case = TALLY__ACTOR_TO_ROUTER__BODY_REPLY;
        message.reply = &reply;
        if (tly_wire_send (router, NULL, &message.base) == -1)
            failed++;
    }
    return failed;
}

static void
s_reset (tly_batch_t *self)
{
    for (size_t i = 0; i < self->size; i++)
        self->refused [self->entries [i].partition] = 0;
    self->size = 0;
    self->n_drafts = 0;
    self->bytes = 0;
    self->open = false;
    self->settled = false;
    self->commit_pending = false;
    self->no_room = false;
    self->stale_config = false;
    tly_arena_reset (self->arena);
}

void
tly_batch_abandon (tly_batch_t *self)
{
    assert (self);
    assert (self->open);
    tly_ledger_abort (self->ledger);
    s_reset (self);
}

void
tly_batch_end (tly_batch_t *self)
{
    assert (self);
    assert (self->open && self->settled && !self->commit_pending);
    assert (!tly_ledger_in_txn (self->ledger));
    s_reset (self);
}

bool
tly_batch_open (tly_batch_t *self)
{
    assert (self);
    return self->open;
}
