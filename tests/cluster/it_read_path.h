//  it_read_path - what the read path's cases (it_read_path CASE BASE_PORT)
//  share: what a subscription saw, users, and the sends, watchers and
//  waits every case uses (it_read_path_client.c); and the cases main runs
//  from the files beside it. Names shared between the files start rp_.
#ifndef IT_READ_PATH_H_INCLUDED
#define IT_READ_PATH_H_INCLUDED

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "it_cluster.h"
#include "tally.h"

#define RP_TIMEOUT_MS 10000
#define RP_EVENTS_MAX 32768

//  What one subscription saw, in order.
typedef struct {
    pthread_mutex_t lock;
    size_t count;
    bool *snapshot;  //  each RP_EVENTS_MAX long
    uint64_t *version;
    int64_t *balance;
    Tally__ErrorCode *code;
    char user_id [TLY_ID_MAX];
    char balance_id [TLY_ID_MAX];
    uint64_t log_count;
    size_t records;  //  PurchaseLog records delivered
    bool ended;
} rp_seen_t;

//  What a wait is for: seen to hold want deliveries, or one of version want.
typedef struct {
    rp_seen_t *seen;
    size_t want;
} rp_want_t;

//  A user: its account, its ID and its objects' IDs.
typedef struct {
    tly_account_t account;
    char id [TLY_ID_MAX];
    char balance_id [TLY_ID_MAX];
    char root_id [TLY_ID_MAX];
    char purchases_id [TLY_ID_MAX];
} rp_user_t;

//  What a subscription saw: made empty, and freed.
void rp_seen_init (rp_seen_t *seen);
void rp_seen_free (rp_seen_t *seen);
//  The watcher's callback: records one delivery (arg: an rp_seen_t).
void rp_on_object (const tly_object_t *object, void *arg);
//  How many deliveries seen holds, read under its lock.
size_t rp_seen_count (rp_seen_t *seen);
//  Dispatches until `until` returns true or the deadline passes.
bool rp_dispatch_until (tly_watcher_t *watcher, bool (*until) (void *), void *arg, int timeout_ms);
//  Until want->seen holds want->want deliveries (arg: an rp_want_t).
bool rp_has_count (void *arg);

//  A user with a fresh account and its objects' IDs.
void rp_user_new (rp_user_t *user);
//  Sends n messages, which must be answered; returns the last result.
tly_result_t rp_send (tly_sender_t *sender, tly_msg_t *msgs, size_t n, tly_result_t *results);
//  Creates user's account with initial through gateway.
void rp_create (const char *gateway, const char *worker_id, rp_user_t *user, int64_t initial);
//  A watcher as user through gateway (CURVE when the cluster runs with it).
tly_watcher_t *rp_watcher (const char *gateway, const char *worker_id, const rp_user_t *user);
//  Subscribes to object_id into seen; it must be accepted.
void rp_subscribe (tly_watcher_t *watcher, const char *object_id, rp_seen_t *seen);
//  Checks snapshot then contiguous updates ending at `final`.
void rp_check_contiguous (rp_seen_t *seen, size_t updates, int64_t final);

//  The load cases (it_read_path_load.c).
void rp_case_many (it_cluster_t *cluster);
void rp_case_slow (it_cluster_t *cluster);
//  The cases that restart or stop a process (it_read_path_restart.c).
void rp_case_gateway_restart (it_cluster_t *cluster);
void rp_case_router_restart (it_cluster_t *cluster);
void rp_case_append_timeout (it_cluster_t *cluster);

#endif
