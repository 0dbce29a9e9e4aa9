//  tly_batch - one batch of routed envelopes: decided against the ledger in
//  one transaction, journaled with one append, answered after the ack.
//
//  "Batch instead of react": the actor adds every waiting route, sends the
//  one AppendRequest, and only when the writer has acked answers and commits
//  the state. Until then nothing is visible and nothing is answered.
//
//      tly_batch_begin (batch, now);
//      while (more routes && tly_batch_add (batch, route, epoch, &drafted) == TLY_BATCH_ADDED) ;
//      zframe_t *append = tly_batch_append (batch, request_id);   //  to the writer
//      ... AppendReply arrives ...
//      tly_batch_settle (batch, reply, s_refused, actor);
//      tly_batch_answer (batch, router);
//      tly_batch_commit (batch, s_refused, actor);
//      tly_batch_end (batch);
//
//  Routes stay owned by the caller and must outlive the batch (drafts point
//  into their envelopes).
#ifndef TLY_BATCH_H_INCLUDED
#define TLY_BATCH_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include "tally.pb-c.h"
#include "tly_ledger.h"
#include "tly_limits.h"

//  Upper bound of the journal draft of one message (result + event), and of
//  a draft's own fields; the request is counted at its packed size.
#define TLY_BATCH_MESSAGE_BOUND  640
#define TLY_BATCH_DRAFT_OVERHEAD 128
//  ... and what an order message adds to it: the Order in its result and
//  in its OrderChanged (lines, error, purchase IDs), and a completion's
//  PurchaseRecorded per line. An envelope of order messages beyond what
//  fits one draft (about 80 completions of 16 lines of 128-byte item IDs)
//  is refused FRAME_TOO_LARGE.
#define S_BATCH_ORDER_ITEM       (TLY_ITEM_ID_MAX + 16)
#define TLY_BATCH_ORDER_BOUND                                                          \
    (2 * (TLY_ORDER_ITEMS_MAX * (S_BATCH_ORDER_ITEM + 64) + TLY_ORDER_ERROR_MAX + 256) \
     + TLY_ORDER_ITEMS_MAX * (S_BATCH_ORDER_ITEM + 160))
//  One draft must fit a journal record with room to spare (the writer caps
//  records at half the hard frame limit, TLY_JOURNAL_RECORD_MAX in
//  tly_limits.h); one append keeps half the hard limit as margin.
#define TLY_BATCH_DRAFT_MAX     (TLY_FRAME_HARD_MAX / 4 - 1024)
#define TLY_BATCH_APPEND_BUDGET (TLY_FRAME_HARD_MAX / 2)
_Static_assert(TLY_FRAME_CLIENT_MAX + TLY_BATCH_DRAFT_OVERHEAD
                       + TLY_BATCH_MAX * TLY_BATCH_MESSAGE_BOUND
                   <= TLY_BATCH_DRAFT_MAX,
               "any envelope a gateway takes (at most --max-frame's cap) fits one draft");
_Static_assert(TLY_BATCH_DRAFT_MAX + 1024 <= TLY_JOURNAL_RECORD_MAX,
               "a draft, and the fields its record adds around it, fit one journal record");
_Static_assert(TLY_BATCH_DRAFT_MAX <= TLY_BATCH_APPEND_BUDGET
                   && TLY_BATCH_APPEND_BUDGET < TLY_FRAME_HARD_MAX,
               "an append within the budget, or of one lone draft, fits one frame");

typedef struct _tly_batch_t tly_batch_t;

//  What tly_batch_add did with a route.
typedef enum {
    TLY_BATCH_ADDED = 0,  //  taken (decided, or answered with an error)
    TLY_BATCH_FULL = 1,   //  not taken: the batch has no room for it
    TLY_BATCH_ERROR = -1  //  storage failed: abandon the batch
} tly_batch_result_t;

//  Called by settle once for each partition the batch could not commit:
//  STALE_EPOCH (another owner fenced this one out), SEQUENCE_GAP (the journal
//  holds records this state lacks) or INTERNAL (the state could not be
//  written; it lags the journal). The caller stops serving the partition or
//  catches it up again.
typedef void (tly_batch_refused_fn) (uint32_t partition, Tally__ErrorCode code, void *arg);

//  worker_pk is the inbox every envelope must be addressed to.
tly_batch_t *tly_batch_new (tly_ledger_t *ledger, const uint8_t worker_pk [TLY_KEY_BYTES],
                            uint32_t partition_count);
void tly_batch_destroy (tly_batch_t **self_p);

//  Starts an empty batch at now_ms: opens the ledger's transaction.
//  Returns 0 or -1.
int tly_batch_begin (tly_batch_t *self, int64_t now_ms);
//  Decides route's envelope, in order, for a partition owned at epoch. A
//  route that is malformed gets an error answer; one whose messages are all
//  duplicates gets the first results and no draft. *drafted tells whether a
//  journal draft was made.
tly_batch_result_t tly_batch_add (tly_batch_t *self, const Tally__Route *route, uint64_t epoch,
                                  bool *drafted);
//  Routes added, and journal drafts among them.
size_t tly_batch_size (tly_batch_t *self);
size_t tly_batch_drafts (tly_batch_t *self);
uint32_t tly_batch_draft_partition (tly_batch_t *self, size_t index);
//  The AuditRequest{append} of every draft, in order.
zframe_t *tly_batch_append (tly_batch_t *self, uint64_t request_id);
//  Applies the writer's answer (NULL when there are no drafts). All OK: the
//  journal holds the whole batch, which may be answered at once and is
//  committed to the state by tly_batch_commit. Otherwise the transaction is
//  dropped and only the accepted drafts of partitions without a refusal are
//  applied again and committed (a full map grown and the work redone). Calls refused for every partition that did
//  not commit; their routes will be answered NOT_OWNER. Returns 0, or -1 when
//  the reply does not match the request (nothing settled: abandon the batch).
int tly_batch_settle (tly_batch_t *self, const Tally__AppendReply *reply,
                      tly_batch_refused_fn *refused, void *arg);
//  After answer: commits what settle accepted to the state. The state is a
//  cache of the journal, so answering first is safe and takes the commit
//  (and any periodic state flush) off the round trip. If the commit fails,
//  calls refused (INTERNAL) for each drafted partition, which then lags the
//  journal and must catch up; the answers already given stand.
void tly_batch_commit (tly_batch_t *self, tly_batch_refused_fn *refused, void *arg);
//  After settle: the journal answered UNAVAILABLE (no room to write). The
//  routes of those partitions are answered UNAVAILABLE "journal storage
//  full"; nothing of them was journaled or written, and they stay served.
bool tly_batch_journal_full (tly_batch_t *self);
//  After settle: draft index, whether it was committed (its partition was
//  not refused), and the versions each of its events brought its objects
//  to (one per event, in order).
const Tally__RecordDraft *tly_batch_draft (tly_batch_t *self, size_t index);
bool tly_batch_committed (tly_batch_t *self, size_t index);
const tly_ledger_versions_t *tly_batch_versions (tly_batch_t *self, size_t index);
//  After settle: whether partition's routes are to be decided again (its
//  drafts were refused STALE_CONFIG and nothing of it was journaled; the
//  writer's configuration is now the ledger's). They are not answered: the
//  caller decides them again in its next batch.
bool tly_batch_decide_again (tly_batch_t *self, uint32_t partition);
//  Sends one ActorToRouter{reply} per route, in order, but those to be
//  decided again. Returns the number of answers that could not be sent.
size_t tly_batch_answer (tly_batch_t *self, void *router);
//  Drops the transaction and every decision (after a journal timeout:
//  nothing is answered, the routes remain the caller's to retry).
void tly_batch_abandon (tly_batch_t *self);
//  Forgets the answered and committed batch.
void tly_batch_end (tly_batch_t *self);
bool tly_batch_open (tly_batch_t *self);

#endif
