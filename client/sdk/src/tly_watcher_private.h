//  tly_watcher_private - the watcher's state, shared by its two halves:
//  tly_watcher.c (connection, timers, public calls) and tly_watcher_reply.c
//  (what the gateway sends). Internal to libtally.
#ifndef TLY_WATCHER_PRIVATE_H_INCLUDED
#define TLY_WATCHER_PRIVATE_H_INCLUDED

#include <czmq.h>

#include "tally.h"
#include "tally.pb-c.h"

typedef enum {
    TLY_SUB_WAITING = 1,  //  a subscribe is out; its answer comes next
    TLY_SUB_LIVE = 2,     //  has a snapshot, takes updates
    TLY_SUB_RETRY = 3     //  subscribe again at the next ping
} tly_sub_state_t;

//  The first answer tly_watcher_subscribe waits for.
typedef enum {
    TLY_OUTCOME_PENDING = 0,    //  not come yet
    TLY_OUTCOME_DELIVERED = 1,  //  the snapshot went to the callback
    TLY_OUTCOME_REFUSED = -1    //  refused or unusable: the error is set
} tly_sub_outcome_t;

typedef struct {
    char object_id [TLY_ID_MAX];  //  canonical spelling
    tly_object_kind_t kind;
    tly_object_fn *fn;
    void *arg;
    tly_sub_state_t state;
    uint64_t request_id;  //  of the latest subscribe: its answer and pushes carry it
    uint64_t version;     //  last delivered, 0 before the first snapshot
    bool first;           //  tly_watcher_subscribe waits for this answer
} tly_sub_t;

struct _tly_watcher_t {
    zsock_t *dealer;   //  to the gateway's ROUTER
    zsock_t *monitor;  //  PAIR: the dealer's connection events
    bool refused;      //  the last handshake was refused (said once)
    char *endpoint;
    uint8_t worker [TLY_KEY_BYTES];  //  signs every object
    tly_account_t account;           //  signs every subscribe
    uint64_t next_request_id;        //  starts random, so restarts do not reuse IDs
    tly_sub_t *subs [TLY_WATCH_SUBSCRIPTIONS_MAX];
    size_t sub_count;
    int ping_ms;
    int ping_timeout_ms;
    uint64_t ping_id;           //  the ping awaiting its answer, or 0
    int64_t ping_deadline;      //  monotonic ms
    int64_t next_ping;          //  monotonic ms
    uint64_t unsubscribe_id;    //  the unsubscribe awaiting its answer, or 0
    uint64_t connections;       //  connections made to the gateway so far
    tly_sub_outcome_t outcome;  //  of the subscribe being waited for
    bool in_callback;
    uint64_t callbacks;
    tly_watcher_stats_t stats;
    tly_error_t error;
};

//  Handles one ClientReply from the gateway: answers, pushes, pings.
void tly_watcher_on_reply (tly_watcher_t *self, const Tally__ClientReply *reply);

//  Signs and sends a fresh subscribe for sub, which then waits for its
//  answer; or, when it cannot be sent now, retries at the next ping.
void tly_watcher_resubscribe (tly_watcher_t *self, tly_sub_t *sub);
//  Forgets sub (and frees it).
void tly_watcher_remove (tly_watcher_t *self, tly_sub_t *sub);

#endif
