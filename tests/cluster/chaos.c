//  tally-chaos - a seeded chaos run: a whole cluster of real processes on
//  loopback (audit writer, router, 3 balance actors, 2 gateways) under load
//  from client threads, while a scheduler kills, stops, adds and removes
//  processes and slows the disk at seeded times; then chaos_check proves
//  the guarantees from the clients' histories and the journal.
//
//  Usage: tally-chaos --seed S|random --duration SECONDS [--base-port P]
//                     [--data-dir DIR] [--clients N] [--tamper] [-v]
//
//  --tamper changes one acknowledged answer in the histories before the
//  check, which must then fail: the test that the checker can fail.
//
//  The seed decides every fault, its target, its time and how long it
//  lasts, and every client's choices (users, amounts, batches, resends);
//  the processes' own timing is the machine's, so two runs of one seed
//  inject the same faults at the same moments of different interleavings.
#include "chaos.h"

#include <czmq.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tally.h"
#include "tly_log.h"
#include "tly_message_id.h"
#include "tly_partition.h"
#include "tly_validate.h"
#include "tly_wire.h"

#define S_CLIENTS_DEFAULT 6
#define S_CLIENTS_MAX     16
#define S_USERS           8      //  per client: slot 0 is shared with the next client
#define S_RING            64     //  recent envelopes a client may resend
#define S_BATCH_MAX       8      //  messages in a batched envelope
#define S_SEND_TIMEOUT_MS 3000   //  one send, with the SDK's resends of the same bytes
#define S_SETTLE_SEND_MS  10000  //  a send once the cluster is whole again (slow builds)
#define S_IMPATIENT_MS    400    //  one send in four: gives up early, resends later
#define S_RESEND_BYTES_MS 20000  //  resend the same signed bytes while younger (skew: 30 s)
#define S_RESEND_ID_MS    40000  //  resend a message ID while younger (dedupe window: 60 s)
#define S_RECOVER_MS      30000  //  a healed cluster is ready again within this
#define S_ACTORS          3
#define S_WATCHERS        2  //  one per gateway, each of a shared user
#define S_ACTORS_MIN      2
#define S_ACTORS_MAX      4
#define S_MAX_INITIAL     "1000000"
#define S_TRAIL           16  //  recent faults and watcher deliveries shown on a failure

//  ---------------------------------------------------------------- faults

typedef enum {
    S_KILL_ACTOR = 0,
    S_KILL_ROUTER,
    S_KILL_AUDIT,
    S_KILL_GATEWAY,
    S_STOP_ACTOR,
    S_ADD_ACTOR,
    S_REMOVE_ACTOR,
    S_SLOW_DISK,
    S_FAULTS
} s_fault_t;

//  When the run started (monotonic ms, and the wall clock the cluster's logs
//  use): every time a failure shows counts from it.
static int64_t s_start_ms;
static char s_start_wall [32];

static const char *s_fault_names [S_FAULTS] = { "kill -9 actor",          "kill -9 router",
                                                "kill -9 audit",          "kill -9 gateway",
                                                "SIGSTOP actor",          "add actor",
                                                "remove actor (SIGTERM)", "slow disk" };

//  The slow disk is armed through the servers' faults files
//  (it_cluster_faults; lib/include/tly_fault.h): only a build with fault
//  points has them, and only there is a slow disk chosen.
#if defined(TLY_FAULTS_BUILD)
static const bool s_slow_disk = true;
#else
static const bool s_slow_disk = false;
#endif

//  ---------------------------------------------------------------- clients

typedef struct {
    tly_account_t account;
    char id [TLY_ID_MAX];
    uint64_t hash;
    tly_sender_t *sender;
    bool created;  //  a createAccount was answered
} s_user_t;

//  A recent envelope: its messages (indices into the history) and bytes.
typedef struct {
    int user;
    size_t count;
    tly_msg_t msgs [S_BATCH_MAX];
    uint32_t history [S_BATCH_MAX];
    uint8_t *bytes;
    size_t size;
    int64_t sealed_ms;
    int64_t made_ms;
} s_envelope_t;

typedef struct {
    int index;
    uint64_t rng;
    const char *gateway;
    const char *worker_id;
    s_user_t users [S_USERS];
    s_envelope_t ring [S_RING];
    size_t ring_next;
    chaos_msgs_t history;
    chaos_report_t report;  //  this client's figures and violations
    pthread_t thread;
} s_client_t;

//  Shared users: [i] is client i's slot 0, [S_CLIENTS_MAX + i] its slot 1.
static const tly_account_t *s_shared [2 * S_CLIENTS_MAX];
//  0 load, 1 settle (the cluster is whole again: clients resend and read),
//  2 watchers catch up (every client has finished).
static volatile int s_phase = 0;

static void
s_user_open (s_client_t *self, int slot, const tly_account_t *account)
{
    s_user_t *user = &self->users [slot];
    tly_sender_destroy (&user->sender);
    memset (user, 0, sizeof *user);
    if (account)
        user->account = *account;
    else
        CHECK (tly_account_generate (&user->account) == 0);
    tly_account_id (user->account.sign_pk, user->id);
    user->hash = chaos_hash (user->id);
    user->sender = tly_sender_new_curve (self->gateway, it_gateway_key, self->worker_id,
                                         &user->account);
    CHECK (user->sender);
}

//  A fresh user in an unshared slot: users come and go. The slot's recent
//  envelopes go with the old one (a resend is signed by its own sender).
static void
s_user_renew (s_client_t *self, int slot)
{
    for (int i = 0; i < S_RING; i++)
        if (self->ring [i].bytes && self->ring [i].user == slot) {
            free (self->ring [i].bytes);
            self->ring [i].bytes = NULL;
        }
    s_user_open (self, slot, NULL);
}

//  Takes one answer for history message index: the first definitive answer
//  stays, and every later one must be the same.
static void
s_answer (s_client_t *self, uint32_t index, const tly_result_t *result)
{
    chaos_msg_t *msg = &self->history.items [index];
    if (!result->ok && result->code == TALLY__ERROR_CODE__STALE_MESSAGE_ID) {
        msg->stale = 1;  //  refused unseen: the first answer, if any, stays unknown
        return;
    }
    chaos_msg_t answer = *msg;
    answer.state = result->ok ? CHAOS_OK : CHAOS_REFUSED;
    answer.code = result->ok ? 0 : (int32_t) result->code;
    answer.purchase = result->ok && result->kind == TLY_RESULT_PURCHASE;
    answer.value = !result->ok ? 0 : answer.purchase ? result->balance_after : result->balance;
    answer.result_id = result->ok ? chaos_hash (result->id) : 0;
    if (msg->state == CHAOS_UNANSWERED) {
        *msg = answer;
        return;
    }
    if (msg->state != answer.state || msg->code != answer.code || msg->value != answer.value
        || msg->result_id != answer.result_id) {
        char hex [2 * TLY_MESSAGE_ID_BYTES + 1];
        sodium_bin2hex (hex, sizeof hex, msg->id, TLY_MESSAGE_ID_BYTES);
        chaos_violation (&self->report,
                         "client %d: message %s answered %s %" PRId64 ", then %s %" PRId64,
                         self->index, hex, msg->state == CHAOS_OK ? "ok" : "refused",
                         msg->state == CHAOS_OK ? msg->value : msg->code,
                         answer.state == CHAOS_OK ? "ok" : "refused",
                         answer.state == CHAOS_OK ? answer.value : answer.code);
    }
}

//  Sends the envelope's bytes; takes the answers.
static void
s_send (s_client_t *self, s_envelope_t *envelope)
{
    s_user_t *user = &self->users [envelope->user];
    tly_result_t results [S_BATCH_MAX];
    size_t count = 0;
    int timeout_ms = __atomic_load_n (&s_phase, __ATOMIC_SEQ_CST) > 0 ? S_SETTLE_SEND_MS
                     : th_rng_below (&self->rng, 4) == 0              ? S_IMPATIENT_MS
                                                                      : S_SEND_TIMEOUT_MS;
    if (tly_sender_send_raw (user->sender, envelope->bytes, envelope->size, timeout_ms, results,
                             S_BATCH_MAX, &count)
        != 0) {
        self->report.send_failures++;
        return;
    }
    if (count != envelope->count) {
        chaos_violation (&self->report, "client %d: %zu results for %zu messages", self->index,
                         count, envelope->count);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        if (memcmp (results [i].message_id, envelope->msgs [i].id, TLY_MESSAGE_ID_BYTES) != 0) {
            char sent [2 * TLY_MESSAGE_ID_BYTES + 1], got [2 * TLY_MESSAGE_ID_BYTES + 1];
            sodium_bin2hex (sent, sizeof sent, envelope->msgs [i].id, TLY_MESSAGE_ID_BYTES);
            sodium_bin2hex (got, sizeof got, results [i].message_id, TLY_MESSAGE_ID_BYTES);
            chaos_violation (&self->report,
                             "client %d: an envelope of %s answered with the results of another: "
                             "message %s answered as %s (of %s)",
                             self->index, user->id, sent, got,
                             results [i].ok ? results [i].user_id : "an error");
            return;
        }
        s_answer (self, envelope->history [i], &results [i]);
        if (results [i].ok && results [i].kind == TLY_RESULT_BALANCE)
            user->created = true;
    }
}

//  Signs the envelope's messages again, stamped now.
static void
s_seal (s_client_t *self, s_envelope_t *envelope)
{
    free (envelope->bytes);
    envelope->bytes = NULL;
    CHECK (tly_sender_seal (self->users [envelope->user].sender, envelope->msgs, envelope->count,
                            tly_now_ms (), &envelope->bytes, &envelope->size)
           == 0);
    envelope->sealed_ms = tly_mono_ms ();
}

//  A new envelope for one user: a createAccount first until one is
//  answered, then buys (batch 1 mostly, else 2..S_BATCH_MAX, sometimes with
//  a createAccount that reads the balance in between).
static void
s_new_envelope (s_client_t *self)
{
    uint64_t *rng = &self->rng;
    s_envelope_t *envelope = &self->ring [self->ring_next++ % S_RING];
    free (envelope->bytes);
    memset (envelope, 0, sizeof *envelope);
    envelope->user = (int) th_rng_below (rng, S_USERS);
    s_user_t *user = &self->users [envelope->user];
    envelope->count = th_rng_below (rng, 10) < 7 ? 1 : 2 + th_rng_below (rng, S_BATCH_MAX - 1);
    static const int64_t initials [] = { 100, 1000, 1000000 };
    for (size_t i = 0; i < envelope->count; i++) {
        tly_msg_t *msg = &envelope->msgs [i];
        if ((i == 0 && !user->created) || th_rng_below (rng, 20) == 0)
            CHECK (tly_msg_create_account (msg, initials [th_rng_below (rng, 3)]) == 0);
        else {
            char item [32];
            snprintf (item, sizeof item, "item-%d", (int) th_rng_below (rng, 100));
            CHECK (tly_msg_buy (msg, item, 1 + (int64_t) th_rng_below (rng, 40)) == 0);
        }
        chaos_msg_t *sent = chaos_msgs_add (&self->history);
        sent->sender = user->hash;
        memcpy (sent->id, msg->id, TLY_MESSAGE_ID_BYTES);
        envelope->history [i] = (uint32_t) (self->history.count - 1);
    }
    envelope->made_ms = tly_mono_ms ();
    s_seal (self, envelope);
    self->report.envelopes++;
    s_send (self, envelope);
}

//  True when some message of the envelope has no definitive answer.
static bool
s_unanswered (s_client_t *self, const s_envelope_t *envelope)
{
    for (size_t i = 0; i < envelope->count; i++)
        if (self->history.items [envelope->history [i]].state == CHAOS_UNANSWERED)
            return true;
    return false;
}

//  Resends a recent envelope: its very bytes while they are young enough
//  for the gateway, else (or by choice) its message IDs newly signed.
static void
s_resend (s_client_t *self, s_envelope_t *envelope, bool same_bytes)
{
    int64_t now = tly_mono_ms ();
    if (!envelope->bytes || now - envelope->made_ms > S_RESEND_ID_MS)
        return;
    if (same_bytes && now - envelope->sealed_ms < S_RESEND_BYTES_MS)
        self->report.resent_bytes++;
    else {
        s_seal (self, envelope);
        self->report.resent_sealed++;
    }
    s_send (self, envelope);
}

static void *
s_client (void *arg)
{
    s_client_t *self = arg;
    uint64_t *rng = &self->rng;
    s_user_open (self, 0, s_shared [self->index]);
    for (int slot = 1; slot < S_USERS; slot++)
        s_user_open (self, slot, slot == 1 ? s_shared [self->index + S_CLIENTS_MAX] : NULL);
    while (__atomic_load_n (&s_phase, __ATOMIC_SEQ_CST) == 0) {
        uint64_t choice = th_rng_below (rng, 100);
        if (choice < 12)
            s_resend (self, &self->ring [th_rng_below (rng, S_RING)], th_rng_below (rng, 2) == 0);
        else if (choice == 12)
            s_user_renew (self, 2 + (int) th_rng_below (rng, S_USERS - 2));
        else
            s_new_envelope (self);
    }
    //  The cluster is whole again: every envelope still unanswered is resent
    //  (within the dedupe window), then every user's balance read.
    for (int i = 0; i < S_RING; i++)
        if (self->ring [i].bytes && s_unanswered (self, &self->ring [i]))
            s_resend (self, &self->ring [i], false);
    for (int slot = 0; slot < S_USERS; slot++) {
        s_envelope_t *envelope = &self->ring [self->ring_next++ % S_RING];
        free (envelope->bytes);
        memset (envelope, 0, sizeof *envelope);
        envelope->user = slot;
        envelope->count = 1;
        CHECK (tly_msg_create_account (&envelope->msgs [0], 0) == 0);
        chaos_msg_t *sent = chaos_msgs_add (&self->history);
        sent->sender = self->users [slot].hash;
        memcpy (sent->id, envelope->msgs [0].id, TLY_MESSAGE_ID_BYTES);
        envelope->history [0] = (uint32_t) (self->history.count - 1);
        envelope->made_ms = tly_mono_ms ();
        s_seal (self, envelope);
        s_send (self, envelope);
        if (sent->state == CHAOS_UNANSWERED)
            chaos_violation (&self->report, "client %d: no answer to a balance read once healed",
                             self->index);
    }
    for (int i = 0; i < S_RING; i++)
        free (self->ring [i].bytes);
    for (int slot = 0; slot < S_USERS; slot++)
        tly_sender_destroy (&self->users [slot].sender);
    return NULL;
}

//  ---------------------------------------------------------------- watchers

//  One thing a watcher's callback got, for the trail a failure prints.
typedef struct {
    int64_t at_ms;  //  since the run started
    uint64_t version;
    int64_t balance;
    char kind;  //  's'napshot, 'u'pdate, 'e'nded
    int code;   //  the error of an end, or a snapshot's note (SLOW_CONSUMER)
} s_delivery_t;

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
    s_delivery_t trail [S_TRAIL];  //  the latest deliveries, a ring
    uint64_t delivered;            //  in all (the ring's next slot: delivered % S_TRAIL)
    uint64_t version;              //  the last version delivered (0: none yet)
    int64_t balance;
    uint64_t updates;
    uint64_t snapshots;
    tly_watcher_stats_t stats;
    chaos_msgs_t history;  //  its final read
    chaos_report_t report;
    pthread_t thread;
} s_watch_t;

static void
s_on_balance (const tly_object_t *object, void *arg)
{
    s_watch_t *self = arg;
    self->trail [self->delivered++ % S_TRAIL] = (s_delivery_t) {
        .at_ms = tly_mono_ms () - s_start_ms,
        .version = object->version,
        .balance = object->ended ? 0 : object->balance.balance,
        .kind = object->ended      ? 'e'
                : object->snapshot ? 's'
                                   : 'u',
        .code = (int) object->code
    };
    if (object->ended) {
        self->subscribed = false;  //  subscribed again by the loop
        return;
    }
    if (object->kind != TLY_OBJ_BALANCE) {
        chaos_violation (&self->report, "watcher %d: an object of kind %d", self->index,
                         (int) object->kind);
        return;
    }
    if (object->snapshot) {
        self->snapshots++;
        if (object->version < self->version
            || (object->version == self->version && object->balance.balance != self->balance))
            chaos_violation (&self->report,
                             "watcher %d of %s: snapshot v%" PRIu64 " balance %" PRId64
                             " after v%" PRIu64 " balance %" PRId64,
                             self->index, self->id, object->version, object->balance.balance,
                             self->version, self->balance);
    } else {
        self->updates++;
        if (object->version != self->version + 1)
            chaos_violation (&self->report, "watcher %d of %s: update v%" PRIu64 " after v%" PRIu64,
                             self->index, self->id, object->version, self->version);
    }
    self->version = object->version;
    self->balance = object->balance.balance;
}

//  The user's balance read through the cluster (a createAccount, which
//  changes nothing for an account that exists), kept in the history; -1
//  when unanswered.
static int64_t
s_watch_read (s_watch_t *self)
{
    tly_sender_t *sender = tly_sender_new_curve (self->gateway, it_gateway_key, self->worker_id,
                                                 &self->account);
    CHECK (sender);
    tly_msg_t msg;
    CHECK (tly_msg_create_account (&msg, 0) == 0);
    chaos_msg_t *sent = chaos_msgs_add (&self->history);
    sent->sender = chaos_hash (self->id);
    memcpy (sent->id, msg.id, TLY_MESSAGE_ID_BYTES);
    tly_result_t result;
    int64_t balance = -1;
    if (tly_sender_send_one (sender, &msg, S_SETTLE_SEND_MS, &result) == 0) {
        sent->state = result.ok ? CHAOS_OK : CHAOS_REFUSED;
        sent->code = result.ok ? 0 : (int32_t) result.code;
        sent->value = result.ok ? result.balance : 0;
        sent->result_id = result.ok ? chaos_hash (result.id) : 0;
        if (result.ok)
            balance = result.balance;
    }
    tly_sender_destroy (&sender);
    return balance;
}

static void *
s_watch (void *arg)
{
    s_watch_t *self = arg;
    tly_watcher_t *watcher = tly_watcher_new_curve (self->gateway, it_gateway_key, self->worker_id,
                                                    &self->account);
    CHECK (watcher);
    //  Short pings: a restarted gateway is noticed, and subscribed to again, soon.
    tly_watcher_set_ping (watcher, 500, 300);
    int64_t target = -1;
    int64_t deadline = 0;
    for (;;) {
        int phase = __atomic_load_n (&s_phase, __ATOMIC_SEQ_CST);
        if (phase == 2 && target == -1) {
            target = s_watch_read (self);
            deadline = tly_mono_ms () + S_RECOVER_MS;
            if (target == -1) {
                chaos_violation (&self->report, "watcher %d: no answer to the final read",
                                 self->index);
                break;
            }
        }
        if (target >= 0 && self->subscribed && self->balance == target)
            break;
        if (target >= 0 && tly_mono_ms () >= deadline) {
            chaos_violation (&self->report,
                             "watcher %d of %s: at v%" PRIu64 " balance %" PRId64
                             " %d ms after the load, the balance is %" PRId64,
                             self->index, self->id, self->version, self->balance, S_RECOVER_MS,
                             target);
            break;
        }
        //  The account exists once a client's createAccount is applied: until
        //  then the subscribe is refused (NOT_FOUND) and tried again.
        if (!self->subscribed)
            self->subscribed = tly_watcher_subscribe (watcher, self->balance_id, s_on_balance, self,
                                                      1000)
                               == 0;
        tly_watcher_dispatch (watcher, self->subscribed ? 200 : 100);  //  paces a new try too
    }
    tly_watcher_stats (watcher, &self->stats);
    tly_watcher_destroy (&watcher);
    return NULL;
}

//  ---------------------------------------------------------------- the scheduler

//  One fault injected, for the trail a failure prints.
typedef struct {
    int64_t at_ms;  //  since the run started
    s_fault_t fault;
    char target [64];
} s_injected_t;

typedef struct {
    it_cluster_t *cluster;
    uint64_t rng;
    chaos_report_t *report;
    char actors [S_ACTORS_MAX][32];  //  the live actors' names
    int actor_count;
    int next_actor;  //  the number of the next actor added
    int gateways;
    s_injected_t trail [S_TRAIL];  //  the latest faults, a ring
    uint64_t injected;             //  in all (the ring's next slot: injected % S_TRAIL)
} s_scheduler_t;

static it_child_t *
s_child (it_cluster_t *cluster, const char *name)
{
    for (int i = 0; i < cluster->child_count; i++)
        if (streq (cluster->children [i].name, name) && !cluster->children [i].removed)
            return &cluster->children [i];
    th_fail (__FILE__, __LINE__, "no child named %s", name);
}

//  Sleeps ms: the scheduler's own timing, decided by the seed.
static void
s_pause (int64_t ms)
{
    th_sleep_ms (ms);
}

//  Injects one fault and heals it; returns the fault injected.
static s_fault_t
s_inject (s_scheduler_t *self)
{
    it_cluster_t *cluster = self->cluster;
    s_fault_t fault = (s_fault_t) th_rng_below (&self->rng, S_FAULTS);
    if (fault == S_ADD_ACTOR && self->actor_count == S_ACTORS_MAX)
        fault = S_REMOVE_ACTOR;
    else if (fault == S_REMOVE_ACTOR && self->actor_count == S_ACTORS_MIN)
        fault = S_ADD_ACTOR;
    else if (fault == S_SLOW_DISK && !s_slow_disk)
        fault = S_KILL_ACTOR;
    int64_t hold = (int64_t) th_rng_below (&self->rng, 1000);
    int actor = (int) th_rng_below (&self->rng, (uint64_t) self->actor_count);
    char gateway [32];
    snprintf (gateway, sizeof gateway, "gateway-%d",
              1 + (int) th_rng_below (&self->rng, (uint64_t) self->gateways));
    char name [64];
    int64_t at_ms = tly_mono_ms () - s_start_ms;
    const char *target = fault == S_KILL_ROUTER    ? "router"
                         : fault == S_KILL_AUDIT   ? "audit"
                         : fault == S_KILL_GATEWAY ? gateway
                                                   : self->actors [actor];
    switch (fault) {
        case S_KILL_ACTOR:
        case S_KILL_ROUTER:
        case S_KILL_AUDIT:
        case S_KILL_GATEWAY:
            it_cluster_kill (cluster, target, SIGKILL);
            s_pause (hold);
            it_cluster_restart (cluster, target);
            break;
        case S_STOP_ACTOR: {
            //  Longer than the router's link timeout: the actor is lost, its
            //  partitions move, and when it runs again its old epoch is fenced.
            it_child_t *child = s_child (cluster, target);
            th_process_signal (child->process, SIGSTOP);
            s_pause (TLY_LINK_TIMEOUT_MS + 500 + 2 * hold);
            th_process_signal (child->process, SIGCONT);
            break;
        }
        case S_ADD_ACTOR:
            target = self->actors [self->actor_count];
            snprintf (self->actors [self->actor_count++], sizeof self->actors [0], "balance-%d",
                      self->next_actor++);
            it_cluster_add_actor (cluster, target);
            break;
        case S_REMOVE_ACTOR: {
            snprintf (name, sizeof name, "%s", target);
            int code = it_cluster_remove (cluster, name);
            if (code != 0)
                chaos_violation (self->report, "%s exited %d after SIGTERM", name, code);
            memmove (&self->actors [actor], &self->actors [actor + 1],
                     (size_t) (self->actor_count - actor - 1) * sizeof self->actors [0]);
            self->actor_count--;
            target = name;
            break;
        }
        case S_SLOW_DISK: {
            //  Every fsync of the journal slower than a client's patience
            //  at times, for one to four seconds of load.
            int sync_ms = 100 + (int) th_rng_below (&self->rng, 1400);
            int commit_ms = 1 + (int) th_rng_below (&self->rng, 300);
            char spec [64];
            snprintf (spec, sizeof spec, "journal.sync=delay:%d", sync_ms);
            it_cluster_faults (cluster, "audit", spec);
            snprintf (spec, sizeof spec, "state.commit=delay:%d", commit_ms);
            for (int a = 0; a < self->actor_count; a++)
                it_cluster_faults (cluster, self->actors [a], spec);
            s_pause (1000 + 3 * hold);
            it_cluster_faults (cluster, "audit", "");
            for (int a = 0; a < self->actor_count; a++)
                it_cluster_faults (cluster, self->actors [a], "");
            snprintf (name, sizeof name, "fsync +%d ms, commit +%d ms", sync_ms, commit_ms);
            target = name;
            break;
        }
        default: CHECK (false);
    }
    s_injected_t *injected = &self->trail [self->injected++ % S_TRAIL];
    *injected = (s_injected_t) { .at_ms = at_ms, .fault = fault };
    snprintf (injected->target, sizeof injected->target, "%s", target);
    if (th_verbose)
        printf ("chaos: %.3f s: %s: %s\n", (double) at_ms / 1000.0, s_fault_names [fault], target);
    return fault;
}

//  Every fault is healed before the next: the cluster must be ready again.
static void
s_await_ready (s_scheduler_t *self, s_fault_t fault)
{
    for (int n = 1; n <= self->gateways; n++) {
        char endpoint [64];
        it_gateway_endpoint (self->cluster, n, endpoint, sizeof endpoint);
        if (!it_wait_ready (endpoint, S_RECOVER_MS)) {
            chaos_violation (self->report, "gateway-%d not ready %d ms after %s was healed", n,
                             S_RECOVER_MS, s_fault_names [fault]);
            return;
        }
    }
}

//  What a failure needs to be followed in the cluster's logs (whose lines
//  carry wall-clock times): when the load ended, the last faults, and for a
//  watcher that failed, its object, partition and last deliveries.
static void
s_print_trails (const s_scheduler_t *scheduler, const s_watch_t *watch, int64_t end_ms)
{
    printf ("chaos: trail: times from the start of the load (%s); it ended at %.3f s\n",
            s_start_wall, (double) end_ms / 1000.0);
    uint64_t first = scheduler->injected > S_TRAIL ? scheduler->injected - S_TRAIL : 0;
    for (uint64_t n = first; n < scheduler->injected; n++) {
        const s_injected_t *fault = &scheduler->trail [n % S_TRAIL];
        printf ("chaos: trail: %.3f s fault %s: %s\n", (double) fault->at_ms / 1000.0,
                s_fault_names [fault->fault], fault->target);
    }
    for (int w = 0; w < S_WATCHERS; w++) {
        const s_watch_t *self = &watch [w];
        if (!self->report.violations)
            continue;
        uint32_t partition = tly_partition_of (self->account.sign_pk, TLY_PARTITIONS_DEFAULT);
        printf ("chaos: trail: watcher %d on %s follows %s (user %s, partition %" PRIu32
                "); SDK: %" PRIu64 " gaps, %" PRIu64 " rounds of resubscribing, %" PRIu64
                " rejected, %" PRIu64 " duplicates\n",
                w, self->gateway, self->balance_id, self->id, partition, self->stats.gaps,
                self->stats.resubscribes, self->stats.rejected, self->stats.duplicates);
        first = self->delivered > S_TRAIL ? self->delivered - S_TRAIL : 0;
        for (uint64_t n = first; n < self->delivered; n++) {
            const s_delivery_t *got = &self->trail [n % S_TRAIL];
            if (got->kind == 'e')
                printf ("chaos: trail: %.3f s watcher %d: ended, %s\n",
                        (double) got->at_ms / 1000.0, w, tly_error_name (got->code));
            else
                printf ("chaos: trail: %.3f s watcher %d: %s v%" PRIu64 " balance %" PRId64
                        "%s%s\n",
                        (double) got->at_ms / 1000.0, w, got->kind == 's' ? "snapshot" : "update",
                        got->version, got->balance, got->code ? ", " : "",
                        got->code ? tly_error_name (got->code) : "");
        }
    }
}

//  ---------------------------------------------------------------- main

static void
s_usage (void)
{
    fprintf (stderr, "usage: tally-chaos --seed S|random --duration SECONDS [--base-port P]\n"
                     "                   [--data-dir DIR] [--clients N] [--tamper] [-v]\n");
}

static void
s_print (const chaos_report_t *report, int64_t duration_ms, int actors_end)
{
    printf ("chaos: seed %" PRIu64 ", %.1f s of load, %d actors at the end\n", report->seed,
            (double) duration_ms / 1000.0, actors_end);
    uint64_t faults = 0;
    for (int f = 0; f < S_FAULTS; f++) {
        printf ("chaos:   faults %-24s %" PRIu64 "\n", s_fault_names [f], report->faults [f]);
        faults += report->faults [f];
    }
    printf ("chaos:   faults in all %" PRIu64 "; the slow disk's fsync delay fired in %" PRIu64
            " of its %" PRIu64 "\n",
            faults, report->slow_fired, report->faults [S_SLOW_DISK]);
    printf ("chaos: envelopes %" PRIu64 ", resent %" PRIu64 " as the same bytes and %" PRIu64
            " newly signed, %" PRIu64 " sends unanswered\n",
            report->envelopes, report->resent_bytes, report->resent_sealed, report->send_failures);
    printf ("chaos: messages sent %" PRIu64 ", acknowledged %" PRIu64 ", unanswered %" PRIu64
            " (%" PRIu64 " of them applied)\n",
            report->sent, report->acknowledged, report->unanswered, report->unanswered_applied);
    printf ("chaos: journal: %" PRIu64 " records, %" PRIu64 " message results, %" PRIu64
            " accounts, %" PRIu64 " purchases\n",
            report->records, report->journaled, report->accounts, report->purchases);
    printf ("chaos: watchers: %" PRIu64 " updates in order, %" PRIu64
            " snapshots (first and after a resubscribe), %" PRIu64 " gaps repaired, %" PRIu64
            " rounds of resubscribing\n",
            report->watch_updates, report->watch_snapshots, report->watch_gaps,
            report->watch_resubscribes);
    printf ("chaos: lost %" PRIu64 ", applied twice %" PRIu64
            ", journaled with another result %" PRIu64 "\n",
            report->lost, report->twice, report->different);
}

int
main (int argc, char **argv)
{
    uint64_t seed = 0;
    bool seeded = false;
    int64_t duration_s = 0;
    int base_port = 24600;
    int clients = S_CLIENTS_DEFAULT;
    bool tamper = false;
    for (int i = 1; i < argc; i++) {
        const char *value = i + 1 < argc ? argv [i + 1] : NULL;
        char *end = NULL;
        if (streq (argv [i], "-v"))
            th_verbose = true;
        else if (streq (argv [i], "--tamper"))
            tamper = true;
        else if (streq (argv [i], "--seed") && value) {
            if (streq (value, "random")) {
                seed = (uint64_t) tly_now_ms () ^ ((uint64_t) getpid () << 32);
                seeded = true;
            } else {
                seed = strtoull (value, &end, 10);
                seeded = end != value && *end == 0;
            }
            i++;
        } else if (streq (argv [i], "--duration") && value) {
            duration_s = strtoll (value, &end, 10);
            if (end == value || *end || duration_s < 1 || duration_s > 7 * 24 * 3600) {
                fprintf (stderr, "tally-chaos: --duration %s: seconds, 1 to 604800\n", value);
                return 2;
            }
            i++;
        } else if (streq (argv [i], "--base-port") && value) {
            base_port = atoi (value);
            if (base_port < 1024 || base_port > 65535 - 100) {
                fprintf (stderr, "tally-chaos: --base-port %s: 1024 to 65435\n", value);
                return 2;
            }
            i++;
        } else if (streq (argv [i], "--data-dir") && value) {
            it_cluster_parent_dir = value;
            i++;
        } else if (streq (argv [i], "--clients") && value) {
            clients = atoi (value);
            if (clients < 2 || clients > S_CLIENTS_MAX) {
                fprintf (stderr, "tally-chaos: --clients %s: 2 to %d\n", value, S_CLIENTS_MAX);
                return 2;
            }
            i++;
        } else {
            s_usage ();
            return 2;
        }
    }
    if (!seeded || duration_s == 0) {
        if (!seeded && duration_s)
            fprintf (stderr, "tally-chaos: --seed needs a number or `random`\n");
        s_usage ();
        return 2;
    }
    //  Line by line: a long run's log shows each line as it comes, and no
    //  line is lost however the run ends.
    setvbuf (stdout, NULL, _IOLBF, 0);
    //  The seed first, so that any failure, however it ends, can be replayed.
    printf ("chaos: seed %" PRIu64 " (replay: tally-chaos --seed %" PRIu64 " --duration %" PRId64
            ")\n",
            seed, seed, duration_s);
    fflush (stdout);
    //  Ctrl-C or SIGTERM ends the run at once (and its processes with it):
    //  czmq's handler would only make every socket call fail from then on.
    zsys_handler_set (NULL);
    zsys_init ();
    zsys_set_linger (0);
    CHECK (sodium_init () >= 0);
    //  The SDK's own lines (a watcher reconnecting after each gateway kill)
    //  at info would bury the run's; -v shows them.
    tly_log_init ("tally-chaos", th_verbose ? TLY_INFO : TLY_WARN);
    if (!s_slow_disk)
        printf ("chaos: no slow disk: this build has no fault points (-DTALLY_FAULTS=ON has)\n");

    static const char *balance_args [] = { "--max-initial", S_MAX_INITIAL, NULL };
    it_balance_extra_args = balance_args;
    it_cluster_t *cluster = it_cluster_start (base_port, S_ACTORS, 2);
    printf ("chaos: cluster in %s\n", cluster->dir);
    char second [64];
    it_gateway_endpoint (cluster, 2, second, sizeof second);

    //  Shared users: client i's slot 0 is client i-1's slot 1.
    tly_account_t shared [S_CLIENTS_MAX];
    for (int i = 0; i < clients; i++) {
        CHECK (tly_account_generate (&shared [i]) == 0);
        s_shared [i] = &shared [i];
    }
    for (int i = 0; i < clients; i++)
        s_shared [S_CLIENTS_MAX + i] = &shared [(i + 1) % clients];
    s_start_ms = tly_mono_ms ();
    time_t wall = (time_t) (tly_now_ms () / 1000);
    struct tm utc;
    strftime (s_start_wall, sizeof s_start_wall, "%Y-%m-%dT%H:%M:%SZ", gmtime_r (&wall, &utc));
    uint64_t rng = seed;
    CHECK (clients >= 2 && clients <= S_CLIENTS_MAX);
    s_client_t *client = calloc ((size_t) clients, sizeof *client);
    CHECK (client);
    for (int i = 0; i < clients; i++) {
        client [i].index = i;
        client [i].rng = th_rng_next (&rng);
        client [i].gateway = i % 2 ? second : cluster->gateway;
        client [i].worker_id = cluster->worker_id;
        client [i].report.seed = seed;
        CHECK (pthread_create (&client [i].thread, NULL, s_client, &client [i]) == 0);
    }

    //  Two watchers, one per gateway, of the first two shared users.
    s_watch_t watch [S_WATCHERS];
    memset (watch, 0, sizeof watch);
    for (int w = 0; w < S_WATCHERS; w++) {
        watch [w].index = w;
        watch [w].gateway = w % 2 ? second : cluster->gateway;
        watch [w].worker_id = cluster->worker_id;
        watch [w].account = shared [w];
        tly_account_id (shared [w].sign_pk, watch [w].id);
        tly_balance_id (shared [w].sign_pk, TLY_PARTITIONS_DEFAULT, watch [w].balance_id);
        CHECK (pthread_create (&watch [w].thread, NULL, s_watch, &watch [w]) == 0);
    }

    chaos_report_t report = { .seed = seed };
    s_scheduler_t scheduler = { .cluster = cluster,
                                .rng = th_rng_next (&rng),
                                .report = &report,
                                .actor_count = S_ACTORS,
                                .next_actor = S_ACTORS + 1,
                                .gateways = 2 };
    for (int a = 0; a < S_ACTORS; a++)
        snprintf (scheduler.actors [a], sizeof scheduler.actors [a], "balance-%d", a + 1);
    int64_t start = tly_mono_ms ();
    int64_t end = start + duration_s * 1000;
    while (report.violations == 0) {
        int64_t gap = 200 + (int64_t) th_rng_below (&scheduler.rng, 1300);
        if (tly_mono_ms () + gap >= end)
            break;
        s_pause (gap);
        s_fault_t fault = s_inject (&scheduler);
        report.faults [fault]++;
        s_await_ready (&scheduler, fault);
    }
    int64_t remaining = end - tly_mono_ms ();
    if (remaining > 0 && report.violations == 0)
        s_pause (remaining);
    int64_t load_ms = tly_mono_ms () - start;
    if (report.violations == 0
        && !it_wait_actors (cluster->gateway, (uint32_t) scheduler.actor_count, S_RECOVER_MS))
        chaos_violation (&report, "the router does not report the %d actors running",
                         scheduler.actor_count);

    //  The clients' last resends and reads: each bounded by the send timeout.
    __atomic_store_n (&s_phase, 1, __ATOMIC_SEQ_CST);
    chaos_msgs_t history = { 0 };
    for (int i = 0; i < clients; i++) {
        CHECK (pthread_join (client [i].thread, NULL) == 0);
        chaos_report_t *own = &client [i].report;
        report.envelopes += own->envelopes;
        report.resent_bytes += own->resent_bytes;
        report.resent_sealed += own->resent_sealed;
        report.send_failures += own->send_failures;
        if (own->violations)
            chaos_violation (&report, "%s", own->first_violation);
        for (size_t m = 0; m < client [i].history.count; m++)
            *chaos_msgs_add (&history) = client [i].history.items [m];
        free (client [i].history.items);
    }
    free (client);
    //  The load is over: every watcher must reach the balance a read returns.
    __atomic_store_n (&s_phase, 2, __ATOMIC_SEQ_CST);
    for (int w = 0; w < S_WATCHERS; w++) {
        CHECK (pthread_join (watch [w].thread, NULL) == 0);
        report.watch_updates += watch [w].updates;
        report.watch_snapshots += watch [w].snapshots;
        report.watch_gaps += watch [w].stats.gaps;
        report.watch_resubscribes += watch [w].stats.resubscribes;
        if (watch [w].report.violations)
            chaos_violation (&report, "%s", watch [w].report.first_violation);
        for (size_t m = 0; m < watch [w].history.count; m++)
            *chaos_msgs_add (&history) = watch [w].history.items [m];
        free (watch [w].history.items);
    }

    if (tamper)
        for (size_t m = 0; m < history.count; m++)
            if (history.items [m].state == CHAOS_OK) {
                printf ("chaos: --tamper: one acknowledged answer changed; the check must fail\n");
                history.items [m].value++;
                break;
            }
    //  Each arming logs the first delay it makes: a slow disk that never
    //  slowed anything would be a fault not injected.
    report.slow_fired = (uint64_t) it_logged (cluster, "audit",
                                              "event=fault.injected point=journal.sync");
    if (report.faults [S_SLOW_DISK] >= 3 && report.slow_fired == 0)
        chaos_violation (&report, "the slow disk was armed %" PRIu64 " times and never fired",
                         report.faults [S_SLOW_DISK]);
    if (report.violations == 0)
        chaos_check (cluster, &history, &report);
    free (history.items);
    s_print (&report, load_ms, scheduler.actor_count);
    if (report.violations && !tamper)
        s_print_trails (&scheduler, watch, start + load_ms - s_start_ms);
    if (report.violations) {
        printf ("chaos: seed %" PRIu64 ": FAILED: %" PRIu64 " violations, the first: %s\n", seed,
                report.violations, report.first_violation);
        char dir [sizeof cluster->dir];
        snprintf (dir, sizeof dir, "%s", cluster->dir);
        it_cluster_abandon (&cluster);
        if (tamper)
            th_dir_remove (dir);  //  the failure was made on purpose
        else
            printf ("chaos: the cluster's data and logs are kept in %s\n", dir);
        return 1;
    }
    it_cluster_stop (&cluster);
    printf ("chaos: seed %" PRIu64 ": OK\n", seed);
    return 0;
}
