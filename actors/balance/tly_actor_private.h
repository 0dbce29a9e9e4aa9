//  tly_actor_private - a balance actor's state, shared by its three parts:
//  tly_actor.c (the links, the loop, the lifecycle), tly_actor_partitions.c
//  (which partitions it owns, at which epoch, and catching them up) and
//  tly_actor_batches.c (forming a batch, journaling it, answering it).
//  Internal to tally-balance.
#ifndef TLY_ACTOR_PRIVATE_H_INCLUDED
#define TLY_ACTOR_PRIVATE_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "tly_actor.h"
#include "tly_batch.h"
#include "tly_catchup.h"
#include "tly_reader.h"
#include "tly_saver.h"

//  While the state has no room, routes are answered UNAVAILABLE with this
//  text, and a batch is tried again (to find room) this often.
#define TLY_ACTOR_STATE_FULL_TEXT  "state storage full"
#define TLY_ACTOR_STORAGE_RETRY_MS 1000

//  Who serves a partition's routes (see tly_actor.h).
typedef enum {
    TLY_ACTOR_UNOWNED,
    TLY_ACTOR_LOADING,
    TLY_ACTOR_SERVING
} tly_actor_partition_state_t;

typedef struct {
    tly_actor_partition_state_t state;
    uint64_t epoch;
    //  An append at this epoch was accepted since the last catch-up. Until
    //  then the partition puts one draft per batch, so no draft can ever be
    //  accepted behind one the journal refused (after a lost ack, say).
    bool confirmed;
    bool drafted;   //  has a draft in the batch being formed
    zlist_t *held;  //  routes waiting for the catch-up, in order
} tly_actor_partition_t;

//  Where a stopping actor is (see tly_actor_leave).
typedef enum {
    TLY_ACTOR_RUNNING,
    TLY_ACTOR_FINISHING,  //  no new batch; the one in flight settles
    TLY_ACTOR_LEFT,       //  the leave is sent; waiting for its acknowledgement
    TLY_ACTOR_GONE        //  may exit
} tly_actor_stage_t;

struct _tly_actor_t {
    tly_actor_config_t config;
    tly_ledger_t *ledger;  //  not owned
    tly_batch_t *batch;
    tly_catchup_t *catchup;
    tly_saver_t *saver;
    tly_reader_t *reader;
    zsock_t *router;
    zsock_t *audit;
    tly_actor_partition_t *partitions;
    uint64_t *assigned;                //  scratch: epoch per partition in an assignment
    zlist_t *ready;                    //  Tally__RouterToActor *, in arrival order
    size_t held_count;                 //  routes held by all loading partitions
    zlist_t *in_batch;                 //  the routes of the batch in flight, in order
    zlist_t *backlog;                  //  Tally__AuditReply * reads that waited for the ledger
    zlist_t *snapshots;                //  Tally__RouterToActor * not yet looked at
    Tally__RouterToActor *assignment;  //  newest assignment, applied between batches
    uint64_t append_id;                //  the batch in flight, 0 when none
    uint64_t appends;
    int64_t append_deadline;
    int64_t retry_at;  //  after a failed batch start
    //  Storage: the writer's last append found no room for the journal;
    //  while the state has none, when a batch may try again.
    bool journal_full;
    int64_t storage_retry_at;
    int64_t next_hello;
    //  The writer's last answer to a JournalStatusRequest, passed on in
    //  each hello; one request out at a time (sent when, 0: none out).
    Tally__JournalStatus journal_status;
    bool journal_status_known;
    int64_t journal_status_asked;
    int64_t router_heard;
    bool router_alive;
    tly_actor_stage_t stage;
    int64_t leave_deadline;  //  LEFT: when to stop waiting for the router
};

//  --- tly_actor.c

//  Answers the route in message with code, and frees message.
void tly_actor_answer_error (tly_actor_t *self, Tally__RouterToActor *message,
                             Tally__ErrorCode code);
//  The same with text in place of the code's default message.
void tly_actor_answer_text (tly_actor_t *self, Tally__RouterToActor *message, Tally__ErrorCode code,
                            const char *text);

//  --- tly_actor_partitions.c

//  Claims partition at epoch: LOADING until catch-up has read the journal
//  to its end.
void tly_actor_partition_load (tly_actor_t *self, uint32_t partition, uint64_t epoch);
//  Gives partition up: UNOWNED, its held routes answered NOT_OWNER.
void tly_actor_partition_disown (tly_actor_t *self, uint32_t partition);
//  Keeps message until part (LOADING) is caught up; NOT_OWNER when too many
//  routes are held already.
void tly_actor_partition_hold (tly_actor_t *self, tly_actor_partition_t *part,
                               Tally__RouterToActor *message);
//  The journal refused a batch's drafts of partition (a tly_batch_refused_fn,
//  arg the actor): fenced out by a newer owner, or caught up again.
void tly_actor_partition_refused (uint32_t partition, Tally__ErrorCode code, void *arg);
//  Takes the partitions assignment gives this actor and drops the others.
void tly_actor_assign (tly_actor_t *self, const Tally__Assignment *assignment);
//  Applies a catch-up read; a partition read to its end is served.
void tly_actor_on_read (tly_actor_t *self, const Tally__ReadReply *read);
//  A reply about a partition being caught up: a read, or a snapshot load.
void tly_actor_on_catchup (tly_actor_t *self, const Tally__AuditReply *reply);
//  Hands every waiting snapshot request to the reader, with the state of
//  its partition.
void tly_actor_dispatch_snapshots (tly_actor_t *self);

//  --- tly_actor_batches.c

//  Forms the next batch from the ready routes, in order, and sends its
//  append to the writer (or answers at once when nothing was drafted).
void tly_actor_form_batch (tly_actor_t *self);
//  The writer's answer to the batch in flight.
void tly_actor_on_append (tly_actor_t *self, const Tally__AppendReply *reply);
//  An append was answered: room says whether the journal had room. Logs
//  the change, once; the hello tells the router (and `tally status`).
void tly_actor_note_journal (tly_actor_t *self, bool room);
//  The writer's answer is unknown (timeout, bad reply): the batch is dropped,
//  its partitions caught up again and its routes retried.
void tly_actor_abandon_batch (tly_actor_t *self);

#endif
