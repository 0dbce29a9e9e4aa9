//  balance_harness - the real tally-balance binary (started and stopped on
//  the test harness) between a fake router, a fake audit writer (ROUTER
//  sockets) and a fake update bus (an XSUB that subscribes to everything, as
//  the router's does), all on free loopback ports. For the process tests only.
#ifndef BALANCE_HARNESS_H_INCLUDED
#define BALANCE_HARNESS_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "harness.h"
#include "tally.pb-c.h"
#include "tly_account.h"
#include "tly_limits.h"

#define HARNESS_PARTITIONS   4
#define HARNESS_HEARTBEAT_MS 100
#define HARNESS_TIMEOUT_MS   1500   //  the actor's --audit-timeout-ms
#define HARNESS_DEADLINE_MS  10000  //  anything expected must happen within this
#define HARNESS_QUIET_MS     300    //  how long "nothing arrives" is watched
#define HARNESS_RECORDS_MAX  64
#define HARNESS_TOPIC_BYTES  19

typedef struct {
    uint32_t partition;
    uint64_t partition_seq;
    Tally__StoredRecord *stored;  //  as the writer would serve it
} harness_record_t;

typedef struct {
    th_process_t *actor;  //  the real tally-balance, while it runs
    char data_dir [64];
    char router_endpoint [64];
    char audit_endpoint [64];
    char bus_endpoint [64];
    char worker_id [TLY_ID_MAX];
    char worker_secret [TLY_SECRET_MAX];
    const char *lease_ms;  //  --snapshot-lease-ms, or NULL
    tly_account_t worker;
    zsock_t *router;
    zsock_t *audit;
    zsock_t *bus;               //  XSUB: what the actor publishes
    zframe_t *actor_at_router;  //  the actor's identity on each socket
    zframe_t *actor_at_audit;
    zlist_t *replies;     //  Tally__RouteReply * not yet checked
    zlist_t *snapshots;   //  Tally__SnapshotReply * not yet checked
    zlist_t *appends;     //  Tally__AuditRequest * not yet answered
    zlist_t *published;   //  zmsg_t * from the bus, in order
    bool hold_reads;      //  keep reads unanswered (in held_reads)
    zlist_t *held_reads;  //  Tally__AuditRequest *
    size_t hellos;
    size_t journal_hellos;        //  hellos passing on the writer's JournalStatus
    size_t leaves;                //  ActorLeave messages received
    size_t leaves_at_start;       //  ... before the actor of this run started
    size_t replies_received;      //  RouteReplies, in all
    size_t replies_before_leave;  //  ... when the last ActorLeave came
    size_t reads;
    uint64_t read_after [HARNESS_PARTITIONS];  //  last ReadRequest per partition
    uint64_t read_epoch [HARNESS_PARTITIONS];
    harness_record_t records [HARNESS_RECORDS_MAX];  //  the fake journal
    size_t n_records;
    uint8_t head [TLY_HASH_BYTES];
    zhashx_t *purchases;  //  every purchase ID the journal took
} harness_t;

typedef enum {
    HARNESS_NOTHING,
    HARNESS_REPLY,
    HARNESS_APPEND,
    HARNESS_ANY,
    HARNESS_SNAPSHOT,
    HARNESS_PUBLISHED
} harness_want_t;

typedef struct {
    tly_account_t account;
    uint32_t partition;
} harness_user_t;

//  Binds the fake peers, makes a worker and a data directory.
void harness_init (harness_t *test);
//  Removes the data directory and frees everything.
void harness_fini (harness_t *test);
void harness_start (harness_t *test);
//  SIGTERM; the actor's leave (ActorLeave, now or before) acknowledged with
//  an empty Assignment; then the exit status within the deadline (137: it
//  had to be killed).
int harness_stop (harness_t *test);
//  SIGTERM and the actor's leave left unanswered: its exit status, and in
//  waited_ms how long it waited after the leave before it exited.
int harness_stop_unacknowledged (harness_t *test, int64_t *waited_ms);

//  Receives from every socket until wait_ms passed or want is there: hellos
//  are counted, reads answered from the fake journal (unless held),
//  replies, snapshot replies, appends and bus messages queued.
void harness_pump (harness_t *test, harness_want_t want, int64_t wait_ms);
Tally__RouteReply *harness_next_reply (harness_t *test);
Tally__AuditRequest *harness_next_append (harness_t *test);
Tally__SnapshotReply *harness_next_snapshot (harness_t *test);
//  The next bus message: its topic (19 bytes) and BusObject, whose
//  signature by the worker is checked; *state_p gets the ObjectState.
Tally__BusObject *harness_next_published (harness_t *test, uint8_t topic [HARNESS_TOPIC_BYTES],
                                          Tally__ObjectState **state_p);
//  Watches for HARNESS_QUIET_MS: nothing of the kind may arrive meanwhile.
void harness_expect_no_reply (harness_t *test);
void harness_expect_no_publish (harness_t *test);

//  The fake writer takes each draft unless forced (contiguous partition_seq,
//  hash-chained records); the ack is sent only when send.
void harness_answer_append (harness_t *test, Tally__AuditRequest *request, Tally__ErrorCode forced,
                            bool send);
void harness_answer_read (harness_t *test, const Tally__ReadRequest *read);
//  Answers every append OK until count replies have arrived.
void harness_collect_replies (harness_t *test, Tally__RouteReply **replies, size_t count);

void harness_user_in (harness_user_t *user, uint32_t partition);
//  One signed envelope of user: a createAccount when initial >= 0, then a
//  buy of item for amount when item is not NULL.
Tally__SignedEnvelope *harness_envelope (harness_t *test, harness_user_t *user, int64_t initial,
                                         const char *item, int64_t amount);
void harness_free_envelope (Tally__SignedEnvelope *envelope);
void harness_route (harness_t *test, uint64_t route_id, uint32_t partition,
                    Tally__SignedEnvelope *envelope);
void harness_snapshot (harness_t *test, uint64_t snapshot_id, uint32_t partition,
                       const char *object_id, const uint8_t reader [TLY_KEY_BYTES],
                       const char *requester);
void harness_assign (harness_t *test, const uint32_t *partitions, size_t count, uint64_t epoch);
//  Waits for the actor's hello, then assigns it partitions and waits for
//  one read of each.
void harness_connect_actor (harness_t *test, const uint32_t *partitions, size_t count,
                            uint64_t epoch);
//  The fake bus subscribes to (on) or unsubscribes from topic.
void harness_subscribe (harness_t *test, const char *object_id, bool on);

Tally__RecordDraft *harness_only_draft (Tally__AuditRequest *request, uint32_t partition,
                                        uint64_t partition_seq, uint64_t epoch);
Tally__ErrorCode harness_code (const Tally__RouteReply *reply);
int64_t harness_balance_after (Tally__RouteReply *reply, size_t index);

#endif
