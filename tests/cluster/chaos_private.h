//  chaos_private - what the parts of the chaos run (tally-chaos) share: its
//  limits, the clients', watchers' and scheduler's state (each part's
//  thread or loop works on its own), the phase of the run, and when it
//  started. Not for the checker (chaos_check.c, chaos.h) or other tests.
//
//  The run (chaos.c):
//
//      chaos_shared [...] = ...;  chaos_start_ms = tly_mono_ms ();
//      pthread_create (..., chaos_client, &client [i]);  //  the load
//      pthread_create (..., chaos_watch, &watch [w]);    //  the watchers
//      chaos_pause (gap);  fault = chaos_inject (&scheduler);  chaos_await_ready (...);
//      chaos_phase = 1;  join the clients;  chaos_phase = 2;  join the watchers
#ifndef CHAOS_PRIVATE_H_INCLUDED
#define CHAOS_PRIVATE_H_INCLUDED

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "chaos.h"
#include "it_cluster.h"
#include "tally.h"

#define CHAOS_CLIENTS_MAX    16
#define CHAOS_USERS          8      //  per client: slot 0 is shared with the next client
#define CHAOS_RING           64     //  recent envelopes a client may resend
#define CHAOS_BATCH_MAX      8      //  messages in a batched envelope
#define CHAOS_SETTLE_SEND_MS 10000  //  a send once the cluster is whole again (slow builds)
#define CHAOS_RECOVER_MS     30000  //  a healed cluster is ready again within this
#define CHAOS_ACTORS_MAX     4
#define CHAOS_TRAIL          16  //  recent faults and watcher deliveries shown on a failure
#define CHAOS_WORKER         CHAOS_USERS  //  the users slot of the worker, who credits
#define CHAOS_CREDITS        32           //  recent credits a client may repeat (a webhook again)
#define CHAOS_PURCHASES      32           //  recent purchases a client's worker may refund

//  ---------------------------------------------------------------- faults

typedef enum {
    CHAOS_KILL_ACTOR = 0,
    CHAOS_KILL_ROUTER,
    CHAOS_KILL_AUDIT,
    CHAOS_KILL_GATEWAY,
    CHAOS_STOP_ACTOR,
    CHAOS_ADD_ACTOR,
    CHAOS_REMOVE_ACTOR,
    CHAOS_SLOW_DISK,
    CHAOS_FAULTS
} chaos_fault_t;

//  Their names, as the run prints them (chaos_scheduler.c).
extern const char *chaos_fault_names [CHAOS_FAULTS];
//  Whether this build has the fault points a slow disk is armed through.
extern const bool chaos_slow_disk;
//  When the run started (monotonic ms; chaos.c): every time a failure
//  shows counts from it.
extern int64_t chaos_start_ms;

//  ---------------------------------------------------------------- clients (chaos_client.c)

typedef struct {
    tly_account_t account;
    char id [TLY_ID_MAX];
    uint64_t hash;
    tly_sender_t *sender;
    bool created;  //  a createAccount was answered
} chaos_user_t;

//  A recent envelope: its messages (indices into the history) and bytes.
typedef struct {
    int user;
    size_t count;
    tly_msg_t msgs [CHAOS_BATCH_MAX];
    uint32_t history [CHAOS_BATCH_MAX];
    uint8_t *bytes;
    size_t size;
    int64_t sealed_ms;
    int64_t made_ms;
} chaos_envelope_t;

//  A credit the worker made for one of a client's users: its reference may
//  come again, as a new message (a repeated payment webhook).
typedef struct {
    char user [TLY_ID_MAX];
    char reference [32];
    int64_t amount;
} chaos_credit_t;

typedef struct {
    int index;
    uint64_t rng;
    const char *gateway;
    const char *worker_id;
    const tly_account_t *worker;           //  signs the credits
    chaos_user_t users [CHAOS_USERS + 1];  //  [CHAOS_WORKER]: the worker
    chaos_credit_t credits [CHAOS_CREDITS];
    uint32_t credits_made;
    char purchases [CHAOS_PURCHASES][TLY_ID_MAX];  //  recent purchases answered, a ring
    uint32_t purchases_seen;
    chaos_envelope_t ring [CHAOS_RING];
    size_t ring_next;
    chaos_msgs_t history;
    chaos_report_t report;  //  this client's figures and violations
    pthread_t thread;
} chaos_client_t;

//  Shared users: [i] is client i's slot 0, [CHAOS_CLIENTS_MAX + i] its slot 1.
extern const tly_account_t *chaos_shared [2 * CHAOS_CLIENTS_MAX];
//  0 load, 1 settle (the cluster is whole again: clients resend and read),
//  2 watchers catch up (every client has finished).
extern volatile int chaos_phase;

//  A client's thread (arg: its chaos_client_t).
void *chaos_client (void *arg);

//  ---------------------------------------------------------------- watchers (chaos_watch.c)

//  One thing a watcher's callback got, for the trail a failure prints.
typedef struct {
    int64_t at_ms;  //  since the run started
    uint64_t version;
    int64_t balance;
    char kind;  //  's'napshot, 'u'pdate, 'e'nded
    int code;   //  the error of an end, or a snapshot's note (SLOW_CONSUMER)
} chaos_delivery_t;

//  A watcher follows one shared user's balance, as that user, through one
//  gateway: versions never go back, updates follow each other without a
//  gap, and once the load has ended it reaches the balance a read returns.
typedef struct {
    int index;
    const char *gateway;
    const char *worker_id;
    tly_account_t account;
    char id [TLY_ID_MAX];
    char balance_id [TLY_ID_MAX];
    bool subscribed;
    chaos_delivery_t trail [CHAOS_TRAIL];  //  the latest deliveries, a ring
    uint64_t delivered;  //  in all (the ring's next slot: delivered % CHAOS_TRAIL)
    uint64_t version;    //  the last version delivered (0: none yet)
    int64_t balance;
    uint64_t updates;
    uint64_t snapshots;
    tly_watcher_stats_t stats;
    chaos_msgs_t history;  //  its final read
    chaos_report_t report;
    pthread_t thread;
} chaos_watch_t;

//  A watcher's thread (arg: its chaos_watch_t).
void *chaos_watch (void *arg);

//  ---------------------------------------------------------------- the scheduler (chaos_scheduler.c)

//  One fault injected, for the trail a failure prints.
typedef struct {
    int64_t at_ms;  //  since the run started
    chaos_fault_t fault;
    char target [64];
} chaos_injected_t;

typedef struct {
    it_cluster_t *cluster;
    uint64_t rng;
    chaos_report_t *report;
    char actors [CHAOS_ACTORS_MAX][32];  //  the live actors' names
    int actor_count;
    int next_actor;  //  the number of the next actor added
    int gateways;
    chaos_injected_t trail [CHAOS_TRAIL];  //  the latest faults, a ring
    uint64_t injected;                     //  in all (the ring's next slot: injected % CHAOS_TRAIL)
} chaos_scheduler_t;

//  Sleeps ms: the scheduler's own timing, decided by the seed.
void chaos_pause (int64_t ms);
//  Injects one fault and heals it; returns the fault injected.
chaos_fault_t chaos_inject (chaos_scheduler_t *self);
//  Every fault is healed before the next: the cluster must be ready again.
void chaos_await_ready (chaos_scheduler_t *self, chaos_fault_t fault);

#endif
